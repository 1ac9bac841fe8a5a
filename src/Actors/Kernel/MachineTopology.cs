using System.Collections.Concurrent;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Actors.Kernel;

/// <summary>
/// What every actor of one simulated machine shares and never changes after boot: the booted configuration, the
/// actor references of its parts, the racily shared kernel memory and the event sink.
/// </summary>
internal sealed class MachineTopology
{
    /// <summary>Number of CPUs.</summary>
    public required int NrCpus { get; init; }

    /// <summary>Architecture facts.</summary>
    public required ArchInfo Arch { get; init; }

    /// <summary>CONFIG_HZ.</summary>
    public required int Hz { get; init; }

    /// <summary>Full-dynticks CPUs.</summary>
    public required CpuMask NohzFull { get; init; }

    /// <summary>CPUs where a task may enable isolation.</summary>
    public required CpuMask TaskIsolation { get; init; }

    /// <summary>Housekeeping CPUs (not nohz_full).</summary>
    public required CpuMask Housekeeping { get; init; }

    /// <summary><c>CONFIG_TASK_ISOLATION</c>: without it the prctl's task-isolation cases are compiled out.</summary>
    public bool TaskIsolationConfigured { get; init; } = true;

    /// <summary>The <c>task_isolation_debug</c> boot flag.</summary>
    public required bool TaskIsolationDebug { get; init; }

    /// <summary><c>vm.stat_interval</c>, in nanoseconds.</summary>
    public required long StatIntervalNs { get; init; }

    /// <summary>Kernel variant (v13 or v16).</summary>
    public KernelVariant Variant { get; init; } = KernelVariant.V13;

    /// <summary>Model switches.</summary>
    public required ModelSwitches Switches { get; init; }

    /// <summary>Simulated costs.</summary>
    public required ModelTimings Timings { get; init; }

    /// <summary>Shared kernel memory.</summary>
    public required KernelMemory Memory { get; init; }

    /// <summary>
    /// Where events go. The recorder itself, not <see cref="IEventSink"/>: every timed step publishes, and the call
    /// through the interface went by the runtime's interface dispatch stubs, about 7 % of an exploration schedule's
    /// run (docs/performance.md, issue 19's exploration rate); a sealed class is called directly.
    /// </summary>
    public required EventRecorder Events { get; init; }

    /// <summary>The CPU actors, by CPU number (filled at boot, before anything runs).</summary>
    public IActorRef[] Cpus { get; } = [];

    /// <summary>Tick period in nanoseconds.</summary>
    public long TickPeriodNs => 1_000_000_000L / Hz;

    /// <summary>Creates the arrays for <paramref name="nrCpus"/>.</summary>
    public MachineTopology(int nrCpus)
    {
        Cpus = new IActorRef[nrCpus];
        VmstatWorkers = new IActorRef[nrCpus];
    }

    /// <summary>The vmstat worker actors, by CPU.</summary>
    public IActorRef[] VmstatWorkers { get; }

    /// <summary>
    /// Each live task's user space (its program's actor), by pid: the kernel's <see cref="TaskStruct"/> holds no actor,
    /// so whichever CPU runs the task finds its program here. Added before the task is first queued, removed at exit.
    /// </summary>
    public ConcurrentDictionary<int, IActorRef> TaskActors { get; } = new();
}

/// <summary>Receives every event the machine's actors publish (the recorder, the monitors, the Akka event stream).</summary>
internal interface IEventSink
{
    /// <summary>Publishes <paramref name="e"/>. Thread-safe: concurrent mode calls it from many threads.</summary>
    void Publish(MachineEvent e);
}
