namespace TaskIsolation.Simulation;

/// <summary>
/// A random schedule that steers its data choices towards the values the campaign has taken least: the n-th data
/// choice of the run (IPI jitter, same-instant timer order, …) with m options takes value v with a weight of
/// 1 / (1 + t)², t being how many earlier schedules took v at their n-th choice of m options; scheduling decisions are
/// uniform. A campaign that keeps drawing the same jitter, say, moves on to the ones it has not tried, as a systematic
/// search would, while every value keeps a chance. Every choice is a pure function of the counts and the seed.
/// </summary>
public sealed class DirectedStrategy : ISchedulingStrategy
{
    private readonly IReadOnlyDictionary<(int Ordinal, int Options), int[]> _taken;
    private readonly Random _random;
    private int _choices;

    /// <summary>
    /// A strategy drawing from <paramref name="seed"/>, steered by <paramref name="taken"/>: for (the data choice's
    /// ordinal in the run, its number of options), how many schedules took each value. The counts are read, never
    /// changed, and must not change while the run lasts.
    /// </summary>
    public DirectedStrategy(int seed, IReadOnlyDictionary<(int Ordinal, int Options), int[]> taken)
    {
        ArgumentNullException.ThrowIfNull(taken);
        _taken = taken;
        _random = new Random(seed);
    }

    /// <inheritdoc />
    public string Name => "guided";

    /// <inheritdoc />
    public int NextReceiver(IReadOnlyList<string> runnable)
    {
        ArgumentNullException.ThrowIfNull(runnable);
        return _random.Next(runnable.Count);
    }

    /// <inheritdoc />
    public int NextChoice(int options)
    {
        if (!_taken.TryGetValue((_choices++, options), out var counts) || counts.Length != options)
        {
            return _random.Next(options);
        }

        Span<double> weights = options <= 64 ? stackalloc double[options] : new double[options];
        var total = 0.0;
        for (var v = 0; v < options; v++)
        {
            weights[v] = 1.0 / ((1.0 + counts[v]) * (1.0 + counts[v]));
            total += weights[v];
        }

        var x = _random.NextDouble() * total;
        for (var v = 0; v < options; v++)
        {
            x -= weights[v];
            if (x < 0)
            {
                return v;
            }
        }

        return options - 1;
    }
}
