using Akka.Actor;
using TaskIsolation.Actors.Cpu;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Simulation;
using TaskIsolation.Machine.Abi;

namespace TaskIsolation.Actors.Tick;

/// <summary>Messages a tick source (clockevent device) handles.</summary>
public interface ITickProtocol : IMachineMessage;

/// <summary>Tick every period, on jiffy boundaries (periodic / high-res tick emulation).</summary>
public sealed record StartPeriodic(long Cause, long Generation) : ITickProtocol;

/// <summary>One event at <paramref name="AtNs"/> (a stopped tick's next deadline: the residual tick).</summary>
public sealed record ProgramOneshot(long Cause, long Generation, long AtNs) : ITickProtocol;

/// <summary>No more events (oneshot-stopped, where the hardware has it).</summary>
public sealed record ShutdownTick(long Cause, long Generation) : ITickProtocol;

/// <summary>Self-message: the programmed expiry.</summary>
public sealed record Expire(long Cause, long Generation, long Serial) : ITickProtocol;

/// <summary>
/// A CPU's local timer (clockevent device). The CPU programs it; at each expiry it raises a local timer interrupt on
/// the CPU. Reprogramming cancels what was programmed before — except on tile, whose device has no oneshot-stopped
/// state: shutting it down leaves the last programmed expiry to fire once (§9 R5).
/// </summary>
internal sealed class TickSourceActor : SimActor
{
    private readonly MachineTopology _m;
    private readonly IActorRef _cpu;
    private readonly bool _oneshotStopped;
    private long _gen;
    private long _serial;
    private bool _periodic;
    private bool _residual;
    private long _armedAt = long.MaxValue;

    public TickSourceActor(Simulation.Simulation sim, MachineTopology machine, IActorRef cpuRef)
        : base(sim)
    {
        _m = machine;
        _cpu = cpuRef;
        _oneshotStopped = machine.Arch.ClockeventHasOneshotStopped || machine.Switches.TileOneshotStoppedFix;
    }

    public static Props Props(Simulation.Simulation sim, MachineTopology machine, IActorRef cpuRef) =>
        Akka.Actor.Props.Create(() => new TickSourceActor(sim, machine, cpuRef)).WithDispatcher(sim.Dispatcher);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case StartPeriodic p:
                _gen = p.Generation;
                _periodic = true;
                _residual = false;
                Arm(p.Cause, NextJiffy());
                break;
            case ProgramOneshot o:
                _gen = o.Generation;
                _periodic = false;
                _residual = true;
                Arm(o.Cause, o.AtNs);
                break;
            case ShutdownTick s:
                _gen = s.Generation;
                _periodic = false;
                if (_oneshotStopped || _armedAt == long.MaxValue)
                {
                    _armedAt = long.MaxValue;
                    _serial++;
                }

                break;
            case Expire e when e.Serial == _serial:
                Fire(e);
                break;
            case Expire:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Fire(Expire e)
    {
        _armedAt = long.MaxValue;
        if (e.Generation != _gen)
        {
            // Shut down without oneshot-stopped: the comparator still fires, and the CPU takes a timer interrupt
            // that no one asked for.
            Send(_cpu, new Irq(e.Cause, InterruptKind.StaleTimer, "stale timer (no oneshot-stopped)", -1));
            return;
        }

        Send(_cpu, new Irq(e.Cause, _residual ? InterruptKind.ResidualTick : InterruptKind.Tick, _residual ? "residual 1Hz tick" : "local timer (tick)", -1, new TickPayload(_gen, _residual)));
        if (_periodic)
        {
            Arm(e.Cause, Now + _m.TickPeriodNs);
        }
    }

    private void Arm(long cause, long at)
    {
        _serial++;
        _armedAt = at;
        SendAfter(Math.Max(1, at - Now), Self, new Expire(cause, _gen, _serial));
    }

    /// <summary>Ticks fall on jiffy boundaries, the same instants on every CPU (skew_tick=0, the default).</summary>
    private long NextJiffy()
    {
        var period = _m.TickPeriodNs;
        return ((Now / period) + 1) * period;
    }
}
