using Akka.Actor;

namespace TaskIsolation.Simulation;

/// <summary>
/// Base of every model actor. It sends through the <see cref="Simulation"/> (never a bare <c>Tell</c>), reports each
/// handled model message so concurrent mode knows when an instant is over, and turns a handler's exception into a
/// fault of the run instead of an Akka restart that would silently lose simulated state.
/// </summary>
public abstract class SimActor : UntypedActor
{
    // Self reads the current actor cell from thread-local storage on every call; a model actor sends several messages
    // per delivery, so it is read once, here (the constructor runs in the actor's cell). Controlled mode has no use for
    // the handled-message report, which only concurrent mode counts.
    private readonly IActorRef _self;
    private readonly bool _reportHandled;

    /// <summary>Creates the actor on <paramref name="simulation"/>.</summary>
    protected SimActor(Simulation simulation)
    {
        Sim = simulation;
        _self = Self;
        _reportHandled = simulation.Mode == ExecutionMode.Concurrent;
    }

    /// <summary>The simulation this actor belongs to.</summary>
    protected Simulation Sim { get; }

    /// <summary>Virtual time now.</summary>
    protected long Now => Sim.Now;

    /// <summary>Sends at the current instant.</summary>
    protected void Send(IActorRef to, IMachineMessage message) => Sim.Send(to, message, _self);

    /// <summary>Sends after <paramref name="delayNs"/> of virtual time; the handle lets the sender withdraw it (<see cref="Simulation.Cancel"/>).</summary>
    protected TimerHandle SendAfter(long delayNs, IActorRef to, IMachineMessage message) => Sim.SendAfter(delayNs, to, message, _self);

    /// <inheritdoc />
    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception ex)
        {
            Sim.Fault(_self, message, ex);
            return true;
        }
        finally
        {
            if (_reportHandled && message is IMachineMessage)
            {
                Sim.Handled(_self, message);
            }
        }
    }
}
