using System.Globalization;
using System.Text;

namespace TaskIsolation.Exploration;

/// <summary>When a campaign stops.</summary>
public enum UntilMode
{
    /// <summary>Run every schedule.</summary>
    All,

    /// <summary>Stop at the first schedule (lowest index) that finds something; the schedules before it all run.</summary>
    First,
}

/// <summary>One distinct finding of a campaign: its signature, how many schedules hit it, and the first one's reproducer.</summary>
/// <param name="Signature">The grouping key.</param>
/// <param name="Count">Schedules that found it.</param>
/// <param name="FirstSchedule">Lowest schedule index that found it.</param>
/// <param name="Reproducer">The reproducer of that schedule.</param>
public sealed record FindingGroup(string Signature, long Count, long FirstSchedule, Reproducer Reproducer);

/// <summary>
/// The result of some schedules of a campaign. A batch of consecutive schedules makes one; results merge by a pure,
/// order-independent function (<see cref="Merge"/>): counts add, coverage adds, and each signature keeps the
/// reproducer of its lowest schedule index. So any split of a campaign's schedules — threads or cluster nodes —
/// merges to the result of one node running them all.
/// </summary>
public sealed class CampaignResult
{
    private readonly SortedDictionary<string, FindingGroup> _findings = new(StringComparer.Ordinal);
    private readonly List<(long Start, long End)> _ranges = [];

    /// <summary>Schedule index ranges [start, end) this result covers, ascending and disjoint.</summary>
    public IReadOnlyList<(long Start, long End)> Ranges => _ranges;

    /// <summary>Schedules run.</summary>
    public long Schedules { get; private set; }

    /// <summary>Model messages delivered over all schedules.</summary>
    public long Deliveries { get; private set; }

    /// <summary>Decisions taken over all schedules.</summary>
    public long Decisions { get; private set; }

    /// <summary>The most decisions one schedule took: whether every schedule stayed within PCT's <c>k</c>.</summary>
    public long MostDecisions { get; private set; }

    /// <summary>Schedules that stopped on the step bound.</summary>
    public long StepLimited { get; private set; }

    /// <summary>Schedules that found something.</summary>
    public long FailingSchedules { get; private set; }

    /// <summary>Lowest schedule index that found something; <see cref="long.MaxValue"/> when none.</summary>
    public long FirstFinding { get; private set; } = long.MaxValue;

    /// <summary>(CPU state × interrupt kind) coverage.</summary>
    public CoverageMap Coverage { get; } = new();

    /// <summary>Distinct findings, by signature.</summary>
    public IReadOnlyCollection<FindingGroup> Findings => _findings.Values;

    /// <summary>
    /// Merges results. With <see cref="UntilMode.First"/> the parts must be single batches: only those at or below
    /// the lowest failing index are kept (the batch holding it stopped there), which is exactly what one node running
    /// the schedules in order would have run.
    /// </summary>
    public static CampaignResult Merge(IEnumerable<CampaignResult> parts, UntilMode until = UntilMode.All)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var list = parts.OrderBy(p => p._ranges.Count == 0 ? long.MaxValue : p._ranges[0].Start).ToList();
        if (until == UntilMode.First)
        {
            var bound = list.Count == 0 ? long.MaxValue : list.Min(p => p.FirstFinding);
            list = [.. list.Where(p => p._ranges.Count > 0 && p._ranges[0].Start <= bound)];
        }

        var merged = new CampaignResult();
        foreach (var p in list)
        {
            merged.AddAll(p);
        }

        return merged;
    }

    /// <summary>
    /// Rebuilds a result from its parts, as a serialized copy (a cluster message, a journal line) stores them: the
    /// inverse of reading <see cref="Ranges"/>, the counts, <see cref="Coverage"/> and <see cref="Findings"/>.
    /// Overlapping ranges or a repeated signature are rejected, as in <see cref="Merge"/>.
    /// </summary>
    public static CampaignResult FromParts(IEnumerable<(long Start, long End)> ranges, long schedules, long deliveries, long decisions, long stepLimited, long failing, long firstFinding, CoverageMap coverage, IEnumerable<FindingGroup> findings, long mostDecisions = 0)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(coverage);
        ArgumentNullException.ThrowIfNull(findings);
        var r = new CampaignResult
        {
            Schedules = schedules,
            Deliveries = deliveries,
            Decisions = decisions,
            MostDecisions = mostDecisions,
            StepLimited = stepLimited,
            FailingSchedules = failing,
            FirstFinding = firstFinding,
        };
        foreach (var (start, end) in ranges)
        {
            r.AddRange(start, end);
        }

        r.Coverage.Add(coverage);
        foreach (var f in findings)
        {
            if (!r._findings.TryAdd(f.Signature, f))
            {
                throw new InvalidOperationException($"finding '{f.Signature}' appears twice");
            }
        }

        return r;
    }

    /// <summary>Adds one schedule's outcome.</summary>
    public void Add(long index, long deliveries, int decisions, bool stepLimited, CoverageMap coverage, (FindingInfo Finding, Func<Reproducer> Reproducer)? finding)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        AddRange(index, index + 1);
        Schedules++;
        Deliveries += deliveries;
        Decisions += decisions;
        MostDecisions = Math.Max(MostDecisions, decisions);
        StepLimited += stepLimited ? 1 : 0;
        Coverage.Add(coverage);
        if (finding is { } f)
        {
            FailingSchedules++;
            FirstFinding = Math.Min(FirstFinding, index);
            // Build a reproducer only when this schedule is the signature's first so far (it costs a JSON-sized string).
            var sig = f.Finding.Signature;
            var reproducer = _findings.TryGetValue(sig, out var had) && had.FirstSchedule < index ? had.Reproducer : f.Reproducer();
            AddFinding(new FindingGroup(sig, 1, index, reproducer));
        }
    }

    /// <summary>A deterministic text of everything in the result: equal texts, equal results.</summary>
    public string Canonical()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"schedules {Schedules} deliveries {Deliveries} decisions {Decisions} most {MostDecisions} step-limited {StepLimited} failing {FailingSchedules} first {FirstFinding}\n");
        sb.Append("ranges ").AppendJoin(' ', _ranges.Select(r => $"{r.Start}-{r.End}")).Append('\n');
        foreach (var (s, k, c) in Coverage.Entries)
        {
            sb.Append(CultureInfo.InvariantCulture, $"coverage {s} {k} {c}\n");
        }

        foreach (var f in _findings.Values)
        {
            sb.Append(CultureInfo.InvariantCulture, $"finding {f.Signature} count {f.Count} first {f.FirstSchedule} seed {f.Reproducer.Run.Seed} decisions {f.Reproducer.Decisions}\n");
        }

        return sb.ToString();
    }

    private void AddAll(CampaignResult p)
    {
        foreach (var (start, end) in p._ranges)
        {
            AddRange(start, end);
        }

        Schedules += p.Schedules;
        Deliveries += p.Deliveries;
        Decisions += p.Decisions;
        MostDecisions = Math.Max(MostDecisions, p.MostDecisions);
        StepLimited += p.StepLimited;
        FailingSchedules += p.FailingSchedules;
        FirstFinding = Math.Min(FirstFinding, p.FirstFinding);
        Coverage.Add(p.Coverage);
        foreach (var f in p._findings.Values)
        {
            AddFinding(f);
        }
    }

    private void AddFinding(FindingGroup f)
    {
        if (_findings.TryGetValue(f.Signature, out var had))
        {
            var first = had.FirstSchedule <= f.FirstSchedule ? had : f;
            _findings[f.Signature] = first with { Count = had.Count + f.Count };
        }
        else
        {
            _findings[f.Signature] = f;
        }
    }

    /// <summary>Adds a range, joining neighbours; a schedule counted twice is a bug of the caller, never merged silently.</summary>
    private void AddRange(long start, long end)
    {
        var i = 0;
        while (i < _ranges.Count && _ranges[i].Start < start)
        {
            i++;
        }

        if ((i > 0 && _ranges[i - 1].End > start) || (i < _ranges.Count && _ranges[i].Start < end))
        {
            var other = i > 0 && _ranges[i - 1].End > start ? _ranges[i - 1] : _ranges[i];
            throw new InvalidOperationException($"schedules {start}-{end} overlap {other.Start}-{other.End}: each schedule must be counted once");
        }

        _ranges.Insert(i, (start, end));

        // Join with the next and previous ranges when they touch.
        if (i + 1 < _ranges.Count && _ranges[i].End == _ranges[i + 1].Start)
        {
            _ranges[i] = (_ranges[i].Start, _ranges[i + 1].End);
            _ranges.RemoveAt(i + 1);
        }

        if (i > 0 && _ranges[i - 1].End == _ranges[i].Start)
        {
            _ranges[i - 1] = (_ranges[i - 1].Start, _ranges[i].End);
            _ranges.RemoveAt(i);
        }
    }
}
