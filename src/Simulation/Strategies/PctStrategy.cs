namespace TaskIsolation.Simulation;

/// <summary>
/// PCT: every receiver gets a random priority when first seen, the highest-priority runnable receiver always runs,
/// and at <c>d−1</c> random steps among the first <c>k</c> the running receiver drops below every initial priority.
/// A bug of depth <c>d</c> (needing <c>d</c> ordering constraints) among <c>n</c> receivers is found by one schedule
/// with probability at least <c>1/(n·k^(d−1))</c>. Data choices are drawn uniformly; <see cref="Bound(int, int, int, int)"/>
/// counts them in (see there).
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

    /// <summary>
    /// The lower bound on finding, in one schedule, a bug that needs at most <paramref name="depth"/> constraints in all,
    /// each either an ordering of two events or the value of a data choice of up to <paramref name="dataOptions"/>
    /// options, over <paramref name="steps"/> choice points of both kinds and <paramref name="receivers"/> receivers.
    /// With <c>o ≥ 1</c> ordering constraints PCT meets them with probability at least <c>1/(n·k^(d−1))</c> and the
    /// uniform draws meet the <c>d−o ≤ d−1</c> data constraints with probability at least <c>m^−(d−1)</c>; with none, the
    /// draws alone meet all <c>d</c> with probability at least <c>m^−d</c>. The bound is the smaller:
    /// <c>min(1/(n·k^(d−1)·m^(d−1)), m^−d)</c>, which is 1/(n·k^(d−1)) when there are no data choices (<c>m = 1</c>).
    /// </summary>
    public static double Bound(int receivers, int steps, int depth, int dataOptions)
    {
        var m = Math.Max(1, dataOptions);
        return Math.Min(Bound(receivers, steps, depth) / Math.Pow(m, depth - 1), Math.Pow(m, -depth));
    }

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
