using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Scenarios;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Testing;

/// <summary>
/// Builds a machine and its workload in code, as a scenario file would describe them: the boot (CPUs, arch, Kconfig,
/// command line), the model's switches, tasks with their programs (<see cref="Operation"/>s), noise sources, how long to
/// run, and expectations. <see cref="Build"/> validates it exactly as the scenario loader validates a file, so a
/// machine built here and the same machine written in YAML run the same.
/// </summary>
/// <example>
/// <code>
/// var scenario = IsolationScenario.Machine(cpus: 4)
///     .Cmdline("nohz_full=1-3 isolcpus=1-3 task_isolation=1-3")
///     .Task("iso", "3", new Prctl(PrctlOptions.SetTaskIsolation, 1), new Compute(5_000_000))
///     .RunFor(10_000_000)
///     .Build();
/// </code>
/// </example>
public sealed class MachineBuilder
{
    private Scenario _scenario;

    /// <summary>A machine of <paramref name="cpus"/> CPUs of <paramref name="arch"/>, default Kconfig, empty command line.</summary>
    public MachineBuilder(int cpus = 4, MachineArch arch = MachineArch.X86_64)
    {
        _scenario = new Scenario { Name = "test", Cpus = cpus, Arch = arch };
    }

    /// <summary>The scenario's name (reports and reproducers carry it).</summary>
    public MachineBuilder Named(string name)
    {
        _scenario = _scenario with { Name = name };
        return this;
    }

    /// <summary>The kernel command line, literally (<c>nohz_full=1-3 isolcpus=1-3 task_isolation=1-3</c>).</summary>
    public MachineBuilder Cmdline(string cmdline)
    {
        _scenario = _scenario with { Cmdline = cmdline };
        return this;
    }

    /// <summary>The Kconfig options (<see cref="KernelConfig.Default"/> unless set).</summary>
    public MachineBuilder Config(KernelConfig config)
    {
        _scenario = _scenario with { Config = config };
        return this;
    }

    /// <summary>The model's switches: residual tick and the §9 mitigations (docs/model.md §9).</summary>
    public MachineBuilder Switches(ModelSwitches switches)
    {
        _scenario = _scenario with { Model = _scenario.Model with { Switches = switches } };
        return this;
    }

    /// <summary>The kernel variant (v13 unless set).</summary>
    public MachineBuilder Variant(KernelVariant variant)
    {
        _scenario = _scenario with { Model = _scenario.Model with { Variant = variant } };
        return this;
    }

    /// <summary>The simulated costs of kernel paths (the timings table).</summary>
    public MachineBuilder Timings(ModelTimings timings)
    {
        _scenario = _scenario with { Model = _scenario.Model with { Timings = timings } };
        return this;
    }

    /// <summary>A task <paramref name="name"/> started at boot on <paramref name="cpus"/> (a CPU list, <c>3</c> or <c>1-3</c>; it starts on the first), running <paramref name="program"/>.</summary>
    public MachineBuilder Task(string name, string cpus, params Operation[] program) =>
        Task(name, cpus, 0, SchedPolicy.Normal, program);

    /// <summary>A task started at <paramref name="startNs"/> of simulated time, with a scheduling policy.</summary>
    public MachineBuilder Task(string name, string cpus, long startNs, SchedPolicy policy, params Operation[] program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var task = new ScenarioTask(name, Mask(cpus), policy, startNs, [.. program]);
        _scenario = _scenario with { Tasks = _scenario.Tasks.Add(task) };
        return this;
    }

    /// <summary>A device interrupt line firing every <paramref name="periodNs"/> on <paramref name="cpus"/> (the boot's default affinity when null).</summary>
    public MachineBuilder DeviceIrq(int irq, string name, long periodNs, string? cpus = null, long firstAtNs = 0)
    {
        var noise = new IrqNoise(irq, name, cpus is null ? null : Mask(cpus), periodNs, firstAtNs);
        _scenario = _scenario with { Noise = _scenario.Noise.Add(noise) };
        return this;
    }

    /// <summary>NMIs every <paramref name="periodNs"/> on each CPU of <paramref name="cpus"/>.</summary>
    public MachineBuilder Nmi(string cpus, long periodNs, long firstAtNs = 0)
    {
        _scenario = _scenario with { Noise = _scenario.Noise.Add(new NmiNoise(Mask(cpus), periodNs, firstAtNs)) };
        return this;
    }

    /// <summary>Housekeeping activity: a task on <paramref name="cpus"/> that sleeps <paramref name="everyNs"/>, runs <paramref name="program"/>, and goes round forever.</summary>
    public MachineBuilder Periodic(string name, string cpus, long everyNs, params Operation[] program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var noise = new PeriodicNoise(name, Mask(cpus), everyNs, 0, [.. program]);
        _scenario = _scenario with { Noise = _scenario.Noise.Add(noise) };
        return this;
    }

    /// <summary>Simulated time a run lasts (1 s unless set).</summary>
    public MachineBuilder RunFor(long ns)
    {
        _scenario = _scenario with { DurationNs = ns };
        return this;
    }

    /// <summary>An expectation the run is judged by (<see cref="IsolationResult.Expectations"/>).</summary>
    public MachineBuilder Expect(Expectation expectation)
    {
        ArgumentNullException.ThrowIfNull(expectation);
        _scenario = _scenario with { Expectations = _scenario.Expectations.Add(expectation) };
        return this;
    }

    /// <summary>
    /// The scenario, validated by the scenario loader (its canonical text read back), so every rule a file must
    /// follow holds here too.
    /// </summary>
    /// <exception cref="ScenarioException">The machine or workload is invalid; every problem is listed.</exception>
    public Scenario Build() => ScenarioLoader.Load(ScenarioWriter.Write(_scenario), $"<{_scenario.Name}>", _scenario.Name);

    private CpuMask Mask(string cpus)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        return CpuList.ParseOrThrow(cpus, _scenario.Cpus);
    }
}
