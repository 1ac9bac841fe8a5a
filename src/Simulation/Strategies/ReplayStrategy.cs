namespace TaskIsolation.Simulation;

/// <summary>
/// Replays a recorded decision list. When the run asks for a decision the record does not hold (another kind, another
/// number of options, or past its end), the model or scenario has changed: it throws <see cref="ReplayDivergedException"/>
/// naming the first divergent decision rather than giving a wrong answer.
/// </summary>
public sealed class ReplayStrategy : ISchedulingStrategy
{
    private readonly IReadOnlyList<Decision> _decisions;
    private int _next;

    /// <summary>Replays <paramref name="decisions"/> in order.</summary>
    public ReplayStrategy(IReadOnlyList<Decision> decisions) => _decisions = decisions;

    /// <inheritdoc />
    public string Name => "replay";

    /// <summary>How many recorded decisions have been used.</summary>
    public int Used => _next;

    /// <inheritdoc />
    public int NextReceiver(IReadOnlyList<string> runnable) => Take(DecisionKind.Schedule, runnable.Count, runnable);

    /// <inheritdoc />
    public int NextChoice(int options) => Take(DecisionKind.Choice, options, null);

    private int Take(DecisionKind kind, int of, IReadOnlyList<string>? runnable)
    {
        var index = _next;

        // Built only on divergence: joining a thousand receiver names per decision would dominate a replay.
        string Actual() => runnable is null ? $"a choice among {of}" : $"a schedule among {of} [{string.Join(", ", runnable)}]";
        if (index >= _decisions.Count)
        {
            throw new ReplayDivergedException(index, "the end of the recorded decisions", Actual());
        }

        var d = _decisions[index];
        if (d.Kind != kind || d.Of != of)
        {
            var expected = d.Kind == DecisionKind.Schedule ? $"a schedule among {d.Of}" : $"a choice among {d.Of}";
            throw new ReplayDivergedException(index, expected, Actual());
        }

        _next++;
        return d.Chosen;
    }
}

/// <summary>A replayed run asked for a different decision than the one recorded at <see cref="Index"/>.</summary>
public sealed class ReplayDivergedException : Exception
{
    /// <summary>Creates the exception for decision <paramref name="index"/>.</summary>
    public ReplayDivergedException(int index, string expected, string actual)
        : base($"replay diverged at decision {index}: recorded {expected}, but the run asked for {actual}")
    {
        Index = index;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Index of the first divergent decision.</summary>
    public int Index { get; }

    /// <summary>What the record holds there.</summary>
    public string Expected { get; }

    /// <summary>What the run asked for.</summary>
    public string Actual { get; }
}
