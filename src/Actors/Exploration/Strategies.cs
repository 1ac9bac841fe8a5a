using System.Globalization;
using TaskIsolation.Actors.Simulation;

namespace TaskIsolation.Actors.Exploration;

/// <summary>How a campaign picks schedules.</summary>
public enum StrategyKind
{
    /// <summary>Uniform random choice at every open point.</summary>
    Random,

    /// <summary>Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).</summary>
    Pct,

    /// <summary>Random and PCT alternating schedule by schedule (the default).</summary>
    Portfolio,
}

/// <summary>Names of strategies as the command line and reproducers spell them.</summary>
public static class StrategyNames
{
    /// <summary><c>random</c>, <c>pct</c> or <c>portfolio</c>.</summary>
    public static string Of(StrategyKind kind) => kind switch
    {
        StrategyKind.Random => "random",
        StrategyKind.Pct => "pct",
        StrategyKind.Portfolio => "portfolio",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Parses <see cref="Of"/>'s form; false for anything else.</summary>
    public static bool TryParse(string? text, out StrategyKind kind)
    {
        switch (text)
        {
            case "random":
                kind = StrategyKind.Random;
                return true;
            case "pct":
                kind = StrategyKind.Pct;
                return true;
            case "portfolio":
                kind = StrategyKind.Portfolio;
                return true;
            default:
                kind = default;
                return false;
        }
    }
}

/// <summary>
/// PCT: every receiver gets a random priority when first seen, the highest-priority runnable receiver always runs,
/// and at <c>d−1</c> random steps among the first <c>k</c> the running receiver drops below every initial priority.
/// A bug of depth <c>d</c> (needing <c>d</c> ordering constraints) among <c>n</c> receivers is found by one schedule
/// with probability at least <c>1/(n·k^(d−1))</c>. Data choices are uniform: PCT speaks only of scheduling.
/// </summary>
public sealed class PctStrategy : ISchedulingStrategy
{
    private readonly Random _random;
    private readonly Dictionary<string, double> _priority = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> _changeAt = [];
    private int _step;

    /// <summary>A PCT schedule of depth <paramref name="depth"/> over an estimated <paramref name="steps"/> scheduling steps.</summary>
    public PctStrategy(int seed, int depth, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        _random = new Random(seed);
        Depth = depth;
        Steps = steps;

        // d−1 distinct change points in [1, k]; the i-th drops the running receiver to priority i (1 ≤ i < d), below
        // every initial priority (all ≥ d).
        var points = new List<int>();
        while (points.Count < Math.Min(depth - 1, steps))
        {
            var p = _random.Next(1, steps + 1);
            if (!points.Contains(p))
            {
                points.Add(p);
            }
        }

        for (var i = 0; i < points.Count; i++)
        {
            _changeAt[points[i]] = i + 1;
        }
    }

    /// <summary>The bug depth <c>d</c> this schedule targets.</summary>
    public int Depth { get; }

    /// <summary>The step estimate <c>k</c>.</summary>
    public int Steps { get; }

    /// <inheritdoc />
    public string Name => "pct";

    /// <summary>The lower bound on finding a bug of depth <paramref name="depth"/> in one schedule: 1/(n·k^(d−1)).</summary>
    public static double Bound(int receivers, int steps, int depth) =>
        1.0 / (Math.Max(1, receivers) * Math.Pow(Math.Max(1, steps), depth - 1));

    /// <inheritdoc />
    public int NextReceiver(IReadOnlyList<string> runnable)
    {
        _step++;
        var best = Highest(runnable);
        if (_changeAt.TryGetValue(_step, out var lowered))
        {
            _priority[runnable[best]] = lowered;
            best = Highest(runnable);
        }

        return best;
    }

    /// <inheritdoc />
    public int NextChoice(int options) => _random.Next(options);

    private int Highest(IReadOnlyList<string> runnable)
    {
        var best = -1;
        var bestPriority = double.NegativeInfinity;
        for (var i = 0; i < runnable.Count; i++)
        {
            if (!_priority.TryGetValue(runnable[i], out var p))
            {
                // A random initial priority in (d, d+1): a random permutation of the receivers, above every change.
                p = Depth + _random.NextDouble();
                _priority[runnable[i]] = p;
            }

            if (p > bestPriority)
            {
                best = i;
                bestPriority = p;
            }
        }

        return best;
    }
}

/// <summary>
/// Follows chosen deviations from the default and takes the default (option 0: the oldest runnable receiver, no
/// jitter, the first same-time timer) everywhere else. Minimization searches over which deviations to keep; a
/// deviation that no longer fits the run (another kind or too few options) falls back to the default.
/// </summary>
public sealed class GuidedStrategy : ISchedulingStrategy
{
    private readonly IReadOnlyDictionary<int, Decision> _deviations;
    private int _position;

    /// <summary>Deviations by decision position.</summary>
    public GuidedStrategy(IReadOnlyDictionary<int, Decision> deviations) => _deviations = deviations;

    /// <inheritdoc />
    public string Name => "guided";

    /// <inheritdoc />
    public int NextReceiver(IReadOnlyList<string> runnable) => Take(DecisionKind.Schedule, runnable.Count);

    /// <inheritdoc />
    public int NextChoice(int options) => Take(DecisionKind.Choice, options);

    private int Take(DecisionKind kind, int options)
    {
        var p = _position++;
        return _deviations.TryGetValue(p, out var d) && d.Kind == kind && d.Chosen < options ? d.Chosen : 0;
    }
}

/// <summary>Builds the strategy of one schedule.</summary>
public static class StrategyFactory
{
    /// <summary>The strategy <paramref name="kind"/> (random or PCT) seeded with <paramref name="seed"/>.</summary>
    public static ISchedulingStrategy Create(StrategyKind kind, int seed, int depth, int pctSteps) => kind switch
    {
        StrategyKind.Random => new RandomStrategy(seed),
        StrategyKind.Pct => new PctStrategy(seed, depth, pctSteps),
        _ => throw new ArgumentException($"a single schedule runs random or pct, not {StrategyNames.Of(kind)}", nameof(kind)),
    };

    /// <summary>Text of a decision list as reproducers store it: <c>s0/2 c3/4 …</c>.</summary>
    public static string Format(IEnumerable<Decision> decisions) => string.Join(' ', decisions.Select(d => d.ToString()));

    /// <summary>Parses <see cref="Format"/>'s text.</summary>
    public static IReadOnlyList<Decision> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var list = new List<Decision>(parts.Length);
        for (var i = 0; i < parts.Length; i++)
        {
            try
            {
                list.Add(Decision.Parse(parts[i]));
            }
            catch (FormatException ex)
            {
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"decision {i}: {ex.Message}"), ex);
            }
        }

        return list;
    }
}
