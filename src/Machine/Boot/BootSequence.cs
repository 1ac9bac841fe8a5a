using System.Collections.Immutable;
using TaskIsolation.Machine.Cpus;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Machine.Boot;

/// <summary>
/// The part of <c>start_kernel()</c> that fixes the CPU sets, in the kernel's order:
/// <list type="number">
/// <item>print the command line;</item>
/// <item><c>parse_args()</c>: every parameter, in command-line order, goes to the first <c>__setup</c> handler whose
/// name is a prefix of it (<c>obsolete_checksetup()</c>); handlers only record what they parsed;</item>
/// <item><c>tick_init()</c> → <c>tick_nohz_init()</c>, which the patch makes start with
/// <c>task_isolation_init()</c>;</item>
/// <item><c>rcu_init_nohz()</c>, which offloads RCU callbacks from the full-dynticks CPUs.</item>
/// </list>
/// The model is a <c>CONFIG_CPUMASK_OFFSTACK=n</c> kernel: each handler owns a static mask, and a parameter given
/// twice is parsed twice into the same mask, so the last one wins.
/// </summary>
internal sealed class BootSequence
{
    /// <summary>
    /// Boot messages carry time 0: 4.7 prints all of these before <c>sched_clock()</c> runs (timekeeping starts
    /// after <c>tick_init()</c>), so a real dmesg shows them at <c>[    0.000000]</c>.
    /// </summary>
    private const long EarlyBootNs = 0;

    private readonly int _nrCpus;
    private readonly KernelConfig _config;
    private readonly ImmutableArray<BootLogLine>.Builder _log = ImmutableArray.CreateBuilder<BootLogLine>();

    // What the __setup handlers recorded, as the kernel's static variables.
    private bool _sawTaskIsolationArg;
    private CpuMask? _taskIsolationArg;
    private CpuMask? _nohzFullArg;
    private bool _nohzFullRunning;
    private IsolcpusFlags _isolcpusFlags;
    private CpuMask? _isolcpusArg;
    private CpuMask? _rcuNocbsArg;
    private CpuMask? _irqAffinityArg;
    private bool _taskIsolationDebug;

    private BootSequence(int nrCpus, KernelConfig config)
    {
        _nrCpus = nrCpus;
        _config = config;
    }

    /// <summary>Boots; the arguments are already validated by <see cref="BootedMachine.Boot"/>.</summary>
    public static BootedMachine Run(int nrCpus, MachineArch arch, KernelConfig config, Sysctl sysctl, KernelCommandLine commandLine)
    {
        var boot = new BootSequence(nrCpus, config);

        // as start_kernel(): pr_notice("Kernel command line: %s\n", boot_command_line).
        boot.Print(KernelLogLevel.Notice, $"Kernel command line: {commandLine.Text}");

        var unknown = ImmutableArray.CreateBuilder<KernelParameter>();
        foreach (var parameter in commandLine.Parameters)
        {
            if (!boot.CheckSetup(parameter))
            {
                unknown.Add(parameter);
            }
        }

        var possible = CpuMask.Full(nrCpus);
        var empty = CpuMask.Empty(nrCpus);

        // as sched_init(): cpu_isolated_map is isolcpus= (its domain form) or empty.
        var isolated = (boot.IsolcpusHas(IsolcpusFlags.Domain) ? boot._isolcpusArg : null) ?? empty;
        var (nohzFull, nohzFullMask, taskIsolation, isolatedAfterTick) = boot.TickNohzInit(possible, isolated);

        // as rcu_init_nohz(): callbacks are offloaded from rcu_nocbs= and from every full-dynticks CPU.
        var rcuNocbs = (boot._rcuNocbsArg ?? empty).Or(nohzFull);

        return new BootedMachine(
            nrCpus,
            arch,
            config,
            sysctl,
            commandLine,
            isolated: isolatedAfterTick,
            nohzFull: nohzFull,
            nohzFullMask: nohzFullMask,
            taskIsolation: taskIsolation,
            irqAffinity: boot._irqAffinityArg ?? possible,
            rcuNocbs: rcuNocbs,
            managedIrqIsolated: (boot.IsolcpusHas(IsolcpusFlags.ManagedIrq) ? boot._isolcpusArg : null) ?? empty,
            taskIsolationDebug: boot._taskIsolationDebug,
            unknownParameters: unknown.ToImmutable(),
            log: boot._log.ToImmutable());
    }

    /// <summary>
    /// As <c>obsolete_checksetup()</c>: the parameter, rebuilt as <c>name=value</c>, goes to each handler whose
    /// name (dashes and underscores alike, as <c>parameqn()</c>) is a prefix of it until one accepts it. A
    /// parameter no handler accepts is unknown. Handlers exist only for what the configuration builds in.
    /// </summary>
    private bool CheckSetup(KernelParameter parameter)
    {
        var line = parameter.ToString();
        if (_config.TaskIsolation)
        {
            if (Matches(line, "task_isolation=", out var arg) && TaskIsolationSetup(arg))
            {
                return true;
            }

            // __setup("task_isolation_debug", ...) has no '=', so any parameter starting so matches.
            if (Matches(line, "task_isolation_debug", out _))
            {
                _taskIsolationDebug = true;
                return true;
            }
        }

        if (_config.NoHzFull && Matches(line, "nohz_full=", out var nohz) && TickNohzFullSetup(nohz))
        {
            return true;
        }

        if (Matches(line, "isolcpus=", out var isol) && IsolcpusSetup(isol))
        {
            return true;
        }

        if (_config.RcuNocbCpu && Matches(line, "rcu_nocbs=", out var rcu))
        {
            // as rcu_nocb_setup() (built with RCU_NOCB_CPU, which NO_HZ_FULL selects): parse errors are ignored and
            // keep the bits set before them.
            _rcuNocbsArg = CpuList.Parse(rcu, _nrCpus).Mask;
            return true;
        }

        if (Matches(line, "irqaffinity=", out var irq))
        {
            // as irq_affinity_setup(): parse errors are ignored, and the boot CPU is always added "so we don't end
            // up with bug reports caused by random command-line masks".
            _irqAffinityArg = CpuList.Parse(irq, _nrCpus).Mask.With(BootedMachine.BootCpu);
            return true;
        }

        return false;
    }

    /// <summary>As the patch's <c>task_isolation_setup()</c>: a bad list is reported and its earlier regions kept.</summary>
    private bool TaskIsolationSetup(string str)
    {
        _sawTaskIsolationArg = true;
        var result = CpuList.Parse(str, _nrCpus);
        _taskIsolationArg = result.Mask;
        if (!result.IsSuccess)
        {
            Print(KernelLogLevel.Warning, $"task_isolation: Incorrect cpumask '{str}'");
        }

        return true;
    }

    /// <summary>
    /// As 4.7's <c>tick_nohz_full_setup()</c>: <c>cpulist_parse()</c> fills the static <c>tick_nohz_full_mask</c>
    /// region by region (after zeroing it), so a bad list keeps the regions parsed before the error; the error is
    /// reported and <c>free_bootmem_cpumask_var()</c>, a no-op for a static mask, frees nothing, but
    /// <c>tick_nohz_full_running</c> is not set. Full dynticks then runs only if something else starts it
    /// (<c>task_isolation_init()</c>, <c>isolcpus=nohz</c>), and uses those kept bits when it does (docs/model.md §2).
    /// A good list given earlier leaves <c>tick_nohz_full_running</c> set: nothing clears it.
    /// </summary>
    private bool TickNohzFullSetup(string str)
    {
        var result = CpuList.Parse(str, _nrCpus);
        _nohzFullArg = result.Mask;
        if (result.IsSuccess)
        {
            _nohzFullRunning = true;
        }
        else
        {
            Print(KernelLogLevel.Warning, "NO_HZ: Incorrect nohz_full cpumask");
        }

        return true;
    }

    /// <summary>
    /// <c>isolcpus=</c>: the flags as 4.15+'s <c>housekeeping_isolcpus_setup()</c> (with its messages, and its
    /// refusal of an invalid flag or of <c>nohz</c> without NO_HZ_FULL, which leaves the parameter unknown); the
    /// list as 4.7's <c>isolated_cpu_setup()</c>, which ignores a parse error and keeps the bits set before it.
    /// </summary>
    private bool IsolcpusSetup(string str)
    {
        var spec = IsolcpusSpec.Parse(str);
        foreach (var flag in spec.SkippedFlags)
        {
            Print(KernelLogLevel.Info, $"isolcpus: Skipped unknown flag {flag}");
        }

        if (spec.InvalidFlag is { } invalid)
        {
            Print(KernelLogLevel.Warning, $"isolcpus: Invalid flag {invalid}");
            return false;
        }

        if ((spec.Flags & IsolcpusFlags.Nohz) != 0 && !_config.NoHzFull)
        {
            Print(KernelLogLevel.Warning, "Housekeeping: nohz unsupported. Build with CONFIG_NO_HZ_FULL");
            return false;
        }

        _isolcpusFlags = spec.Flags;
        _isolcpusArg = CpuList.Parse(spec.List, _nrCpus).Mask;
        return true;
    }

    /// <summary>
    /// As the patched <c>tick_nohz_init()</c>: <c>task_isolation_init()</c> adds the task-isolation CPUs to
    /// nohz_full and to the isolated set; then, if full dynticks runs at all, the boot CPU is taken out of it for
    /// timekeeping and the result is printed.
    /// </summary>
    private (CpuMask NohzFull, CpuMask NohzFullMask, CpuMask TaskIsolation, CpuMask Isolated) TickNohzInit(CpuMask possible, CpuMask isolated)
    {
        var empty = CpuMask.Empty(_nrCpus);
        var nohzFull = empty;
        var running = false;
        if (_config.NoHzFull)
        {
            // The static tick_nohz_full_mask holds what nohz_full= parsed, even before an error.
            nohzFull = _nohzFullArg ?? empty;
            running = _nohzFullRunning;

            // isolcpus=nohz,… sets nohz_full up as housekeeping_setup() → tick_nohz_full_setup() does in 4.15+.
            // The model ORs it with nohz_full= where that kernel insists the two match.
            if (IsolcpusHas(IsolcpusFlags.Nohz) && _isolcpusArg is { IsEmpty: false } isolNohz)
            {
                nohzFull = nohzFull.Or(isolNohz);
                running = true;
            }
        }

        var taskIsolation = empty;
        if (_config.TaskIsolation)
        {
            // as task_isolation_init(): the boot argument, else with TASK_ISOLATION_ALL every possible CPU but the
            // boot CPU, else nothing.
            CpuMask? map = null;
            if (_sawTaskIsolationArg)
            {
                map = _taskIsolationArg!;
            }
            else if (_config.TaskIsolationAll)
            {
                map = possible.Without(BootedMachine.BootCpu);
            }

            if (map is not null)
            {
                // as tick_nohz_full_add_cpus(), which ignores an empty mask.
                if (!map.IsEmpty)
                {
                    nohzFull = nohzFull.Or(map);
                    running = true;
                }

                isolated = isolated.Or(map);
                taskIsolation = map;
            }
        }

        if (!running)
        {
            // as tick_nohz_init() when !tick_nohz_full_running: it returns at once. No CPU is full dynticks
            // (tick_nohz_full_cpu() tests tick_nohz_full_running), but the static mask keeps what a bad nohz_full=
            // parsed, and print_cpus_nohz_full() shows it.
            return (empty, nohzFull, taskIsolation, isolated);
        }

        // Only tick_nohz_full_mask loses the boot CPU: task_isolation_map and cpu_isolated_map keep it, so with
        // task_isolation=0-7 CPU 0 is still listed in sysfs task_isolation (a prctl there returns 0, and the task then
        // waits in the return-to-user loop for a tick that never stops: a liveness failure).
        if (nohzFull.Test(BootedMachine.BootCpu))
        {
            Print(KernelLogLevel.Warning, $"NO_HZ: Clearing {BootedMachine.BootCpu} from nohz_full range for timekeeping");
            nohzFull = nohzFull.Without(BootedMachine.BootCpu);
        }

        // as tick_nohz_init(): pr_info("NO_HZ: Full dynticks CPUs: %*pbl.\n", ...) whenever full dynticks runs, even
        // for an empty set ("CPUs: ." after the boot CPU was the only one, e.g. nohz_full=0).
        Print(KernelLogLevel.Info, $"NO_HZ: Full dynticks CPUs: {nohzFull.ToList()}.");

        return (nohzFull, nohzFull, taskIsolation, isolated);
    }

    private bool IsolcpusHas(IsolcpusFlags flag) => (_isolcpusFlags & flag) != 0;

    private void Print(KernelLogLevel level, string message) => _log.Add(new BootLogLine(EarlyBootNs, level, message));

    /// <summary>As <c>parameqn(line, name, strlen(name))</c>: the first characters of <paramref name="line"/> are
    /// <paramref name="name"/>, a dash matching an underscore. <paramref name="arg"/> is the rest of the line.</summary>
    private static bool Matches(string line, string name, out string arg)
    {
        arg = string.Empty;
        if (line.Length < name.Length)
        {
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            if (DashToUnderscore(line[i]) != DashToUnderscore(name[i]))
            {
                return false;
            }
        }

        arg = line[name.Length..];
        return true;

        static char DashToUnderscore(char c) => c == '-' ? '_' : c;
    }
}
