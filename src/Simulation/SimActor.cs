using Akka.Actor;

namespace TaskIsolation.Simulation;

/// <summary>
/// Base of every model actor. It sends through the <see cref="Simulation"/> (never a bare <c>Tell</c>), reports each
/// handled model message so concurrent mode knows when an instant is over, and turns a handler's exception into a
/// fault of the run instead of an Akka restart that would silently lose simulated state.
/// </summary>
public abstract class SimActor : UntypedActor
{
    /// <summary>Creates the actor on <paramref name="simulation"/>.</summary>
    protected SimActor(Simulation simulation) => Sim = simulation;

    /// <summary>The simulation this actor belongs to.</summary>
    protected Simulation Sim { get; }

    /// <summary>Virtual time now.</summary>
    protected long Now => Sim.Now;

    /// <summary>Sends at the current instant.</summary>
    protected void Send(IActorRef to, IMachineMessage message) => Sim.Send(to, message, Self);

    /// <summary>Sends after <paramref name="delayNs"/> of virtual time; the handle lets the sender withdraw it (<see cref="Simulation.Cancel"/>).</summary>
    protected TimerHandle SendAfter(long delayNs, IActorRef to, IMachineMessage message) => Sim.SendAfter(delayNs, to, message, Self);

    /// <inheritdoc />
    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception ex)
        {
            Sim.Fault(Self, message, ex);
            return true;
        }
        finally
        {
            if (message is IMachineMessage)
            {
                Sim.Handled(Self, message);
            }
        }
    }
}
