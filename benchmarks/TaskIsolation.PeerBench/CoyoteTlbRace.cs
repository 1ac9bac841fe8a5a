using Microsoft.Coyote.Actors;

namespace TaskIsolation.PeerBench;

/// <summary>The interrupt vectors the Coyote model delivers, as the project's model names them.</summary>
internal enum Vector
{
    /// <summary>CPU 3's scheduler tick (the residual tick, offloaded once isolation is on).</summary>
    Tick,

    /// <summary>The call-function IPI of a TLB shootdown (vector 252 on x86).</summary>
    CallFunctionIpi,

    /// <summary>The deferred vmstat_update work the vmstat worker queues on CPU 3.</summary>
    VmstatWork,
}

/// <summary>A timed step of a CPU ended (the model's self-message of a kernel or user stretch).</summary>
internal sealed class StepDone : Event
{
}

/// <summary>An interrupt reaching a CPU; <see cref="From"/> is told <see cref="IpiAck"/> for an IPI.</summary>
internal sealed class Irq(Vector vector, ActorId? from) : Event
{
    public Vector Vector { get; } = vector;

    public ActorId? From { get; } = from;
}

/// <summary>CPU 3 ran the IPI's function: the sender's <c>flush_tlb_mm_range()</c> stops waiting.</summary>
internal sealed class IpiAck : Event
{
}

/// <summary>Stop CPU 3's tick (isolation is being entered).</summary>
internal sealed class ShutdownTick(ActorId cpu) : Event
{
    public ActorId Cpu { get; } = cpu;
}

/// <summary>CPU 3's tick is stopped: no tick interrupt follows this message.</summary>
internal sealed class TickStopped : Event
{
}

/// <summary>CPU 3's vmstat counters were dirtied: the vmstat worker queues an update there.</summary>
internal sealed class VmstatDirtied(ActorId cpu) : Event
{
    public ActorId Cpu { get; } = cpu;
}

/// <summary>Quiet CPU 3's vmstat (isolation is being entered); the worker answers with the same message.</summary>
internal sealed class VmstatState(ActorId cpu) : Event
{
    public ActorId Cpu { get; } = cpu;
}

/// <summary>Who CPU 3 talks to.</summary>
internal sealed class Cpu3Setup(ActorId tick, ActorId vmstat, int iterations) : Event
{
    public ActorId Tick { get; } = tick;

    public ActorId Vmstat { get; } = vmstat;

    public int Iterations { get; } = iterations;
}

/// <summary>Where the sibling's shootdowns go.</summary>
internal sealed class SiblingSetup(ActorId cpu3, int munmaps) : Event
{
    public ActorId Cpu3 { get; } = cpu3;

    public int Munmaps { get; } = munmaps;
}

/// <summary>
/// CPU 3 running the isolated thread <c>iso</c> of scenarios/tlb-race.yaml: it dirties its vmstat counters, enters
/// isolation (<c>prctl</c>, NOSIG: it quiets vmstat and stops the tick and waits for both), then loops
/// <c>getpid</c> (kernel) and a compute stretch (user) and exits. A call-function IPI taken in user mode once isolated
/// is the violation: the assertion that fails is the finding.
/// </summary>
internal sealed class Cpu3Iso : StateMachine
{
    private ActorId? _tick;
    private ActorId? _vmstat;
    private int _iterations;
    private int _done;
    private bool _tickStopped;
    private bool _vmstatQuiet;
    private bool _isolated;

    /// <summary>Whether <c>iso</c> is isolated (NOSIG) and in user mode: what the violation needs.</summary>
    private bool InUserIsolated => _isolated && CurrentState == typeof(User);

    private void OnSetup(Event e)
    {
        var setup = (Cpu3Setup)e;
        (_tick, _vmstat, _iterations) = (setup.Tick, setup.Vmstat, setup.Iterations);

        // The clone of the sibling thread dirtied this CPU's counters; then prctl(PR_SET_TASK_ISOLATION, NOSIG).
        SendEvent(_vmstat, new VmstatDirtied(Id));
        SendEvent(_vmstat, new VmstatState(Id));
        SendEvent(_tick, new ShutdownTick(Id));
    }

    private void OnTickStopped()
    {
        _tickStopped = true;
        EnterIsolation();
    }

    private void OnVmstatQuiet()
    {
        _vmstatQuiet = true;
        EnterIsolation();
    }

    private void EnterIsolation()
    {
        if (_tickStopped && _vmstatQuiet)
        {
            _isolated = true;
            RaiseGotoStateEvent<Kernel>();
        }
    }

    private void OnIrq(Event e)
    {
        var irq = (Irq)e;
        Assert(!InUserIsolated || irq.Vector != Vector.CallFunctionIpi, "violation on cpu 3: call-function IPI (TLB shootdown) taken in user mode by isolated task iso");
        Assert(!InUserIsolated, $"violation on cpu 3: {irq.Vector} taken in user mode by isolated task iso");
        if (irq.From is { } from)
        {
            SendEvent(from, new IpiAck());
        }
    }

    private void StartStep() => SendEvent(Id, new StepDone());

    private void KernelDone() => RaiseGotoStateEvent<User>();

    private void UserDone()
    {
        _done++;
        if (_done < _iterations)
        {
            RaiseGotoStateEvent<Kernel>();
        }
        else
        {
            RaiseGotoStateEvent<Exited>();
        }
    }

    /// <summary>Booted, entering isolation: in the kernel, so every interrupt is harmless.</summary>
    [Start]
    [OnEntry(nameof(OnSetup))]
    [OnEventDoAction(typeof(TickStopped), nameof(OnTickStopped))]
    [OnEventDoAction(typeof(VmstatState), nameof(OnVmstatQuiet))]
    [OnEventDoAction(typeof(Irq), nameof(OnIrq))]
    private sealed class Prctl : State
    {
    }

    /// <summary>In <c>getpid</c>: an IPI is taken in the kernel, no violation.</summary>
    [OnEntry(nameof(StartStep))]
    [OnEventDoAction(typeof(StepDone), nameof(KernelDone))]
    [OnEventDoAction(typeof(Irq), nameof(OnIrq))]
    private sealed class Kernel : State
    {
    }

    /// <summary>The compute stretch in user mode: an IPI here is the violation.</summary>
    [OnEntry(nameof(StartStep))]
    [OnEventDoAction(typeof(StepDone), nameof(UserDone))]
    [OnEventDoAction(typeof(Irq), nameof(OnIrq))]
    private sealed class User : State
    {
    }

    /// <summary><c>iso</c> exited: CPU 3 is idle, an IPI in flight lands there harmlessly.</summary>
    [OnEventDoAction(typeof(Irq), nameof(OnIrq))]
    private sealed class Exited : State
    {
    }
}

/// <summary>
/// CPU 0 running the sibling thread: computes, then <c>munmap</c>s, whose <c>flush_tlb_mm_range()</c> sends the
/// call-function IPI to CPU 3 and waits for it; twice.
/// </summary>
[OnEventDoAction(typeof(StepDone), nameof(Munmap))]
[OnEventDoAction(typeof(IpiAck), nameof(Flushed))]
internal sealed class Cpu0Sibling : Actor
{
    private ActorId? _cpu3;
    private int _munmaps;
    private int _done;

    protected override Task OnInitializeAsync(Event initialEvent)
    {
        var setup = (SiblingSetup)initialEvent;
        (_cpu3, _munmaps) = (setup.Cpu3, setup.Munmaps);
        SendEvent(Id, new StepDone());
        return Task.CompletedTask;
    }

    private void Munmap() => SendEvent(_cpu3!, new Irq(Vector.CallFunctionIpi, Id));

    private void Flushed()
    {
        _done++;
        if (_done < _munmaps)
        {
            SendEvent(Id, new StepDone());
        }
        else
        {
            RaiseHaltEvent();
        }
    }
}

/// <summary>
/// CPU 3's tick: an interrupt per step, at most <see cref="CoyoteTlbRace.Ticks"/> (Coyote has no clock: without a bound
/// its tick would fire as often as the scheduler lets it), until isolation stops it (then <see cref="TickStopped"/>,
/// and no more).
/// </summary>
[OnEventDoAction(typeof(SiblingSetup), nameof(Start))]
[OnEventDoAction(typeof(StepDone), nameof(Fire))]
[OnEventDoAction(typeof(ShutdownTick), nameof(Stop))]
internal sealed class Cpu3Tick : Actor
{
    private ActorId? _cpu3;
    private int _fired;

    private void Start(Event e)
    {
        _cpu3 = ((SiblingSetup)e).Cpu3;
        SendEvent(Id, new StepDone());
    }

    private void Fire()
    {
        if (_cpu3 is not null && _fired < CoyoteTlbRace.Ticks)
        {
            _fired++;
            SendEvent(_cpu3, new Irq(Vector.Tick, null));
            SendEvent(Id, new StepDone());
        }
    }

    private void Stop(Event e)
    {
        SendEvent(((ShutdownTick)e).Cpu, new TickStopped());
        _cpu3 = null;
        RaiseHaltEvent();
    }
}

/// <summary>
/// The vmstat worker: a dirtied CPU gets a vmstat_update queued there; quieting a CPU (isolation) answers once the
/// work already queued is sent, so it reaches CPU 3 before the answer.
/// </summary>
[OnEventDoAction(typeof(VmstatDirtied), nameof(Dirtied))]
[OnEventDoAction(typeof(VmstatState), nameof(Quiet))]
internal sealed class VmstatWorker : Actor
{
    private void Dirtied(Event e) => SendEvent(((VmstatDirtied)e).Cpu, new Irq(Vector.VmstatWork, null));

    private void Quiet(Event e)
    {
        var cpu = ((VmstatState)e).Cpu;
        SendEvent(cpu, new VmstatState(cpu));
    }
}

/// <summary>The Coyote test: boots the four actors of the TLB race.</summary>
internal static class CoyoteTlbRace
{
    /// <summary>getpid/compute rounds of <c>iso</c>, as in scenarios/tlb-race.yaml.</summary>
    public const int Iterations = 60;

    /// <summary>The sibling's <c>munmap</c>s, as in scenarios/tlb-race.yaml.</summary>
    public const int Munmaps = 2;

    /// <summary>The most ticks CPU 3 takes: the scenario's 2 ms at HZ=1000.</summary>
    public const int Ticks = 2;

    /// <summary>Creates the actors and wires them; Coyote then runs them to quiescence under its scheduler.</summary>
    public static void Execute(IActorRuntime runtime)
    {
        var vmstat = runtime.CreateActor(typeof(VmstatWorker));
        var tick = runtime.CreateActor(typeof(Cpu3Tick));
        var cpu3 = runtime.CreateActor(typeof(Cpu3Iso), new Cpu3Setup(tick, vmstat, Iterations));
        runtime.SendEvent(tick, new SiblingSetup(cpu3, 0));
        runtime.CreateActor(typeof(Cpu0Sibling), new SiblingSetup(cpu3, Munmaps));
    }
}
