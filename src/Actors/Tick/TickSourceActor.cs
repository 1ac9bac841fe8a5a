using Akka.Actor;
using TaskIsolation.Actors.Cpu;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Events;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tick;

/// <summary>Messages a tick source (clockevent device) handles.</summary>
internal interface ITickProtocol : IMachineMessage;

/// <summary>Tick every period, on jiffy boundaries (periodic / high-res tick emulation).</summary>
internal sealed record StartPeriodic(long Cause, long Generation) : ITickProtocol;

/// <summary>One event at <paramref name="AtNs"/> (a stopped tick's next deadline: the residual tick).</summary>
internal sealed record ProgramOneshot(long Cause, long Generation, long AtNs) : ITickProtocol;

/// <summary>No more events (oneshot-stopped, where the hardware has it).</summary>
internal sealed record ShutdownTick(long Cause, long Generation) : ITickProtocol;

/// <summary>
/// Self-message: a periodic tick's programmed expiries are running out; program the next ones. Due at the last one
/// programmed, so a periodic tick costs one message per expiry (the interrupt itself) plus one per batch.
/// </summary>
internal sealed record TickRefill(long Cause, long Serial) : ITickProtocol;

/// <summary>
/// A CPU's local timer (clockevent device). The CPU programs it; at each expiry it raises a local timer interrupt on
/// the CPU. Reprogramming cancels what was programmed before — except on tile, whose device has no oneshot-stopped
/// state: shutting it down leaves the last programmed expiry to fire once (§9 R5).
/// <para>
/// Expiries are programmed as timed interrupts straight to the CPU (no self-message in between): a periodic tick
/// programs its next expiries in batches (2, 4, … up to <see cref="MaxBatch"/> jiffies ahead) and withdraws the
/// ones not yet due when it is reprogrammed or shut down, as <c>hrtimer_cancel()</c> would.
/// </para>
/// </summary>
internal sealed class TickSourceActor : SimActor
{
    /// <summary>The most expiries of a periodic tick programmed ahead.</summary>
    internal const int MaxBatch = 32;

    private const int FirstBatch = 2;

    private readonly MachineTopology _m;
    private readonly IActorRef _cpu;
    private readonly bool _oneshotStopped;
    private readonly Queue<TimerHandle> _pending = new();
    private TimerHandle _refill;
    private Irq? _tickIrq;
    private bool _staleArmed;
    private long _gen;
    private long _serial;
    private long _cause;
    private bool _periodic;
    private long _nextAt;
    private int _batch;

    public TickSourceActor(Simulation.Simulation sim, MachineTopology machine, IActorRef cpuRef)
        : base(sim)
    {
        _m = machine;
        _cpu = cpuRef;
        _oneshotStopped = machine.Arch.ClockeventHasOneshotStopped || machine.Switches.TileOneshotStoppedFix;
    }

    public static Props Props(Simulation.Simulation sim, MachineTopology machine, IActorRef cpuRef) =>
        ModelProps.Of(() => new TickSourceActor(sim, machine, cpuRef), sim.Dispatcher);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case StartPeriodic p:
                Reprogram(p.Cause, p.Generation, residual: false);
                _periodic = true;
                _nextAt = NextJiffy();
                _batch = FirstBatch;
                ProgramBatch();
                break;
            case ProgramOneshot o:
                Reprogram(o.Cause, o.Generation, residual: true);
                _periodic = false;
                _pending.Enqueue(SendAfter(Math.Max(1, o.AtNs - Now), _cpu, _tickIrq!));
                break;
            case ShutdownTick s:
                _gen = s.Generation;
                _periodic = false;
                _serial++;
                Sim.Cancel(_refill);
                if (_oneshotStopped)
                {
                    CancelPending();
                }
                else
                {
                    LeaveOneStale(s.Cause);
                }

                break;
            case TickRefill r when r.Serial == _serial && _periodic:
                ProgramBatch();
                break;
            case TickRefill:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>New programming: withdraw everything programmed before; the interrupt every expiry now raises.</summary>
    private void Reprogram(long cause, long generation, bool residual)
    {
        CancelPending();
        Sim.Cancel(_refill);
        _serial++;
        _gen = generation;
        _cause = cause;
        _staleArmed = false;
        _tickIrq = new Irq(cause, residual ? TimerExpiry.ResidualTick : TimerExpiry.Tick, -1, new TickPayload(generation, residual));
    }

    /// <summary>The next expiries of the periodic tick, one period apart, and a refill due with the last of them.</summary>
    private void ProgramBatch()
    {
        DropPast();
        var period = _m.TickPeriodNs;
        var last = _nextAt;
        for (var i = 0; i < _batch; i++)
        {
            _pending.Enqueue(SendAfter(_nextAt - Now, _cpu, _tickIrq!));
            last = _nextAt;
            _nextAt += period;
        }

        _refill = SendAfter(last - Now, Self, new TickRefill(_cause, _serial));
        _batch = Math.Min(MaxBatch, _batch * 2);
    }

    /// <summary>
    /// Shut down without oneshot-stopped (tile): the comparator still holds the next programmed expiry, which fires
    /// once, and the CPU takes a timer interrupt that no one asked for. Later programmed expiries are gone. The stale
    /// expiry is caused by the shutdown (<paramref name="cause"/>: the tick stop that left it), not by the periodic tick.
    /// </summary>
    private void LeaveOneStale(long cause)
    {
        DropPast();
        if (_pending.Count == 0 || _staleArmed)
        {
            return;
        }

        var next = _pending.Peek();
        CancelPending();
        _pending.Enqueue(SendAfter(next.DueNs - Now, _cpu, new Irq(cause, TimerExpiry.StaleTimer, -1)));
        _staleArmed = true;
    }

    private void CancelPending()
    {
        while (_pending.Count > 0)
        {
            Sim.Cancel(_pending.Dequeue());
        }
    }

    /// <summary>Forgets expiries whose time has come (already on their way to the CPU).</summary>
    private void DropPast()
    {
        while (_pending.Count > 0 && _pending.Peek().DueNs <= Now)
        {
            _pending.Dequeue();
        }
    }

    /// <summary>Ticks fall on jiffy boundaries, the same instants on every CPU (skew_tick=0, the default).</summary>
    private long NextJiffy()
    {
        var period = _m.TickPeriodNs;
        return ((Now / period) + 1) * period;
    }
}
