namespace TaskIsolation.Simulation;

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
