using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>
/// The decision tree of a target, searched depth first without keeping states (as CHESS does): every schedule is run
/// from the start, replaying the current path's decisions and taking the first untried option past it; after each run
/// the deepest decision with an option left moves to it. With <see cref="Reduction"/> it keeps sleep sets (Godefroid
/// 1996): once the subtree of a delivery has been explored at a decision, that delivery sleeps in its siblings' subtrees
/// until a delivery dependent on it runs, and a schedule whose every runnable delivery sleeps is cut, as equivalent to
/// one already run. Dependence is <see cref="Footprint.Independent"/>'s (docs/exploration.md).
/// </summary>
public sealed class ExhaustiveSearch
{
    private readonly List<Node> _path = [];
    private bool _started;

    /// <summary>A search with or without sleep-set reduction.</summary>
    public ExhaustiveSearch(bool reduction) => Reduction = reduction;

    /// <summary>Whether sleep sets prune equivalent schedules.</summary>
    public bool Reduction { get; }

    /// <summary>Schedules run to their end (or to a finding).</summary>
    public long Schedules { get; private set; }

    /// <summary>Branches cut as equivalent: options of a decision skipped because they slept, and runs cut because every delivery left slept.</summary>
    public long Pruned { get; private set; }

    /// <summary>Whether the whole tree has been searched.</summary>
    public bool Complete { get; private set; }

    /// <summary>
    /// The share of the tree searched so far, as far as it is known: each decision's options weigh alike, and a subtree
    /// counts as searched once the path has moved past it.
    /// </summary>
    public double Fraction
    {
        get
        {
            if (Complete)
            {
                return 1;
            }

            double done = 0, weight = 1;
            foreach (var n in _path)
            {
                var share = weight / n.Of;
                done += share * n.Finished;
                weight = share;
            }

            return done;
        }
    }

    /// <summary>The strategy of the next schedule, or null when the tree is exhausted.</summary>
    public ExhaustiveStrategy? Next()
    {
        if (_started && !Backtrack())
        {
            Complete = true;
            return null;
        }

        _started = true;
        return new ExhaustiveStrategy(this);
    }

    /// <summary>Records how the run of <paramref name="strategy"/> ended (call after every run).</summary>
    public void Finished(ExhaustiveStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        // A cut run's branches were counted as pruned where it was cut.
        if (!strategy.Blocked)
        {
            Schedules++;
        }
    }

    private bool Backtrack()
    {
        while (_path.Count > 0)
        {
            var n = _path[^1];
            n.Finished++;
            if (n.Kind == DecisionKind.Choice)
            {
                if (n.Chosen + 1 < n.Of)
                {
                    n.Chosen++;
                    return true;
                }
            }
            else
            {
                n.Done.Add(new Sleeper(n.Ids![n.Chosen], n.Current ?? Footprint.Unknown(n.Ids[n.Chosen])));
                n.Current = null;
                var next = NextOption(n, n.Chosen + 1);
                if (next >= 0)
                {
                    n.Chosen = next;
                    return true;
                }
            }

            _path.RemoveAt(_path.Count - 1);
        }

        return false;
    }

    /// <summary>The first option from <paramref name="from"/> on that sleeps not at <paramref name="n"/>; counts those that do as pruned.</summary>
    private int NextOption(Node n, int from)
    {
        for (var i = from; i < n.Of; i++)
        {
            if (n.Sleep.Any(s => s.Receiver == n.Ids![i]))
            {
                Pruned++;
                n.Finished++;
                continue;
            }

            return i;
        }

        return -1;
    }

    /// <summary>One decision of the current path.</summary>
    private sealed class Node(DecisionKind kind, int of)
    {
        public DecisionKind Kind { get; } = kind;

        public int Of { get; } = of;

        public int Chosen { get; set; }

        /// <summary>Options whose subtrees are finished (searched or pruned), for <see cref="Fraction"/>.</summary>
        public int Finished { get; set; }

        /// <summary>The receivers offered (scheduling decisions).</summary>
        public int[]? Ids { get; init; }

        /// <summary>The deliveries asleep when the path reached this decision.</summary>
        public List<Sleeper> Sleep { get; init; } = [];

        /// <summary>Options whose subtrees are searched, with the union of their footprints over those runs.</summary>
        public List<Sleeper> Done { get; } = [];

        /// <summary>The union of the chosen option's footprints over the runs so far.</summary>
        public Footprint? Current { get; set; }
    }

    /// <summary>A delivery asleep: its receiver and what it touched when it ran.</summary>
    internal readonly record struct Sleeper(int Receiver, Footprint Footprint);

    /// <summary>
    /// Follows the search's path, extends it past its end with first untried options, and keeps the sleep set along
    /// the run. One per schedule.
    /// </summary>
    public sealed class ExhaustiveStrategy : ISchedulingStrategy, IDeliveryObserver
    {
        private readonly ExhaustiveSearch _search;
        private List<Sleeper> _sleep = [];
        private int _position;
        private int[]? _offered;
        private Node? _deciding;
        private Footprint? _delivery;

        internal ExhaustiveStrategy(ExhaustiveSearch search) => _search = search;

        /// <inheritdoc />
        public string Name => "exhaustive";

        /// <summary>Whether the run was cut because every delivery left slept.</summary>
        public bool Blocked { get; private set; }

        /// <inheritdoc />
        public void Offered(IReadOnlyList<int> runnable) => _offered = [.. runnable];

        /// <inheritdoc />
        public int NextReceiver(IReadOnlyList<string> runnable)
        {
            ArgumentNullException.ThrowIfNull(runnable);
            var ids = _offered ?? throw new InvalidOperationException("the exhaustive strategy needs a controlled simulation that offers receiver ids");
            _offered = null;
            if (Blocked)
            {
                return 0;
            }

            var path = _search._path;
            if (_position < path.Count)
            {
                var n = path[_position++];
                if (n.Kind != DecisionKind.Schedule || !n.Ids!.SequenceEqual(ids))
                {
                    throw new InvalidOperationException($"the model is not deterministic: decision {_position - 1} offered other receivers than on an earlier run of the same decisions");
                }

                _deciding = n;
                return n.Chosen;
            }

            var sleep = _search.Reduction ? _sleep : [];
            var node = new Node(DecisionKind.Schedule, ids.Length) { Ids = ids, Sleep = [.. sleep] };
            var first = _search.NextOption(node, 0);
            if (first < 0)
            {
                // Every delivery left sleeps: whatever comes next is equivalent to a schedule already run.
                Blocked = true;
                return 0;
            }

            node.Chosen = first;
            path.Add(node);
            _position++;
            _deciding = node;
            return first;
        }

        /// <inheritdoc />
        public int NextChoice(int options)
        {
            if (Blocked)
            {
                return 0;
            }

            if (_delivery is null)
            {
                // A choice between deliveries (same-instant timer order): nothing is pending then, so nothing sleeps.
                _sleep = [];
            }

            var path = _search._path;
            if (_position < path.Count)
            {
                var n = path[_position++];
                if (n.Kind != DecisionKind.Choice || n.Of != options)
                {
                    throw new InvalidOperationException($"the model is not deterministic: decision {_position - 1} asked for other options than on an earlier run of the same decisions");
                }

                return n.Chosen;
            }

            path.Add(new Node(DecisionKind.Choice, options));
            _position++;
            return 0;
        }

        /// <inheritdoc />
        public bool Delivering(int receiver)
        {
            if (Blocked)
            {
                return false;
            }

            if (_deciding is null && _search.Reduction && _sleep.Any(s => s.Receiver == receiver))
            {
                // The only delivery left sleeps.
                Blocked = true;
                _search.Pruned++;
                return false;
            }

            _delivery = new Footprint(receiver);
            return true;
        }

        /// <inheritdoc />
        public void Sent(int receiver) => _delivery?.Writes.Add(receiver);

        /// <inheritdoc />
        public void Delivered(long sharedAccesses)
        {
            var d = _delivery!;
            _delivery = null;
            d.Shared = sharedAccesses > 0;
            IEnumerable<Sleeper> before = _sleep;
            if (_deciding is { } n)
            {
                n.Current = n.Current is null ? d : n.Current.Union(d);
                before = n.Sleep.Concat(n.Done);
                _deciding = null;
            }

            _sleep = _search.Reduction ? [.. before.Where(s => s.Receiver != d.Receiver && Footprint.Independent(s.Footprint, d))] : [];
        }
    }
}

/// <summary>
/// What one delivery touched: its receiver's state and queue, the queues of the receivers it sent to at the same
/// instant, and whether it touched shared state (kernel memory, the event recorder).
/// </summary>
public sealed class Footprint
{
    /// <summary>The footprint of a delivery to <paramref name="receiver"/> that has touched nothing else yet.</summary>
    public Footprint(int receiver)
    {
        Receiver = receiver;
        Writes = [receiver];
    }

    /// <summary>The receiver.</summary>
    public int Receiver { get; }

    /// <summary>The queues written: the receiver's (taken from) and those sent to.</summary>
    public HashSet<int> Writes { get; }

    /// <summary>Whether it touched shared state.</summary>
    public bool Shared { get; set; }

    /// <summary>Whether it is unknown, hence dependent on everything.</summary>
    public bool All { get; private init; }

    /// <summary>A footprint dependent on every delivery.</summary>
    public static Footprint Unknown(int receiver) => new(receiver) { Shared = true, All = true };

    /// <summary>
    /// Two deliveries commute when they go to different receivers, write no common queue (neither sends to a receiver
    /// the other sends to or takes from) and not both touch shared state.
    /// </summary>
    public static bool Independent(Footprint a, Footprint b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return !a.All && !b.All && a.Receiver != b.Receiver && !(a.Shared && b.Shared) && !a.Writes.Overlaps(b.Writes);
    }

    /// <summary>What either touched (the same receiver's delivery over different runs).</summary>
    public Footprint Union(Footprint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var u = new Footprint(Receiver) { Shared = Shared || other.Shared, All = All || other.All };
        u.Writes.UnionWith(Writes);
        u.Writes.UnionWith(other.Writes);
        return u;
    }
}
