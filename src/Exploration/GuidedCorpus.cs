using System.Collections.Frozen;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>
/// What one schedule reached, as the guided strategy counts novelty: a set of features, each a 64-bit hash of typed
/// fields (never of message text). A feature is one of
/// <list type="bullet">
/// <item>a (CPU state × interrupt kind) pair reached (the coverage table's cells), and how often, in AFL's buckets
/// (1, 2, 3, 4–7, 8–15, 16–31, 32–127, 128 and more);</item>
/// <item>an <em>edge</em>: on one CPU, the (state, kind) of an interrupt after the (state, kind) of the one before, alone
/// and with the time between the two in powers of two (races live in narrow windows: two interrupts closer than any
/// schedule brought them before is progress towards one);</item>
/// <item>a <em>chain shape</em>: an interrupt's (state, kind) with the event types of its causal chain, root first;</item>
/// <item>a finding's signature.</item>
/// </list>
/// </summary>
public static class ScheduleFeatures
{
    private const int MaxChain = 16;

    /// <summary>The features of a finished schedule (its machine's recorded events and finding).</summary>
    public static HashSet<ulong> Of(SimulatedMachine machine, FindingInfo? finding)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var features = new HashSet<ulong>();
        var counts = new Dictionary<(CpuState, InterruptKind), int>();
        var last = new Dictionary<int, (CpuState, InterruptKind)>();
        var lastTime = new Dictionary<int, long>();
        var recorder = machine.Recorder;
        foreach (var e in recorder.Events)
        {
            if (e is not InterruptTaken t)
            {
                continue;
            }

            var cell = (t.State, t.Kind);
            counts[cell] = counts.GetValueOrDefault(cell) + 1;
            var edge = last.TryGetValue(t.Cpu, out var before) ? Mix(Mix(2, (ulong)before.Item1 * 64 + (ulong)before.Item2), ((ulong)t.State * 64) + (ulong)t.Kind) : Mix(3, ((ulong)t.State * 64) + (ulong)t.Kind);
            features.Add(edge);
            if (lastTime.TryGetValue(t.Cpu, out var before2))
            {
                // How close this interrupt came to the one before on the CPU, in powers of two: races live in narrow windows.
                var gap = t.Time - before2;
                features.Add(Mix(edge, gap <= 0 ? 0UL : 1UL + (ulong)Math.Log2(gap)));
            }

            last[t.Cpu] = cell;
            lastTime[t.Cpu] = t.Time;

            var shape = Mix(4, ((ulong)t.State * 64) + (ulong)t.Kind);
            MachineEvent? cur = t.Cause == 0 ? null : recorder.Find(t.Cause);
            for (var hops = 0; cur is not null && hops < MaxChain; hops++)
            {
                shape = Mix(shape, Fnv(cur.GetType().Name));
                cur = cur.Cause == 0 ? null : recorder.Find(cur.Cause);
            }

            features.Add(shape);
        }

        foreach (var ((state, kind), n) in counts)
        {
            features.Add(Mix(1, ((ulong)state * 64) + (ulong)kind));
            features.Add(Mix(5, (((ulong)state * 64) + (ulong)kind) * 16 + Bucket(n)));
        }

        if (finding is not null)
        {
            features.Add(Mix(6, Fnv(finding.Signature)));
        }

        return features;
    }

    private static ulong Bucket(int n) => n switch
    {
        1 => 0,
        2 => 1,
        3 => 2,
        < 8 => 3,
        < 16 => 4,
        < 32 => 5,
        < 128 => 6,
        _ => 7,
    };

    private static ulong Mix(ulong a, ulong b)
    {
        var z = unchecked((a * 0x9E3779B97F4A7C15UL) ^ (b + 0x632BE59BD9B4E019UL));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    private static ulong Fnv(string s)
    {
        var h = 14695981039346656037UL;
        foreach (var c in s)
        {
            h = unchecked((h ^ c) * 1099511628211UL);
        }

        return h;
    }
}

/// <summary>
/// The guided strategy's corpus, as a coverage-guided fuzzer keeps one: the schedules that reached a feature no
/// earlier schedule had (<see cref="ScheduleFeatures"/>), each with an energy, the number of features it was first to
/// reach; and, for every data choice point (the n-th data choice of a run, with m options), how often each value was
/// taken. Until the first schedule that reaches nothing new (the <see cref="Plateau"/>) every schedule is the one the
/// <c>random</c> strategy runs at that index, so a race random finds early costs guided the same. Past it, one schedule
/// in <see cref="FreshEvery"/> stays random's, one in <see cref="MutantEvery"/> of the others is a mutant of a corpus
/// entry (<see cref="MutationStrategy"/>: a prefix of its decisions kept, one decision changed, the rest random or the
/// parent's), and the rest are <em>directed</em> (<see cref="DirectedStrategy"/>): random schedules whose data choices
/// lean to the values the campaign has taken least at that choice point.
/// </summary>
/// <remarks>
/// Determinism: a campaign runs in <em>generations</em> of consecutive schedules (sizes 1, 1, 2, 2, 4, 4, … up to
/// <see cref="MaxGeneration"/>, <see cref="GenerationOf"/>). Every schedule of a generation is drawn from the corpus as
/// it stood at the end of the one before, and a generation's results are added to it in schedule order
/// (<see cref="Add"/>), whatever the workers that ran them and whenever they finished. So schedule <c>i</c> is a pure
/// function of the campaign seed and the schedules before its generation, and the campaign's result does not depend on
/// the number of workers.
/// </remarks>
public sealed class GuidedCorpus
{
    /// <summary>The largest generation: what a campaign can spread over workers between two corpus updates.</summary>
    public const int MaxGeneration = 32;

    /// <summary>Past the plateau, one in this many guided schedules is still random's schedule at its index.</summary>
    public const int FreshEvery = 5;

    /// <summary>Past the plateau, one in this many of the schedules that are not random's is a mutant; the others are directed.</summary>
    public const int MutantEvery = 4;

    private readonly long _campaignSeed;
    private readonly HashSet<ulong> _seen = [];
    private readonly List<Entry> _entries = [];
    private readonly Dictionary<(int Ordinal, int Options), int[]> _taken = [];
    private readonly Lock _gate = new();
    private FrozenDictionary<(int Ordinal, int Options), int[]>? _frozen;

    /// <summary>An empty corpus for the campaign seeded with <paramref name="campaignSeed"/>.</summary>
    public GuidedCorpus(long campaignSeed) => _campaignSeed = campaignSeed;

    /// <summary>Schedules kept.</summary>
    public int Count => _entries.Count;

    /// <summary>Distinct features reached so far.</summary>
    public int Features => _seen.Count;

    /// <summary>
    /// Whether a schedule has reached nothing new yet: until then every schedule is random's; from then on mutants and
    /// directed schedules join them.
    /// </summary>
    public bool Plateau { get; private set; }

    /// <summary>The generation [start, end) that schedule <paramref name="index"/> belongs to.</summary>
    public static (long Start, long End) GenerationOf(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        long start = 0, size = 1;
        var twice = false;
        while (index >= start + size)
        {
            start += size;
            if (twice && size < MaxGeneration)
            {
                size *= 2;
            }

            twice = !twice;
        }

        return (start, start + size);
    }

    /// <summary>
    /// The strategy of schedule <paramref name="index"/>, its name (<c>random</c> or <c>guided</c>), its seed and its
    /// parent in the corpus (-1 for none), drawn from the corpus as it stands (callers add every earlier generation
    /// first). Safe to call from several threads between two generations.
    /// </summary>
    public (ISchedulingStrategy Strategy, string Name, int Seed, int Parent) StrategyFor(long index)
    {
        var seed = ScheduleSeeds.For(_campaignSeed, index);
        var random = new Random(seed);
        if (!Plateau || _entries.Count == 0 || random.Next(FreshEvery) == 0)
        {
            return (new RandomStrategy(seed), StrategyNames.Of(StrategyKind.Random), seed, -1);
        }

        if (random.Next(MutantEvery) != 0)
        {
            return (new DirectedStrategy(random.Next(), Taken()), StrategyNames.Of(StrategyKind.Guided), seed, -1);
        }

        var parent = Pick(random);
        var decisions = _entries[parent].Decisions;
        if (decisions.Count == 0)
        {
            return (new RandomStrategy(seed), StrategyNames.Of(StrategyKind.Random), seed, -1);
        }

        var cut = Cut(decisions, random);
        var keepRest = random.Next(2) == 0;
        var mutantSeed = random.Next();
        return (new MutationStrategy(decisions, cut, new DirectedStrategy(random.Next(), Taken()), mutantSeed, keepRest), StrategyNames.Of(StrategyKind.Guided), seed, parent);
    }

    /// <summary>
    /// Adds a finished schedule (in schedule order): its data choices are counted; it joins the corpus when it reached a
    /// feature none before it had, and the first that does not marks the <see cref="Plateau"/>; its parent (-1 for none)
    /// is charged a pick, so the energy moves on to newer entries.
    /// </summary>
    public bool Add(IReadOnlyList<Decision> decisions, IReadOnlySet<ulong> features, int parent)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        ArgumentNullException.ThrowIfNull(features);
        if (parent >= 0 && parent < _entries.Count)
        {
            _entries[parent].Picked++;
        }

        var ordinal = 0;
        foreach (var d in decisions)
        {
            if (d.Kind != DecisionKind.Choice)
            {
                continue;
            }

            if (!_taken.TryGetValue((ordinal, d.Of), out var counts))
            {
                _taken[(ordinal, d.Of)] = counts = new int[d.Of];
            }

            counts[d.Chosen]++;
            ordinal++;
        }

        lock (_gate)
        {
            _frozen = null;
        }

        var fresh = 0;
        foreach (var f in features)
        {
            if (_seen.Add(f))
            {
                fresh++;
            }
        }

        if (fresh == 0)
        {
            Plateau = true;
            return false;
        }

        _entries.Add(new Entry([.. decisions], fresh));
        return true;
    }

    /// <summary>How often each value of each data choice point was taken, as the last generation left it (a copy).</summary>
    private FrozenDictionary<(int Ordinal, int Options), int[]> Taken()
    {
        lock (_gate)
        {
            return _frozen ??= _taken.ToFrozenDictionary(kv => kv.Key, kv => (int[])kv.Value.Clone());
        }
    }

    /// <summary>
    /// A corpus entry by energy: what it was first to reach, divided by how often it has been mutated already, the
    /// newest entries first among equals (they are the frontier).
    /// </summary>
    private int Pick(Random random)
    {
        var weights = new double[_entries.Count];
        var total = 0.0;
        for (var i = 0; i < _entries.Count; i++)
        {
            var e = _entries[i];
            weights[i] = Math.Min(16, e.Novelty) * (1.0 + ((double)i / _entries.Count)) / (1 + e.Picked);
            total += weights[i];
        }

        var x = random.NextDouble() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    /// <summary>
    /// Where to mutate: half the time at one of the parent's deviations from the default (the preemptions and jitters
    /// that made it what it is), otherwise anywhere.
    /// </summary>
    private static int Cut(IReadOnlyList<Decision> decisions, Random random)
    {
        if (random.Next(2) == 0)
        {
            var deviations = new List<int>();
            for (var i = 0; i < decisions.Count; i++)
            {
                if (decisions[i].Chosen != 0)
                {
                    deviations.Add(i);
                }
            }

            if (deviations.Count > 0)
            {
                return deviations[random.Next(deviations.Count)];
            }
        }

        return random.Next(decisions.Count);
    }

    private sealed class Entry(IReadOnlyList<Decision> decisions, int novelty)
    {
        public IReadOnlyList<Decision> Decisions { get; } = decisions;

        public int Novelty { get; } = novelty;

        public int Picked { get; set; }
    }
}
