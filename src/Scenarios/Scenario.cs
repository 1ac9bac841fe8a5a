using System.Collections.Immutable;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using MachineArch = TaskIsolation.Machine.Arch.Arch;
using Sig = TaskIsolation.Machine.Abi.Signal;

namespace TaskIsolation.Scenarios;

/// <summary>
/// A machine and a workload as a user writes them in a scenario file (docs/model.md §2, docs/scenarios.md): the machine
/// (CPUs, arch, Kconfig, command line, sysctl, model switches), the tasks and their programs, the noise sources, how
/// long to run, and the expectations the run is judged by. Immutable and already validated: build one with
/// <see cref="ScenarioLoader"/>, write it back with <see cref="ScenarioWriter"/>.
/// </summary>
/// <remarks>
/// Two scenarios are equal when their canonical texts (<see cref="ScenarioWriter.Write"/>) are equal: programs hold
/// <see cref="ImmutableArray{T}"/>, which compares by reference, so the canonical text is the one honest notion of
/// "the same scenario" (and what <see cref="Hash"/> is taken of).
/// </remarks>
public sealed record Scenario
{
    /// <summary>Short name (the file name without extension when the file gives none).</summary>
    public required string Name { get; init; }

    /// <summary>What it shows, for people; may span lines.</summary>
    public string Description { get; init; } = string.Empty;

    /// <summary>Number of CPUs (<c>nr_cpus</c>), 1 to <see cref="CpuMask.MaxBits"/>.</summary>
    public int Cpus { get; init; } = 4;

    /// <summary>The architecture.</summary>
    public MachineArch Arch { get; init; } = MachineArch.X86_64;

    /// <summary>The Kconfig options, validated for <see cref="Arch"/>.</summary>
    public KernelConfig Config { get; init; } = KernelConfig.Default;

    /// <summary>The kernel command line, literally.</summary>
    public string Cmdline { get; init; } = string.Empty;

    /// <summary>sysctl settings.</summary>
    public Sysctl Sysctl { get; init; } = Sysctl.Default;

    /// <summary>The model's own switches, variant, liveness bound and timings.</summary>
    public ScenarioModel Model { get; init; } = new();

    /// <summary>Simulated time to run, in nanoseconds (more than 0).</summary>
    public long DurationNs { get; init; } = 1_000_000_000;

    /// <summary>The tasks started by the scenario, in file order.</summary>
    public ImmutableArray<ScenarioTask> Tasks { get; init; } = [];

    /// <summary>Noise sources: device IRQs, NMIs, periodic housekeeping activity, POSIX timers.</summary>
    public ImmutableArray<NoiseSource> Noise { get; init; } = [];

    /// <summary>
    /// What the noise table measures (<c>rtla osnoise</c>'s CPUs, period and warm-up, docs/reports.md); it changes
    /// nothing the machine does. Every CPU, one-second periods, no warm-up by default.
    /// </summary>
    public OsnoiseSettings Osnoise { get; init; } = OsnoiseSettings.Default;

    /// <summary>
    /// Properties checked at every event of the run (<c>monitors:</c>, docs/scenarios.md): each failure is a finding like
    /// a violation, with a chain, a reproducer and a signature.
    /// </summary>
    public ImmutableArray<ScenarioMonitor> Monitors { get; init; } = [];

    /// <summary>What must hold at the end of the run.</summary>
    public ImmutableArray<Expectation> Expectations { get; init; } = [];

    /// <summary>SHA-256 of the canonical text, lower-case hex: a stable identity for caches and reproducers.</summary>
    public string Hash => ScenarioWriter.Hash(this);

    /// <inheritdoc />
    public bool Equals(Scenario? other) =>
        other is not null && (ReferenceEquals(this, other) || ScenarioWriter.Write(this) == ScenarioWriter.Write(other));

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ScenarioWriter.Write(this));

    /// <summary>Every task name the scenario declares: tasks, their forks and threads (recursively), periodic noise.</summary>
    public IEnumerable<string> TaskNames()
    {
        foreach (var t in Tasks)
        {
            yield return t.Name;
            foreach (var n in SpawnedNames(t.Program))
            {
                yield return n;
            }
        }

        foreach (var n in Noise)
        {
            if (n is PeriodicNoise p)
            {
                yield return p.Name;
                foreach (var s in SpawnedNames(p.Program))
                {
                    yield return s;
                }
            }
            else if (n is PosixTimerNoise pt)
            {
                yield return pt.Name;
            }
        }
    }

    /// <summary>The names given to <see cref="Spawn"/> steps anywhere in <paramref name="program"/>.</summary>
    public static IEnumerable<string> SpawnedNames(ImmutableArray<Operation> program)
    {
        foreach (var op in program)
        {
            switch (op)
            {
                case Spawn s:
                    yield return s.Comm;
                    foreach (var n in SpawnedNames(s.Program))
                    {
                        yield return n;
                    }

                    break;
                case Loop l:
                    foreach (var n in SpawnedNames(l.Body))
                    {
                        yield return n;
                    }

                    break;
                case Sigaction sa:
                    foreach (var n in SpawnedNames(sa.Handler))
                    {
                        yield return n;
                    }

                    break;
            }
        }
    }
}

/// <summary>The <c>model:</c> section: switches that are the model's own, not kernel settings (docs/model.md §2).</summary>
public sealed record ScenarioModel
{
    /// <summary>Residual tick and §9 mitigations.</summary>
    public ModelSwitches Switches { get; init; } = new();

    /// <summary>Kernel variant (§10).</summary>
    public KernelVariant Variant { get; init; } = KernelVariant.V13;

    /// <summary>Simulated costs of kernel paths.</summary>
    public ModelTimings Timings { get; init; } = new();

    /// <summary>Bound of the liveness monitor: a task out of user mode must get back within it (docs/model.md §7).</summary>
    public long LivenessBoundNs { get; init; } = 100_000_000;

    /// <summary>
    /// The most deliveries one simulated instant may hold (<c>max_instant_deliveries</c>): past it the run stops with a
    /// no-progress finding (docs/model.md §12).
    /// </summary>
    public long MaxInstantDeliveries { get; init; } = TaskIsolation.Simulation.Simulation.DefaultMaxInstantDeliveries;
}

/// <summary>A task the scenario starts.</summary>
/// <param name="Name">Command name (comm), unique in the scenario.</param>
/// <param name="Affinity">CPUs it may run on; it starts on the first.</param>
/// <param name="Policy">Scheduling policy.</param>
/// <param name="StartNs">When it is started, in simulated time since boot.</param>
/// <param name="Program">What it does.</param>
public sealed record ScenarioTask(string Name, CpuMask Affinity, SchedPolicy Policy, long StartNs, ImmutableArray<Operation> Program);

/// <summary>Something that interrupts or disturbs the machine on its own schedule.</summary>
public abstract record NoiseSource
{
    /// <summary>One line for people: <c>irq 24 (eth0) every 1ms on 0</c>.</summary>
    public abstract string Describe();
}

/// <summary>A device interrupt line firing periodically (docs/model.md §5 "device interrupts").</summary>
/// <param name="Irq">IRQ number.</param>
/// <param name="Name">Handler name as <c>/proc/interrupts</c> shows it.</param>
/// <param name="Affinity">Its affinity; null means the boot default (<c>irqaffinity=</c>).</param>
/// <param name="PeriodNs">Time between two interrupts.</param>
/// <param name="FirstAtNs">Time of the first one.</param>
public sealed record IrqNoise(int Irq, string Name, CpuMask? Affinity, long PeriodNs, long FirstAtNs) : NoiseSource
{
    /// <inheritdoc />
    public override string Describe() =>
        $"irq {Irq} ({Name}) every {Durations.Format(PeriodNs)} on {(Affinity is null ? "the default affinity" : "CPUs " + Affinity.ToList())}";
}

/// <summary>NMIs (a perf counter overflow, a watchdog) on some CPUs, periodically.</summary>
public sealed record NmiNoise(CpuMask Cpus, long PeriodNs, long FirstAtNs) : NoiseSource
{
    /// <inheritdoc />
    public override string Describe() => $"NMI every {Durations.Format(PeriodNs)} on CPUs {Cpus.ToList()}";
}

/// <summary>
/// Housekeeping activity: a task on <see cref="Cpus"/> that sleeps <see cref="EveryNs"/>, runs
/// <see cref="Program"/>, and goes round forever (a <c>munmap</c> or <c>mlock</c> caller, a logger's writes).
/// </summary>
public sealed record PeriodicNoise(string Name, CpuMask Cpus, long EveryNs, long StartNs, ImmutableArray<Operation> Program) : NoiseSource
{
    /// <inheritdoc />
    public override string Describe() =>
        $"{Name} on CPUs {Cpus.ToList()} every {Durations.Format(EveryNs)}: {string.Join(", ", Program.Select(o => o.Describe()))}";

    /// <summary>The task it stands for: <c>loop forever { nanosleep(every); program }</c>.</summary>
    public ScenarioTask ToTask() =>
        new(Name, Cpus, SchedPolicy.Normal, StartNs, [new Loop(-1, [new Sleep(EveryNs), .. Program])]);
}

/// <summary>
/// A task on <see cref="Cpus"/> that arms a POSIX CPU timer every <see cref="EveryNs"/> and burns CPU until it
/// expires: each arming sets the POSIX_TIMER tick dependency, which 4.7 kicks to every nohz_full CPU (§9 R3).
/// </summary>
public sealed record PosixTimerNoise(string Name, CpuMask Cpus, long EveryNs, long ExpiresNs, int Signal, bool PerProcess, long StartNs) : NoiseSource
{
    /// <inheritdoc />
    public override string Describe() =>
        $"{Name} on CPUs {Cpus.ToList()} arms a POSIX CPU timer ({Durations.Format(ExpiresNs)}, {Sig.Name(Signal)}) every {Durations.Format(EveryNs)}";

    /// <summary>The task it stands for: a handler for the signal, then <c>loop forever { nanosleep; timer_settime; compute }</c>.</summary>
    public ScenarioTask ToTask() =>
        new(Name, Cpus, SchedPolicy.Normal, StartNs,
        [
            new Sigaction(Signal, []),
            new Loop(-1, [new Sleep(EveryNs), new ArmPosixTimer(ExpiresNs, Signal, PerProcess), new Compute(ExpiresNs + 1_000)]),
        ]);
}
