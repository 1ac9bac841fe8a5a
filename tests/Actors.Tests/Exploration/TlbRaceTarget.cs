using System.Globalization;
using System.Text;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Actors.Tests.Exploration;

/// <summary>
/// §9 R9 as a race, built in C#: on a 4-CPU box with CPUs 1-3 isolated, a NOSIG task on CPU 3 loops short system
/// calls with short user-mode stretches between them, while a sibling thread on CPU 0 calls <c>munmap</c> now and
/// then. Each munmap's TLB shootdown IPI reaches CPU 3 either while the task is in the kernel (harmless) or in user
/// mode (a violation), depending on IPI jitter and on how earlier interrupts shifted the task: a genuine
/// interleaving race, not a certainty. The text is a few <c>key=value</c> lines; <see cref="Parse"/> reads it back.
/// </summary>
internal sealed record TlbRaceTarget : IExplorationTarget
{
    public const string TargetKind = "test-tlb-race";

    public ArchKind Arch { get; init; } = ArchKind.X86_64;

    public bool DeferredTlbFlush { get; init; }

    /// <summary>munmap calls of the sibling.</summary>
    public int Munmaps { get; init; } = 2;

    /// <summary>Sibling's user time before each munmap.</summary>
    public long SiblingComputeNs { get; init; } = 37_000;

    /// <summary>Iterations of the isolated task's syscall loop.</summary>
    public int Iterations { get; init; } = 60;

    /// <summary>Kernel work of each getpid.</summary>
    public long SyscallNs { get; init; } = 3_000;

    /// <summary>User time between system calls: the window the IPI must hit.</summary>
    public long UserNs { get; init; } = 150;

    public long DurationNs { get; init; } = 2_000_000;

    public string Name => $"tlb-race ({Arch.ToString().ToLowerInvariant()}{(DeferredTlbFlush ? ", deferred TLB flush" : string.Empty)})";

    public string Kind => TargetKind;

    public string Text => string.Create(CultureInfo.InvariantCulture, $"""
        arch={(Arch == ArchKind.Arm64 ? "arm64" : "x86_64")}
        deferred_tlb_flush={(DeferredTlbFlush ? "true" : "false")}
        munmaps={Munmaps}
        sibling_compute_ns={SiblingComputeNs}
        iterations={Iterations}
        syscall_ns={SyscallNs}
        user_ns={UserNs}
        duration_ns={DurationNs}

        """);

    public string Hash => TargetHash.Of(Text);

    public static TlbRaceTarget Parse(string text)
    {
        var t = new TlbRaceTarget();
        foreach (var raw in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                throw new FormatException($"tlb-race: not key=value: '{raw}'");
            }

            var (key, value) = (raw[..eq], raw[(eq + 1)..]);
            long Num() => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"tlb-race: {key}: not a number: '{value}'");
            t = key switch
            {
                "arch" => t with { Arch = value == "arm64" ? ArchKind.Arm64 : value == "x86_64" ? ArchKind.X86_64 : throw new FormatException($"tlb-race: arch '{value}'") },
                "deferred_tlb_flush" => t with { DeferredTlbFlush = value == "true" },
                "munmaps" => t with { Munmaps = (int)Num() },
                "sibling_compute_ns" => t with { SiblingComputeNs = Num() },
                "iterations" => t with { Iterations = (int)Num() },
                "syscall_ns" => t with { SyscallNs = Num() },
                "user_ns" => t with { UserNs = Num() },
                "duration_ns" => t with { DurationNs = Num() },
                _ => throw new FormatException($"tlb-race: unknown key '{key}'"),
            };
        }

        return t;
    }

    public static IExplorationTarget Load(string kind, string text) =>
        kind == TargetKind ? Parse(text) : throw new FormatException($"not a {TargetKind} target: '{kind}'");

    public SimulatedMachine Run(ActorSystem system, ISchedulingStrategy strategy, long maxSteps, Func<SimulatedMachine, bool> stop)
    {
        var m = SimulatedMachine.Boot(
            system,
            BootedMachine.Boot(4, Arch, KernelConfig.Default, "nohz_full=1-3 isolcpus=1-3 task_isolation=1-3"),
            new MachineOptions { Mode = ExecutionMode.Controlled, Strategy = strategy, Switches = new ModelSwitches { DeferredTlbFlush = DeferredTlbFlush, ResidualTick = ResidualTick.Offloaded } });
        m.Start(new TaskSpec("iso", CpuMask.Single(4, 3), [
            new Spawn("sibling", [new SetAffinity(CpuMask.Single(4, 0)), new Loop(Munmaps, [new Compute(SiblingComputeNs), new Munmap(0x1000)]), new Exit(0)], Thread: true),
            new Prctl(PrctlOptions.SetTaskIsolation, 1 | 2),
            new Loop(Iterations, [new Syscall("getpid", WorkNs: SyscallNs), new Compute(UserNs)]),
            new Exit(0),
        ]));
        m.Simulation.MaxDeliveries = maxSteps;
        try
        {
            m.RunFor(DurationNs, () => stop(m));
        }
        catch
        {
            m.Shutdown();
            throw;
        }

        return m;
    }

    public IEnumerable<IExplorationTarget> Shrinks()
    {
        if (Munmaps > 1)
        {
            yield return this with { Munmaps = 1 };
            yield return this with { Munmaps = Munmaps / 2 };
            yield return this with { Munmaps = Munmaps - 1 };
        }

        if (Iterations > 1)
        {
            yield return this with { Iterations = Iterations / 2 };
            yield return this with { Iterations = Iterations - 1 };
        }

        if (DurationNs > 1_000)
        {
            yield return this with { DurationNs = DurationNs / 2 };
        }
    }

    public override string ToString() => new StringBuilder(Name).Append(": ").Append(Text.ReplaceLineEndings(" ")).ToString();
}
