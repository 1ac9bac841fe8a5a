using System.Collections.Immutable;
using TaskIsolation.Machine.Cpus;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Machine.Boot;

/// <summary>
/// A machine after boot (docs/model.md §2): its configuration and the CPU sets the kernel fixed at boot, the boot log,
/// and the sysfs CPU files. Every later layer starts from one of these; build it with <see cref="Boot"/>.
/// </summary>
public sealed class BootedMachine
{
    /// <summary>The boot CPU. The model, like the kernel on all three architectures, boots on CPU 0.</summary>
    public const int BootCpu = 0;

    /// <summary>
    /// The static <c>tick_nohz_full_mask</c> as sysfs shows it: <see cref="NohzFull"/> when full dynticks runs, else
    /// the regions a bad <c>nohz_full=</c> parsed before its error (docs/model.md §2).
    /// </summary>
    private readonly CpuMask _nohzFullMask;

    internal BootedMachine(
        int nrCpus,
        MachineArch arch,
        KernelConfig config,
        Sysctl sysctl,
        KernelCommandLine commandLine,
        CpuMask isolated,
        CpuMask nohzFull,
        CpuMask nohzFullMask,
        CpuMask taskIsolation,
        CpuMask irqAffinity,
        CpuMask rcuNocbs,
        CpuMask managedIrqIsolated,
        bool taskIsolationDebug,
        ImmutableArray<KernelParameter> unknownParameters,
        ImmutableArray<BootLogLine> log)
    {
        NrCpus = nrCpus;
        Arch = arch;
        Config = config;
        Sysctl = sysctl;
        CommandLine = commandLine;
        Possible = CpuMask.Full(nrCpus);
        Isolated = isolated;
        NohzFull = nohzFull;
        _nohzFullMask = nohzFullMask;
        TaskIsolation = taskIsolation;
        IrqAffinity = irqAffinity;
        RcuNocbs = rcuNocbs;
        ManagedIrqIsolated = managedIrqIsolated;
        TaskIsolationDebug = taskIsolationDebug;
        UnknownParameters = unknownParameters;
        Log = log;
        var housekeeping = Possible.AndNot(NohzFull);
        HousekeepingMask = housekeeping.IsEmpty ? CpuMask.Single(nrCpus, BootCpu) : housekeeping;
        SysfsFiles = ListSysfsFiles();
    }

    /// <summary>Number of CPUs (<c>nr_cpu_ids</c>); every mask has this many bits.</summary>
    public int NrCpus { get; }

    /// <summary>The architecture.</summary>
    public MachineArch Arch { get; }

    /// <summary>The Kconfig options, validated.</summary>
    public KernelConfig Config { get; }

    /// <summary>The sysctl settings.</summary>
    public Sysctl Sysctl { get; }

    /// <summary>The command line the machine booted with.</summary>
    public KernelCommandLine CommandLine { get; }

    /// <summary><c>cpu_possible_mask</c>: every CPU.</summary>
    public CpuMask Possible { get; }

    /// <summary><c>cpu_present_mask</c>: every CPU (the model has no hot-plug).</summary>
    public CpuMask Present => Possible;

    /// <summary><c>cpu_online_mask</c> once boot is done: every CPU.</summary>
    public CpuMask Online => Possible;

    /// <summary><c>cpu_isolated_map</c>: <c>isolcpus=</c> (domain) plus the task-isolation CPUs.</summary>
    public CpuMask Isolated { get; }

    /// <summary><c>tick_nohz_full_mask</c> while <c>tick_nohz_full_running</c>: the full-dynticks CPUs, never the boot
    /// CPU; empty when full dynticks does not run.</summary>
    public CpuMask NohzFull { get; }

    /// <summary><c>task_isolation_map</c>: where a task may enable isolation (it may include the boot CPU).</summary>
    public CpuMask TaskIsolation { get; }

    /// <summary><c>irq_default_affinity</c>: <c>irqaffinity=</c> plus the boot CPU, or every CPU.</summary>
    public CpuMask IrqAffinity { get; }

    /// <summary><c>rcu_nocb_mask</c>: <c>rcu_nocbs=</c> plus the full-dynticks CPUs.</summary>
    public CpuMask RcuNocbs { get; }

    /// <summary>CPUs given to <c>isolcpus=managed_irq,…</c>.</summary>
    public CpuMask ManagedIrqIsolated { get; }

    /// <summary>
    /// The CPUs that do the housekeeping (timekeeping, unbound work, the vmstat shepherd): every CPU not in
    /// <see cref="NohzFull"/>, as 4.7's <c>housekeeping_mask</c>; the boot CPU if that left none.
    /// </summary>
    public CpuMask HousekeepingMask { get; }

    /// <summary>The <c>task_isolation_debug</c> boot flag (docs/model.md §7).</summary>
    public bool TaskIsolationDebug { get; }

    /// <summary>Parameters no handler took, in command-line order; the kernel passes them on to init.</summary>
    public ImmutableArray<KernelParameter> UnknownParameters { get; }

    /// <summary>The kernel messages of boot, in the order the kernel prints them.</summary>
    public ImmutableArray<BootLogLine> Log { get; }

    /// <summary>
    /// The CPU files of <c>/sys/devices/system/cpu</c> that exist on this kernel, in the order possible, present,
    /// online, isolated, nohz_full (with NO_HZ_FULL), task_isolation (with TASK_ISOLATION).
    /// </summary>
    public ImmutableArray<SysfsFile> SysfsFiles { get; }

    /// <summary>
    /// Boots a machine: splits the command line, runs the boot-parameter handlers in command-line order, then the
    /// boot-time initialisation that turns them into the CPU sets, logging as the kernel does.
    /// </summary>
    /// <param name="nrCpus">Number of CPUs, 1 to <see cref="CpuMask.MaxBits"/>.</param>
    /// <param name="arch">The architecture.</param>
    /// <param name="config">The Kconfig options; validated here.</param>
    /// <param name="commandLine">The kernel command line as a user writes it.</param>
    /// <param name="sysctl">sysctl settings; the defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A CPU count or architecture the model does not have.</exception>
    /// <exception cref="ConfigException">A Kconfig combination with an unmet dependency.</exception>
    public static BootedMachine Boot(int nrCpus, MachineArch arch, KernelConfig config, string commandLine, Sysctl? sysctl = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nrCpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nrCpus, CpuMask.MaxBits);
        if (!Enum.IsDefined(arch))
        {
            throw new ArgumentOutOfRangeException(nameof(arch), arch, "not an architecture the model knows");
        }

        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(commandLine);
        config.Validate(arch);
        return BootSequence.Run(nrCpus, arch, config, sysctl ?? Sysctl.Default, KernelCommandLine.Parse(commandLine));
    }

    /// <summary>What reading <c>/sys/devices/system/cpu/<paramref name="name"/></c> returns, or null when the
    /// file does not exist on this kernel.</summary>
    public string? ReadSysfs(string name) =>
        SysfsFiles.FirstOrDefault(f => f.Name == name)?.Contents;

    private ImmutableArray<SysfsFile> ListSysfsFiles()
    {
        var files = ImmutableArray.CreateBuilder<SysfsFile>();
        files.Add(File("possible", Possible));
        files.Add(File("present", Present));
        files.Add(File("online", Online));
        files.Add(File("isolated", Isolated));
        if (Config.NoHzFull)
        {
            // as print_cpus_nohz_full(), which exists only under CONFIG_NO_HZ_FULL.
            files.Add(File("nohz_full", _nohzFullMask));
        }

        if (Config.TaskIsolation)
        {
            // as print_cpus_task_isolation() of the patch, only under CONFIG_TASK_ISOLATION.
            files.Add(File("task_isolation", TaskIsolation));
        }

        return files.ToImmutable();

        // as the sysfs show functions: scnprintf(buf, len, "%*pbl\n", ...).
        static SysfsFile File(string name, CpuMask mask) => new(name, mask.ToList() + "\n");
    }
}
