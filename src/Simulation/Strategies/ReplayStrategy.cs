namespace TaskIsolation.Simulation;

/// <summary>
/// The earliest decisions of a run that a reproducer does not list: the first <paramref name="Count"/> decisions of the
/// random strategy seeded with <paramref name="Seed"/>, whose digest was <paramref name="Digest"/> (a soak forgets
/// the decisions before its last snapshot; the seeded strategy takes them again).
/// </summary>
/// <param name="Seed">Seed of the random strategy that took them.</param>
/// <param name="Count">How many decisions it took before the recorded ones.</param>
/// <param name="Digest">Their digest.</param>
public sealed record SeededPrefix(int Seed, long Count, DecisionDigest Digest);

/// <summary>
/// Replays a recorded decision list. When the run asks for a decision the record does not hold (another kind, another
/// number of options, or past its end), the model or scenario has changed: it throws <see cref="ReplayDivergedException"/>
/// naming the first divergent decision rather than giving a wrong answer. With a <see cref="SeededPrefix"/>, the
/// decisions before the recorded ones are the seeded random strategy's, checked against their digest once all are
/// taken.
/// </summary>
public sealed class ReplayStrategy : ISchedulingStrategy
{
    private readonly IReadOnlyList<Decision> _decisions;
    private readonly SeededPrefix? _prefix;
    private readonly Random? _random;
    private DecisionDigest _digest = DecisionDigest.Empty;
    private long _regenerated;
    private int _next;

    /// <summary>Replays <paramref name="decisions"/> in order, after the decisions of <paramref name="prefix"/> when one is given.</summary>
    public ReplayStrategy(IReadOnlyList<Decision> decisions, SeededPrefix? prefix = null)
    {
        _decisions = decisions;
        if (prefix is { Count: > 0 })
        {
            _prefix = prefix;
            _random = new Random(prefix.Seed);
        }
    }

    /// <inheritdoc />
    public string Name => "replay";

    /// <summary>How many recorded decisions have been used (the regenerated prefix not counted).</summary>
    public int Used => _next;

    /// <summary>Decisions of the run before the recorded ones (0 without a prefix).</summary>
    public long Offset => _prefix?.Count ?? 0;

    /// <inheritdoc />
    public int NextReceiver(IReadOnlyList<string> runnable) => Take(DecisionKind.Schedule, runnable.Count, runnable);

    /// <inheritdoc />
    public int NextChoice(int options) => Take(DecisionKind.Choice, options, null);

    /// <summary>
    /// Once the run has ended: the divergence of a run that stopped before taking every decision of the prefix, or
    /// before using every recorded one; null when it took them all.
    /// </summary>
    public ReplayDivergedException? Unfinished()
    {
        if (_prefix is { } p && _regenerated < p.Count)
        {
            return new ReplayDivergedException(_regenerated, $"{p.Count} decisions regenerated from seed {p.Seed} before the recorded ones", $"no more decisions after {_regenerated} of them (the run ended first)");
        }

        return _next < _decisions.Count
            ? new ReplayDivergedException(Offset + _next, $"decision {_decisions[_next]}", "no more decisions (the run ended first)")
            : null;
    }

    private int Take(DecisionKind kind, int of, IReadOnlyList<string>? runnable)
    {
        if (_prefix is { } p && _regenerated < p.Count)
        {
            // RandomStrategy's draw, for either kind: the same generator, seeded alike, takes the same decisions.
            var chosen = _random!.Next(of);
            _digest.Add(new Decision(kind, chosen, of));
            if (++_regenerated == p.Count && _digest != p.Digest)
            {
                throw new ReplayDivergedException(p.Count - 1, $"{p.Count} decisions regenerated from seed {p.Seed} with digest {p.Digest}", $"decisions with digest {_digest} (the model or the scenario no longer takes the decisions the run took)");
            }

            return chosen;
        }

        var index = _next;

        // Built only on divergence: joining a thousand receiver names per decision would dominate a replay.
        string Actual() => runnable is null ? $"a choice among {of}" : $"a schedule among {of} [{string.Join(", ", runnable)}]";
        if (index >= _decisions.Count)
        {
            throw new ReplayDivergedException(Offset + index, "the end of the recorded decisions", Actual());
        }

        var d = _decisions[index];
        if (d.Kind != kind || d.Of != of)
        {
            var expected = d.Kind == DecisionKind.Schedule ? $"a schedule among {d.Of}" : $"a choice among {d.Of}";
            throw new ReplayDivergedException(Offset + index, expected, Actual());
        }

        _next++;
        return d.Chosen;
    }
}

/// <summary>A replayed run asked for a different decision than the one recorded at <see cref="Index"/>.</summary>
public sealed class ReplayDivergedException : Exception
{
    /// <summary>Creates the exception for decision <paramref name="index"/>.</summary>
    public ReplayDivergedException(long index, string expected, string actual)
        : base($"replay diverged at decision {index}: recorded {expected}, but the run asked for {actual}")
    {
        Index = index;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Index of the first divergent decision.</summary>
    public long Index { get; }

    /// <summary>What the record holds there.</summary>
    public string Expected { get; }

    /// <summary>What the run asked for.</summary>
    public string Actual { get; }
}
