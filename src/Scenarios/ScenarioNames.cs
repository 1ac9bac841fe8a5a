using System.Globalization;
using System.Numerics;
using System.Text;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Scenarios;

/// <summary>The words of the scenario format: interrupt kinds, policies, durations, and "did you mean".</summary>
public static class ScenarioNames
{
    /// <summary>Every interrupt kind as a scenario names it (<c>residual_tick</c>, <c>call_function_ipi</c>, …).</summary>
    public static IReadOnlyList<string> Kinds { get; } = Enum.GetValues<InterruptKind>().Select(KindName).ToArray();

    /// <summary>Scheduling policies as a scenario names them.</summary>
    public static IReadOnlyList<string> Policies { get; } = ["normal", "fifo", "rr", "deadline"];

    /// <summary>The snake_case name of <paramref name="kind"/>.</summary>
    public static string KindName(InterruptKind kind) => Snake(kind.ToString());

    /// <summary>The kind named <paramref name="name"/> (snake_case, any case).</summary>
    public static bool TryParseKind(string name, out InterruptKind kind)
    {
        foreach (var k in Enum.GetValues<InterruptKind>())
        {
            if (string.Equals(KindName(k), name, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>The scenario name of a policy.</summary>
    public static string PolicyName(SchedPolicy policy) => policy switch
    {
        SchedPolicy.Fifo => "fifo",
        SchedPolicy.RoundRobin => "rr",
        SchedPolicy.Deadline => "deadline",
        _ => "normal",
    };

    /// <summary>The policy named <paramref name="name"/>: <c>normal</c> (or <c>other</c>), <c>fifo</c>, <c>rr</c>,
    /// <c>deadline</c>, with or without <c>SCHED_</c>, any case.</summary>
    public static bool TryParsePolicy(string name, out SchedPolicy policy)
    {
        var n = name.ToLowerInvariant();
        if (n.StartsWith("sched_", StringComparison.Ordinal))
        {
            n = n["sched_".Length..];
        }

        (var ok, policy) = n switch
        {
            "normal" or "other" => (true, SchedPolicy.Normal),
            "fifo" => (true, SchedPolicy.Fifo),
            "rr" => (true, SchedPolicy.RoundRobin),
            "deadline" => (true, SchedPolicy.Deadline),
            _ => (false, SchedPolicy.Normal),
        };
        return ok;
    }

    /// <summary><c>IpiLatencyNs</c> → <c>ipi_latency_ns</c>.</summary>
    public static string Snake(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 8);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c) && i > 0)
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }

    /// <summary>
    /// A duration as users write it: a decimal number and a unit, <c>ns</c>, <c>us</c>, <c>ms</c>, <c>s</c>,
    /// <c>m</c> (minutes) or <c>h</c>: <c>500us</c>, <c>2ms</c>, <c>1.5s</c>, <c>10m</c>; a bare <c>0</c> is zero.
    /// The result must be a whole number of nanoseconds that fits 63 bits.
    /// </summary>
    /// <returns>The nanoseconds, or null with <paramref name="error"/> saying why.</returns>
    public static long? ParseDuration(string text, out string? error)
    {
        error = null;
        var t = text.Trim();
        if (t == "0")
        {
            return 0;
        }

        var unitAt = 0;
        while (unitAt < t.Length && (char.IsAsciiDigit(t[unitAt]) || t[unitAt] is '.' or '-' or '+'))
        {
            unitAt++;
        }

        var number = t[..unitAt];
        var unit = t[unitAt..].Trim();
        long scale = unit switch
        {
            "ns" => 1,
            "us" or "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" or "min" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => 0,
        };
        if (scale == 0)
        {
            error = unit.Length == 0
                ? $"'{text}' has no unit: write a duration such as 500us, 2ms, 1.5s or 10m"
                : $"'{text}' has an unknown unit '{unit}': use ns, us, ms, s, m or h";
            return null;
        }

        if (number.Length == 0 || number.Length > 40
            || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            error = $"'{text}' is not a number followed by a unit, such as 500us, 2ms, 1.5s or 10m";
            return null;
        }

        if (value < 0)
        {
            error = $"'{text}' is negative: a duration is 0 or more";
            return null;
        }

        // decimal holds 28 digits: scale first as a BigInteger fraction so nothing overflows or rounds silently.
        var bits = decimal.GetBits(value);
        var exponent = (bits[3] >> 16) & 0xff;
        var mantissa = new BigInteger((uint)bits[0]) | (new BigInteger((uint)bits[1]) << 32) | (new BigInteger((uint)bits[2]) << 64);
        var numerator = mantissa * scale;
        var denominator = BigInteger.Pow(10, exponent);
        if (!numerator.IsZero && numerator % denominator != 0)
        {
            error = $"'{text}' is not a whole number of nanoseconds";
            return null;
        }

        var ns = numerator / denominator;
        if (ns > long.MaxValue / 4)
        {
            error = $"'{text}' is too long: the model's clock runs up to about 600 years";
            return null;
        }

        return (long)ns;
    }

    /// <summary>The closest of <paramref name="known"/> to <paramref name="word"/>, if close enough to suggest.</summary>
    public static string? Suggest(string word, IEnumerable<string> known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var k in known)
        {
            var d = Distance(word.ToLowerInvariant(), k.ToLowerInvariant());
            if (d < bestDistance)
            {
                (best, bestDistance) = (k, d);
            }
        }

        return best is not null && bestDistance <= (best.Length <= 4 ? 1 : best.Length <= 8 ? 2 : 3) ? best : null;
    }

    /// <summary><c> (did you mean 'x'?)</c> or nothing.</summary>
    public static string DidYouMean(string word, IEnumerable<string> known) =>
        Suggest(word, known) is { } s ? $" (did you mean '{s}'?)" : string.Empty;

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.</summary>
    private static int Distance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64)
        {
            return int.MaxValue;
        }

        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
