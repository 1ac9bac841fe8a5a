using System.Globalization;

namespace TaskIsolation.Machine.Boot;

/// <summary>The sysctl settings the model honours (docs/model.md §2).</summary>
public sealed record Sysctl
{
    /// <summary>The kernel's defaults.</summary>
    public static Sysctl Default { get; } = new();

    /// <summary>
    /// <c>vm.stat_interval</c> in seconds (default 1): how often the vmstat worker folds per-CPU counter diffs and
    /// the shepherd looks for CPUs with diffs. The kernel takes any integer here; the model takes 1 or more, since
    /// 0 would have the worker re-arm with no delay and model nothing a user tunes on purpose.
    /// </summary>
    public int VmStatIntervalSeconds { get; init; } = 1;

    /// <summary><see cref="VmStatIntervalSeconds"/> in nanoseconds of simulated time.</summary>
    public long VmStatIntervalNs => VmStatIntervalSeconds * 1_000_000_000L;

    /// <summary>
    /// This setting with one assignment applied, written as for <c>sysctl -w</c>: <c>vm.stat_interval=2</c> (the
    /// <c>/proc/sys</c> spelling <c>vm/stat_interval</c> is accepted too).
    /// </summary>
    /// <exception cref="ConfigException">Not <c>name=value</c>, an unknown name, or a bad value.</exception>
    public Sysctl With(string assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var eq = assignment.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ConfigException($"sysctl setting '{assignment}' is not name=value");
        }

        var name = assignment[..eq].Trim().Replace('/', '.');
        var value = assignment[(eq + 1)..].Trim();
        if (name != "vm.stat_interval")
        {
            throw new ConfigException($"unknown sysctl '{assignment[..eq].Trim()}' (known: vm.stat_interval)");
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1)
        {
            throw new ConfigException($"vm.stat_interval must be a whole number of seconds, 1 or more, not '{value}'");
        }

        return this with { VmStatIntervalSeconds = seconds };
    }
}
