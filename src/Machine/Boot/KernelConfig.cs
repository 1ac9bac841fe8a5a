using System.Collections.Immutable;
using System.Globalization;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Machine.Boot;

/// <summary>
/// The Kconfig options the model honours (docs/model.md §2). The defaults are a kernel built for task isolation:
/// <c>NO_HZ_FULL=y</c>, <c>TASK_ISOLATION=y</c>, <c>TASK_ISOLATION_ALL=n</c> (isolation only where
/// <c>task_isolation=</c> asks for it) and <c>HZ=1000</c> (init/Kconfig's default).
/// </summary>
public sealed record KernelConfig
{
    /// <summary>The defaults described on the type.</summary>
    public static KernelConfig Default { get; } = new();

    /// <summary>The HZ choices of kernel/Kconfig.hz the model accepts.</summary>
    public static ImmutableArray<int> SupportedHz { get; } = [100, 250, 300, 1000];

    /// <summary>The option names <see cref="With"/> accepts, without their <c>CONFIG_</c> prefix.</summary>
    public static ImmutableArray<string> OptionNames { get; } = ["NO_HZ_FULL", "TASK_ISOLATION", "TASK_ISOLATION_ALL", "HZ", "RCU_NOCB_CPU"];

    /// <summary><c>CONFIG_NO_HZ_FULL</c>: full dynticks; without it <c>nohz_full=</c> is an unknown parameter.</summary>
    public bool NoHzFull { get; init; } = true;

    /// <summary><c>CONFIG_TASK_ISOLATION</c> (depends on NO_HZ_FULL and HAVE_ARCH_TASK_ISOLATION); without it
    /// <c>task_isolation=</c> is an unknown parameter and the sysfs <c>task_isolation</c> file does not exist.</summary>
    public bool TaskIsolation { get; init; } = true;

    /// <summary><c>CONFIG_TASK_ISOLATION_ALL</c> (depends on TASK_ISOLATION): with no <c>task_isolation=</c>,
    /// every possible CPU but the boot CPU is a task-isolation CPU.</summary>
    public bool TaskIsolationAll { get; init; }

    /// <summary><c>CONFIG_HZ</c>: scheduler ticks per second.</summary>
    public int Hz { get; init; } = 1000;

    /// <summary>
    /// <c>CONFIG_RCU_NOCB_CPU</c>: RCU callbacks can be offloaded to kthreads (<c>rcu_nocbs=</c>; without it that
    /// parameter is unknown). 4.7's <c>NO_HZ_FULL</c> selects it, and <c>rcu_init_nohz()</c> offloads every
    /// full-dynticks CPU, so it can be off only without <c>NO_HZ_FULL</c> (§9 R16, docs/races.md).
    /// </summary>
    public bool RcuNocbCpu { get; init; } = true;

    /// <summary>The default configuration with <paramref name="assignments"/> applied in order, then validated.</summary>
    /// <exception cref="ConfigException">A malformed assignment or an unmet dependency.</exception>
    public static KernelConfig Parse(IEnumerable<string> assignments, MachineArch arch)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var config = Default;
        foreach (var a in assignments)
        {
            config = config.With(a);
        }

        return config.Validate(arch);
    }

    /// <summary>
    /// This configuration with one <c>NAME=VALUE</c> applied: <c>NAME</c> with or without <c>CONFIG_</c>, in any
    /// case; <c>y</c> or <c>n</c> for the booleans, a number for <c>HZ</c>. Dependencies are checked by
    /// <see cref="Validate"/>, once all assignments are in, so their order does not matter.
    /// </summary>
    /// <exception cref="ConfigException">Not <c>NAME=VALUE</c>, an unknown name, or a bad value.</exception>
    public KernelConfig With(string assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var eq = assignment.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ConfigException($"config setting '{assignment}' is not NAME=VALUE");
        }

        var name = assignment[..eq].Trim().ToUpperInvariant();
        if (name.StartsWith("CONFIG_", StringComparison.Ordinal))
        {
            name = name["CONFIG_".Length..];
        }

        var value = assignment[(eq + 1)..].Trim();
        return name switch
        {
            "NO_HZ_FULL" => this with { NoHzFull = ParseBool(name, value) },
            "TASK_ISOLATION" => this with { TaskIsolation = ParseBool(name, value) },
            "TASK_ISOLATION_ALL" => this with { TaskIsolationAll = ParseBool(name, value) },
            "HZ" => this with { Hz = ParseHz(value) },
            "RCU_NOCB_CPU" => this with { RcuNocbCpu = ParseBool(name, value) },
            _ => throw new ConfigException(
                $"unknown config option '{assignment[..eq].Trim()}' (known: {string.Join(", ", OptionNames)})"),
        };
    }

    /// <summary>
    /// This configuration if Kconfig would accept it: TASK_ISOLATION needs NO_HZ_FULL and an architecture that
    /// selects HAVE_ARCH_TASK_ISOLATION; TASK_ISOLATION_ALL needs TASK_ISOLATION; HZ is one of
    /// <see cref="SupportedHz"/>; NO_HZ_FULL selects RCU_NOCB_CPU.
    /// </summary>
    /// <exception cref="ConfigException">Every unmet dependency, each naming what is missing.</exception>
    public KernelConfig Validate(MachineArch arch)
    {
        var problems = new List<string>();
        if (!SupportedHz.Contains(Hz))
        {
            problems.Add(HzMessage(Hz.ToString(CultureInfo.InvariantCulture)));
        }

        if (TaskIsolation && !NoHzFull)
        {
            problems.Add("CONFIG_TASK_ISOLATION=y requires CONFIG_NO_HZ_FULL=y");
        }

        if (TaskIsolation && !ArchHasTaskIsolation(arch))
        {
            problems.Add($"CONFIG_TASK_ISOLATION=y requires HAVE_ARCH_TASK_ISOLATION, which arch {arch} does not select");
        }

        if (TaskIsolationAll && !TaskIsolation)
        {
            problems.Add("CONFIG_TASK_ISOLATION_ALL=y requires CONFIG_TASK_ISOLATION=y");
        }

        if (NoHzFull && !RcuNocbCpu)
        {
            // kernel/time/Kconfig: config NO_HZ_FULL ... select RCU_NOCB_CPU. Kconfig would quietly turn it back on;
            // the model says so instead of booting a kernel that cannot be built.
            problems.Add("CONFIG_NO_HZ_FULL=y selects CONFIG_RCU_NOCB_CPU, so it cannot be n: nohz_full CPUs always have their RCU callbacks offloaded (rcu_init_nohz())");
        }

        return problems.Count == 0 ? this : throw new ConfigException(string.Join("; ", problems));
    }

    /// <summary>
    /// Whether the architecture selects HAVE_ARCH_TASK_ISOLATION. The series adds it to x86_64 (patch 07), arm64
    /// (patch 09) and tile (patch 08): every architecture the model knows.
    /// </summary>
    public static bool ArchHasTaskIsolation(MachineArch arch) =>
        arch is MachineArch.X86_64 or MachineArch.Arm64 or MachineArch.Tile;

    /// <summary>The options as .config lines, e.g. <c># CONFIG_TASK_ISOLATION_ALL is not set</c>.</summary>
    public IEnumerable<string> ToKconfigLines()
    {
        yield return Bool("NO_HZ_FULL", NoHzFull);
        yield return Bool("TASK_ISOLATION", TaskIsolation);
        yield return Bool("TASK_ISOLATION_ALL", TaskIsolationAll);
        yield return string.Create(CultureInfo.InvariantCulture, $"CONFIG_HZ={Hz}");
        yield return Bool("RCU_NOCB_CPU", RcuNocbCpu);

        static string Bool(string name, bool on) => on ? $"CONFIG_{name}=y" : $"# CONFIG_{name} is not set";
    }

    private static bool ParseBool(string name, string value) => value switch
    {
        "y" or "Y" => true,
        "n" or "N" => false,
        _ => throw new ConfigException($"CONFIG_{name} is a bool: use y or n, not '{value}'"),
    };

    private static int ParseHz(string value)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var hz) && SupportedHz.Contains(hz))
        {
            return hz;
        }

        throw new ConfigException(HzMessage(value));
    }

    private static string HzMessage(string value) =>
        $"CONFIG_HZ must be one of {string.Join(", ", SupportedHz)}, not '{value}'";
}
