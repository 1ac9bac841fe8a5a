using System.Collections.Immutable;
using System.Globalization;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Scenarios;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Host.Bench;

/// <summary>A machine the benchmark boots, and how: a session that starts its tasks at their times.</summary>
/// <param name="Name">Short name, as the table and the JSON show it.</param>
/// <param name="Description">One line: CPUs, HZ, what runs.</param>
/// <param name="Start">Boots the machine in an actor system with the given options (mode, seed and ring are the bench's)
/// and returns its session, noise sources added and tasks queued.</param>
/// <param name="Options">Model switches and timings; the defaults when null.</param>
internal sealed record BenchMachine(string Name, string Description, Func<ActorSystem, MachineOptions, ScenarioSession> Start, MachineOptions? Options = null)
{
    /// <summary>A machine of the bench's own: <paramref name="booted"/> with <paramref name="tasks"/> started at boot.</summary>
    public static BenchMachine Of(string name, string description, BootedMachine booted, ImmutableArray<TaskSpec> tasks) =>
        new(name, description, (system, options) => new ScenarioSession(SimulatedMachine.Boot(system, booted, options), tasks.Select(t => new TimedStart(0, t))));
}

/// <summary>
/// The machines of issue 8, built in C#. The default one is the equivalent of the built-in <c>default</c> scenario:
/// 4-CPU x86_64, <c>nohz_full=1-3 isolcpus=1-3 task_isolation=1-3</c>, a polling task isolated on CPU 3 (NOSIG mode,
/// so the residual tick's violations are recorded without killing it), housekeeping noise on CPU 0 (a writer that
/// also maps memory, dirtying vmstat and the LRU batches).
/// </summary>
internal static class BenchMachines
{
    /// <summary>
    /// The built-in <c>default</c> scenario (src/Actors/Scenarios/BuiltIn/default.yaml): its machine and its tasks, the
    /// noise tasks included, each started at its time as <c>taskisol run</c> starts them; the bench runs it past its own
    /// duration (its tasks loop forever). Its device interrupt (eth0, 1000 a second on CPU 0) is left out, as the bench
    /// has always left it out: its figures stay comparable with earlier runs (docs/performance.md).
    /// </summary>
    public static BenchMachine DefaultScenario()
    {
        var scenario = BuiltInScenarios.Load(BuiltInScenarios.DefaultName);
        return new BenchMachine(
            "default",
            "built-in scenario 'default': " + scenario.Description.Split('\n', 2)[0].Trim(),
            (system, options) => new ScenarioSession(SimulatedMachine.Boot(system, ScenarioSession.Boot(scenario), options), ScenarioSession.Starts(scenario)),
            ScenarioSession.Options(scenario, new RunSettings()));
    }

    /// <summary>The 4-CPU machine of the behaviour tests: a busier writer on CPU 0 and the 4.7 residual tick.</summary>
    public static BenchMachine Default()
    {
        const int cpus = 4;
        var booted = BootedMachine.Boot(cpus, MachineArch.X86_64, KernelConfig.Default, "nohz_full=1-3 isolcpus=1-3 task_isolation=1-3");
        return BenchMachine.Of(
            "4-cpu-busy",
            "4 CPUs x86_64 HZ=1000, NOSIG poller isolated on CPU 3, writer/mmap loop always busy on CPU 0, 1 Hz residual tick",
            booted,
            [Housekeeper("hk", cpus, 0), Poller("dpdk", cpus, 3)]);
    }

    /// <summary>64 CPUs, HZ=1000, 8 housekeeping CPUs with ordinary noise, 56 isolated polling tasks.</summary>
    public static BenchMachine Wide64()
    {
        const int cpus = 64;
        var booted = BootedMachine.Boot(cpus, MachineArch.X86_64, KernelConfig.Default, "nohz_full=8-63 isolcpus=8-63 task_isolation=8-63");
        var tasks = ImmutableArray.CreateBuilder<TaskSpec>();
        for (var cpu = 0; cpu < 8; cpu++)
        {
            tasks.Add(Housekeeper($"hk{cpu}", cpus, cpu));
        }

        for (var cpu = 8; cpu < cpus; cpu++)
        {
            tasks.Add(Poller($"poll{cpu}", cpus, cpu));
        }

        return BenchMachine.Of("64-cpu", "64 CPUs HZ=1000, 8 housekeeping with writer/mmap noise, 56 isolated pollers", booted, tasks.ToImmutable());
    }

    /// <summary>
    /// A machine of the scaling curve: <paramref name="cpus"/> CPUs at HZ=1000, an eighth of them (at least one)
    /// housekeeping with a writer/mmap loop each, every other CPU an isolated NOSIG poller; the load grows with the
    /// machine as <see cref="Wide64"/>'s does (64 CPUs: the same machine and tasks).
    /// </summary>
    public static BenchMachine Scaled(int cpus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 2);
        var housekeeping = Math.Max(1, cpus / 8);
        var isolated = string.Create(CultureInfo.InvariantCulture, $"{housekeeping}-{cpus - 1}");
        var booted = BootedMachine.Boot(cpus, MachineArch.X86_64, KernelConfig.Default, $"nohz_full={isolated} isolcpus={isolated} task_isolation={isolated}");
        var tasks = ImmutableArray.CreateBuilder<TaskSpec>(cpus);
        for (var cpu = 0; cpu < housekeeping; cpu++)
        {
            tasks.Add(Housekeeper(string.Create(CultureInfo.InvariantCulture, $"hk{cpu}"), cpus, cpu));
        }

        for (var cpu = housekeeping; cpu < cpus; cpu++)
        {
            tasks.Add(Poller(string.Create(CultureInfo.InvariantCulture, $"poll{cpu}"), cpus, cpu));
        }

        return BenchMachine.Of(
            string.Create(CultureInfo.InvariantCulture, $"{cpus:N0}-cpu"),
            string.Create(CultureInfo.InvariantCulture, $"{cpus:N0} CPUs HZ=1000, {housekeeping:N0} housekeeping with writer/mmap noise, {cpus - housekeeping:N0} isolated pollers"),
            booted,
            tasks.ToImmutable());
    }

    /// <summary>
    /// The scale machine: 1,024 CPUs and 10,000 tasks by default. A sixteenth of the CPUs do housekeeping, each of the
    /// others runs an isolated poller, and the remaining tasks are daemons spread over the housekeeping CPUs that wake
    /// every second, compute 100 µs and write.
    /// </summary>
    public static BenchMachine Scale(int cpus = 1024, int tasksTotal = 10_000)
    {
        var housekeeping = cpus / 16;
        var booted = BootedMachine.Boot(cpus, MachineArch.X86_64, KernelConfig.Default, $"nohz_full={housekeeping}-{cpus - 1} isolcpus={housekeeping}-{cpus - 1} task_isolation={housekeeping}-{cpus - 1}");
        var tasks = ImmutableArray.CreateBuilder<TaskSpec>(tasksTotal);
        for (var cpu = housekeeping; cpu < cpus && tasks.Count < tasksTotal; cpu++)
        {
            tasks.Add(Poller($"poll{cpu}", cpus, cpu));
        }

        var pollers = tasks.Count;
        for (var i = 0; tasks.Count < tasksTotal; i++)
        {
            // Staggered phases: the daemons of one CPU do not all wake at the same instant.
            ImmutableArray<Operation> program =
            [
                new Sleep(1_000_000 + (i * 7_919L % 997_000_000)),
                new Loop(-1, [new Compute(100_000), new Syscall("write"), new Sleep(1_000_000_000)]),
            ];
            tasks.Add(new TaskSpec($"daemon{i}", CpuMask.Single(cpus, i % housekeeping), program));
        }

        return BenchMachine.Of(
            string.Create(CultureInfo.InvariantCulture, $"{cpus:N0} CPUs + {tasksTotal:N0} tasks"),
            string.Create(CultureInfo.InvariantCulture, $"{cpus:N0} CPUs HZ=1000, {pollers:N0} isolated pollers, {tasksTotal - pollers:N0} daemons on {housekeeping} housekeeping CPUs"),
            booted,
            tasks.ToImmutable());
    }

    /// <summary>A housekeeping task: computes 9 ms, writes, maps memory, forever.</summary>
    private static TaskSpec Housekeeper(string comm, int cpus, int cpu) =>
        new(comm, CpuMask.Single(cpus, cpu), [new Loop(-1, [new Compute(9_000_000), new Syscall("write"), new Mmap(4096)])]);

    /// <summary>A DPDK-style poller: enables task isolation (NOSIG), then spins in user space forever.</summary>
    private static TaskSpec Poller(string comm, int cpus, int cpu) =>
        new(comm, CpuMask.Single(cpus, cpu), [new Prctl(PrctlOptions.SetTaskIsolation, IsolationFlags.EnabledNoSig.Word), new Loop(-1, [new Compute(1_000_000_000)])]);
}
