using System.Globalization;

namespace TaskIsolation.Machine.Boot;

/// <summary>The kernel log's line format (docs/model.md §11), for every layer that prints kernel messages.</summary>
public static class Dmesg
{
    /// <summary>
    /// <c>[    5.123456] message</c>: seconds since boot right-aligned in at least 5 columns, then microseconds in 6
    /// digits, as printk's <c>print_time()</c> (<c>"[%5lu.%06lu] "</c>); nanoseconds below a microsecond are
    /// truncated, not rounded, as there.
    /// </summary>
    /// <param name="ns">Simulated time since boot, in nanoseconds; not negative.</param>
    /// <param name="message">The message without its trailing newline.</param>
    public static string Format(long ns, string message)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ns);
        ArgumentNullException.ThrowIfNull(message);
        var seconds = ns / 1_000_000_000;
        var micros = ns % 1_000_000_000 / 1_000;
        return string.Create(CultureInfo.InvariantCulture, $"[{seconds,5}.{micros:D6}] {message}");
    }
}
