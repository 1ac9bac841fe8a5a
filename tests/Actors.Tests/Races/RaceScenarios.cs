using System.Collections.Immutable;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Noise;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>
/// One race of docs/model.md §9 as a machine and a workload, with and without its mitigation: small enough to port to a
/// YAML scenario (command line, arch, switches, tasks and their programs, noise sources, run length).
/// </summary>
/// <param name="Id">The §9 id.</param>
/// <param name="Arch">Architecture.</param>
/// <param name="Cmdline">Kernel command line.</param>
/// <param name="Switches">Model switches without the mitigation.</param>
/// <param name="Mitigated">Model switches with it.</param>
/// <param name="Tasks">Tasks started at boot.</param>
/// <param name="RunNs">Simulated time to run: just past the racy window.</param>
/// <param name="Nmis">NMI sources.</param>
internal sealed record RaceScenario(
    string Id,
    ArchKind Arch,
    string Cmdline,
    ModelSwitches Switches,
    ModelSwitches? Mitigated,
    ImmutableArray<TaskSpec> Tasks,
    long RunNs,
    ImmutableArray<NmiSpec> Nmis = default)
{
    /// <summary>Boots the machine under the controlled random strategy with <paramref name="seed"/> and starts the workload.</summary>
    public SimulatedMachine Boot(ActorSystem sys, int seed, bool mitigated)
    {
        var switches = mitigated ? Mitigated ?? throw new InvalidOperationException($"{Id} has no mitigation") : Switches;
        var m = SimulatedMachine.Boot(
            sys,
            BootedMachine.Boot(4, Arch, KernelConfig.Default, Cmdline),
            new MachineOptions { Mode = ExecutionMode.Controlled, Seed = seed, Switches = switches });
        foreach (var nmi in Nmis.IsDefault ? [] : Nmis)
        {
            m.AddNmi(nmi);
        }

        foreach (var t in Tasks)
        {
            m.Start(t);
        }

        return m;
    }
}

/// <summary>The races the model produces today.</summary>
internal static class RaceScenarios
{
    public const string Cmdline = "nohz_full=1-3 isolcpus=1-3 task_isolation=1-3";
    private const long S0ComputeNs = 13_984_500;
    private const long S1ComputeNs = 14_000_000;
    private static readonly ModelSwitches Offloaded = new() { ResidualTick = ResidualTick.Offloaded };

    private static CpuMask Cpu(int cpu) => CpuMask.Single(4, cpu);

    /// <summary>R3: a housekeeping task arms a per-thread POSIX CPU timer; 4.7 kicks every nohz_full CPU with irq_work.</summary>
    public static RaceScenario R3 => new(
        "R3",
        ArchKind.X86_64,
        Cmdline,
        Offloaded,
        Offloaded with { TargetedTickDepKick = true },
        [
            new TaskSpec("iso", Cpu(3), [new Prctl(PrctlOptions.SetTaskIsolation, Machines.Enable), new Compute(20_000_000)]),
            new TaskSpec("hk", Cpu(0), [new Compute(3_000_000), new ArmPosixTimer(1_000_000_000, 14)]),
        ],
        6_000_000);

    /// <summary>R4: 4.7's residual 1 Hz tick on a busy nohz_full CPU.</summary>
    public static RaceScenario R4 => new(
        "R4",
        ArchKind.X86_64,
        Cmdline,
        new ModelSwitches { ResidualTick = ResidualTick.OneHz },
        Offloaded,
        [new TaskSpec("iso", Cpu(3), [new Prctl(PrctlOptions.SetTaskIsolation, Machines.Enable), new Compute(2_000_000_000)])],
        1_100_000_000);

    /// <summary>R5: tile's clockevent has no oneshot-stopped state; the last programmed tick fires after the stop.</summary>
    public static RaceScenario R5 => new(
        "R5",
        ArchKind.Tile,
        Cmdline,
        Offloaded,
        Offloaded with { TileOneshotStoppedFix = true },
        [new TaskSpec("iso", Cpu(3), [new Prctl(PrctlOptions.SetTaskIsolation, Machines.Enable), new Compute(20_000_000)])],
        10_000_000);

    /// <summary>R9: a sibling thread on a housekeeping CPU munmaps; the TLB shootdown IPI reaches the isolated thread.</summary>
    public static RaceScenario R9 => new(
        "R9",
        ArchKind.X86_64,
        Cmdline,
        Offloaded,
        Offloaded with { DeferredTlbFlush = true },
        [
            new TaskSpec("iso", Cpu(3), [
                new Spawn("sibling", [new SetAffinity(Cpu(0)), new Compute(4_000_000), new Munmap(0x1000), new Exit(0)], Thread: true),
                new Compute(6_000_000), // the sibling runs when this one's slice ends, and leaves
                new Prctl(PrctlOptions.SetTaskIsolation, Machines.Enable),
                new Compute(20_000_000),
            ]),
        ],
        12_000_000);

    /// <summary>
    /// R14: two sibling threads, on CPU 0 and CPU 1, munmap at about the same time: two TLB shootdown IPIs reach the
    /// isolated thread, both senders see it isolated in user mode, but only the first report clears the flags and signals.
    /// </summary>
    public static RaceScenario R14 => new(
        "R14",
        ArchKind.X86_64,
        Cmdline,
        Offloaded,
        null,
        [
            new TaskSpec("iso", Cpu(3), [
                new Spawn("s0", [new SetAffinity(Cpu(0)), new Compute(S0ComputeNs), new Munmap(0x1000), new Exit(0)], Thread: true),
                new Spawn("s1", [new SetAffinity(Cpu(1)), new Compute(S1ComputeNs), new Munmap(0x2000), new Exit(0)], Thread: true),
                new Compute(12_000_000), // both siblings run when this one's slices end, and leave
                new Prctl(PrctlOptions.SetTaskIsolation, Machines.Enable),
                new Compute(20_000_000),
            ]),
        ],
        30_000_000);

    /// <summary>R12: an NMI (watchdog) on the isolated CPU: no signal can be sent from it, the kernel dumps.</summary>
    public static RaceScenario R12 => new(
        "R12",
        ArchKind.X86_64,
        Cmdline,
        Offloaded,
        null,
        [new TaskSpec("iso", Cpu(3), [new Prctl(PrctlOptions.SetTaskIsolation, Machines.Enable), new Compute(20_000_000)])],
        6_000_000,
        [new NmiSpec(Cpu(3), PeriodNs: 4_000_000, FirstAtNs: 3_000_000)]);

    /// <summary>R11: a housekeeping task signals the isolated task: one signal, the user's; no isolation report on top.</summary>
    public static RaceScenario R11 => new(
        "R11",
        ArchKind.X86_64,
        Cmdline,
        Offloaded,
        null,
        [
            new TaskSpec("iso", Cpu(3), [new Prctl(PrctlOptions.SetTaskIsolation, Machines.Enable), new Compute(20_000_000)]),
            new TaskSpec("hk", Cpu(0), [new Compute(3_000_000), new TaskIsolation.Machine.Programs.Kill("iso", 10)]),
        ],
        6_000_000);

    /// <summary>R15: the exempt syscalls (<c>prctl</c>, <c>exit_group</c>) while isolated: no signal.</summary>
    public static RaceScenario R15 => new(
        "R15",
        ArchKind.X86_64,
        Cmdline,
        Offloaded,
        null,
        [new TaskSpec("iso", Cpu(3), [new Prctl(PrctlOptions.SetTaskIsolation, Machines.Enable), new Compute(2_000_000), new Prctl(PrctlOptions.GetTaskIsolation, 0), new Exit(0)])],
        6_000_000);
}
