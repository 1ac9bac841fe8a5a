namespace TaskIsolation.Simulation;

/// <summary>
/// A mutant of a recorded schedule, as a fuzzer mutates an input: it replays the first <see cref="Cut"/> decisions of
/// the parent, takes another option than the parent did at the cut (when the parent had one there), and takes every
/// later decision from its <em>tail</em> strategy (uniform random from a seed, or the guided search's directed one), or
/// follows the parent there too (a single-decision mutant). A parent decision that no longer fits (another kind, too
/// few options) is the tail's too, so the strategy never fails; either way every choice is a pure function of the
/// parent, the cut, the tail and the seed.
/// </summary>
public sealed class MutationStrategy : ISchedulingStrategy
{
    private readonly IReadOnlyList<Decision> _parent;
    private readonly Random _random;
    private readonly ISchedulingStrategy _tail;
    private int _position;

    /// <summary>
    /// A mutant of <paramref name="parent"/> cut at decision <paramref name="cut"/>; past the cut, the parent's decisions
    /// again where they fit when <paramref name="keepRest"/> (one decision changed, as a bit flip), else uniform draws
    /// from a seed that follows from <paramref name="seed"/>.
    /// </summary>
    public MutationStrategy(IReadOnlyList<Decision> parent, int cut, int seed, bool keepRest = false)
        : this(parent, cut, new RandomStrategy(unchecked(seed + 1)), seed, keepRest)
    {
    }

    /// <summary>
    /// A mutant of <paramref name="parent"/> cut at decision <paramref name="cut"/> whose draws come from
    /// <paramref name="tail"/>: it is asked every decision, in order (so a strategy that counts its decisions sees them
    /// all), and its answer is taken wherever the mutant does not follow the parent; <paramref name="seed"/> draws the
    /// changed decision at the cut.
    /// </summary>
    public MutationStrategy(IReadOnlyList<Decision> parent, int cut, ISchedulingStrategy tail, int seed, bool keepRest = false)
    {
        ArgumentNullException.ThrowIfNull(tail);
        _tail = tail;
        KeepRest = keepRest;
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentOutOfRangeException.ThrowIfNegative(cut);
        _parent = parent;
        Cut = cut;
        _random = new Random(seed);
    }

    /// <summary>Decisions replayed from the parent before the mutated one.</summary>
    public int Cut { get; }

    /// <summary>Whether the decisions past the cut follow the parent where they fit.</summary>
    public bool KeepRest { get; }

    /// <inheritdoc />
    public string Name => "guided";

    /// <inheritdoc />
    public int NextReceiver(IReadOnlyList<string> runnable)
    {
        ArgumentNullException.ThrowIfNull(runnable);
        return Take(DecisionKind.Schedule, runnable.Count, _tail.NextReceiver(runnable));
    }

    /// <inheritdoc />
    public int NextChoice(int options) => Take(DecisionKind.Choice, options, _tail.NextChoice(options));

    private int Take(DecisionKind kind, int options, int drawn)
    {
        var p = _position++;
        if (p < _parent.Count && _parent[p].Kind == kind && _parent[p].Of == options)
        {
            if (p < Cut || (p > Cut && KeepRest))
            {
                return _parent[p].Chosen;
            }

            if (p == Cut)
            {
                // Another option than the parent's: the one decision this mutant is sure to change.
                var other = _random.Next(options - 1);
                return other >= _parent[p].Chosen ? other + 1 : other;
            }
        }

        return drawn;
    }
}
