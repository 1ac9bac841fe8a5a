using System.Globalization;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Simulation;

namespace TaskIsolation.Cluster;

/// <summary>
/// Every message that crosses between cluster nodes: bound to <see cref="ClusterMessageSerializer"/> (JSON), so the
/// wire format is this file's records and nothing of Akka's default serializer.
/// </summary>
public interface IClusterMessage
{
}

/// <summary>
/// Everything a worker needs to run any batch of a campaign, sent with every batch so a worker that joins late, or
/// restarts, never depends on an earlier message: the target's text and hash (the worker rebuilds the target and
/// checks the hash), the model version, the options and the PCT plan the coordinator's calibration schedule gave.
/// </summary>
/// <param name="CampaignId">Identifies the campaign: a hash of every other field.</param>
/// <param name="ModelVersion">The coordinator's <see cref="ModelVersion.Current"/>: workers of another model refuse.</param>
/// <param name="TargetKind">Loader kind of the target (<c>scenario</c>).</param>
/// <param name="TargetName">Target name for logs.</param>
/// <param name="TargetHash">Hash of <paramref name="TargetText"/>.</param>
/// <param name="TargetText">The target's canonical text.</param>
/// <param name="Strategy">Strategy name.</param>
/// <param name="Iterations">Schedules of the campaign.</param>
/// <param name="MaxSteps">Delivery bound of one schedule.</param>
/// <param name="Depth">PCT depth.</param>
/// <param name="Seed">Campaign seed.</param>
/// <param name="Until"><c>all</c> or <c>first</c>.</param>
/// <param name="BatchSize">Schedules per batch.</param>
/// <param name="PctSteps">PCT's <c>k</c> from the calibration schedule.</param>
/// <param name="Receivers">PCT's <c>n</c> from the calibration schedule.</param>
/// <param name="DataOptions">The most options of one data choice of the calibration schedule (PCT's bound).</param>
/// <param name="CalibrationCut">Whether the calibration schedule hit the step bound (no PCT bound then).</param>
/// <param name="Find">The one kind of finding the campaign looks for (<c>--find</c>), or null for any.</param>
public sealed record CampaignSpec(
    string CampaignId,
    string ModelVersion,
    string TargetKind,
    string TargetName,
    string TargetHash,
    string TargetText,
    string Strategy,
    long Iterations,
    long MaxSteps,
    int Depth,
    long Seed,
    string Until,
    int BatchSize,
    int PctSteps,
    int Receivers,
    int DataOptions = 1,
    bool CalibrationCut = false,
    string? Find = null)
{
    /// <summary>Number of batches: batch <c>b</c> holds schedules [b·size, min(iterations, (b+1)·size)).</summary>
    public long Batches => (Iterations + BatchSize - 1) / BatchSize;

    /// <summary>The spec of a campaign of <paramref name="target"/> under <paramref name="plan"/>.</summary>
    public static CampaignSpec Of(IExplorationTarget target, CampaignPlan plan)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(plan);
        var o = plan.Options;
        var spec = new CampaignSpec(
            string.Empty,
            Exploration.ModelVersion.Current,
            target.Kind,
            target.Name,
            target.Hash,
            target.Text,
            StrategyNames.Of(o.Strategy),
            o.Iterations,
            o.MaxSteps,
            o.Depth,
            o.Seed,
            o.Until == UntilMode.First ? "first" : "all",
            o.BatchSize,
            plan.PctSteps,
            plan.Receivers,
            plan.DataOptions,
            plan.CalibrationCut,
            o.Find);
        return spec with { CampaignId = spec.ComputeId() };
    }

    /// <summary>The schedules [start, end) of batch <paramref name="batch"/>.</summary>
    public (long Start, long End) RangeOf(long batch) => (batch * BatchSize, Math.Min(Iterations, (batch + 1) * BatchSize));

    /// <summary>The plan the spec describes; <see cref="FormatException"/> when a field is out of range.</summary>
    public CampaignPlan ToPlan()
    {
        if (!StrategyNames.TryParse(Strategy, out var strategy))
        {
            throw new FormatException($"campaign {CampaignId}: unknown strategy '{Strategy}'");
        }

        var until = Until switch
        {
            "all" => UntilMode.All,
            "first" => UntilMode.First,
            _ => throw new FormatException($"campaign {CampaignId}: unknown until mode '{Until}'"),
        };
        if (Find is not null && !FindingInfo.Kinds.Contains(Find))
        {
            throw new FormatException($"campaign {CampaignId}: unknown kind of finding '{Find}'");
        }

        if (Iterations < 0 || BatchSize < 1 || MaxSteps < 1 || Depth < 1 || PctSteps < 1 || Receivers < 1 || DataOptions < 1)
        {
            throw new FormatException($"campaign {CampaignId}: iterations, batch size, max steps, depth or PCT plan out of range");
        }

        var options = new CampaignOptions
        {
            Strategy = strategy,
            Iterations = Iterations,
            MaxSteps = MaxSteps,
            Depth = Depth,
            Seed = Seed,
            Until = until,
            BatchSize = BatchSize,
            Workers = 1,
            Find = Find,
        };
        return new CampaignPlan(options, PctSteps, Receivers, DataOptions, CalibrationCut);
    }

    /// <summary>
    /// The id this spec's fields give: a changed field is another campaign. <see cref="Find"/> counts only when set, so a
    /// campaign without it keeps the id (and its journal) it had before the field existed.
    /// </summary>
    public string ComputeId() => Exploration.TargetHash.Of(string.Join('\n', new object[]
    {
        ModelVersion, TargetKind, TargetHash, Strategy, Iterations, MaxSteps, Depth, Seed, Until, BatchSize, PctSteps, Receivers, DataOptions, CalibrationCut,
    }.Concat(Find is null ? [] : ["find:" + Find]).Select(o => Convert.ToString(o, CultureInfo.InvariantCulture))))[..("sha256:".Length + 16)];
}

/// <summary>A worker announces itself and how many batches it runs at once (its slots).</summary>
/// <param name="Slots">Batches it runs in parallel.</param>
public sealed record WorkerHello(int Slots) : IClusterMessage;

/// <summary>The coordinator asks a worker it saw join to announce itself (covers a <see cref="WorkerHello"/> sent before the coordinator existed).</summary>
/// <param name="CampaignId">The campaign it runs.</param>
public sealed record CoordinatorHello(string CampaignId) : IClusterMessage;

/// <summary>Run one batch of schedules and reply with <see cref="BatchDone"/>, <see cref="BatchRefused"/> or <see cref="BatchCrashed"/>.</summary>
/// <param name="Campaign">The campaign.</param>
/// <param name="Batch">Batch number.</param>
/// <param name="Start">First schedule index.</param>
/// <param name="End">One past the last schedule index.</param>
/// <param name="Bound">In until-first mode, the lowest failing schedule known when sent (schedules past it are skipped); <see cref="long.MaxValue"/> otherwise.</param>
public sealed record RunBatch(CampaignSpec Campaign, long Batch, long Start, long End, long Bound) : IClusterMessage;

/// <summary>A batch's result.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="Batch">Batch number.</param>
/// <param name="Result">What the batch's schedules gave.</param>
public sealed record BatchDone(string CampaignId, long Batch, ResultData Result) : IClusterMessage;

/// <summary>The worker cannot run the campaign (another model version, a target it cannot load, a hash mismatch): the batch goes to others.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="Batch">Batch number.</param>
/// <param name="Reason">Why, for the coordinator's log.</param>
public sealed record BatchRefused(string CampaignId, long Batch, string Reason) : IClusterMessage;

/// <summary>The model threw while running the batch: a bug any node would hit, so the campaign fails as a single-node one does.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="Batch">Batch number.</param>
/// <param name="Error">The exception, as text.</param>
public sealed record BatchCrashed(string CampaignId, long Batch, string Error) : IClusterMessage;

/// <summary>The coordinator has merged every batch: workers stop expecting work from it.</summary>
/// <param name="CampaignId">The campaign.</param>
public sealed record CampaignFinished(string CampaignId) : IClusterMessage;

/// <summary>One (CPU state × interrupt kind) coverage count.</summary>
/// <param name="State">The <see cref="CpuState"/> name.</param>
/// <param name="Kind">The <see cref="InterruptKind"/> name.</param>
/// <param name="Count">Interrupts taken.</param>
public sealed record CoverageCount(string State, string Kind, long Count);

/// <summary>One finding group; the reproducer is its own JSON document (<see cref="Reproducer.ToJson"/>).</summary>
/// <param name="Signature">Grouping key.</param>
/// <param name="Count">Schedules that found it.</param>
/// <param name="FirstSchedule">Lowest schedule that found it.</param>
/// <param name="Reproducer">That schedule's reproducer, as JSON.</param>
public sealed record FindingData(string Signature, long Count, long FirstSchedule, string Reproducer);

/// <summary>
/// A <see cref="CampaignResult"/> as data: its ranges, counts, coverage and finding groups. <see cref="Of"/> and
/// <see cref="ToResult"/> are inverse: <c>ToResult(Of(r)).Canonical() == r.Canonical()</c>.
/// </summary>
/// <param name="Ranges">Schedule ranges as [start, end) pairs.</param>
/// <param name="Schedules">Schedules run.</param>
/// <param name="Deliveries">Deliveries.</param>
/// <param name="Decisions">Decisions.</param>
/// <param name="StepLimited">Schedules cut by the step bound.</param>
/// <param name="Failing">Schedules that found something.</param>
/// <param name="FirstFinding">Lowest failing schedule, <see cref="long.MaxValue"/> when none.</param>
/// <param name="Coverage">Coverage counts.</param>
/// <param name="Findings">Finding groups.</param>
/// <param name="MostDecisions">The most decisions one schedule took (0 in a journal written before it was kept).</param>
public sealed record ResultData(
    IReadOnlyList<long[]> Ranges,
    long Schedules,
    long Deliveries,
    long Decisions,
    long StepLimited,
    long Failing,
    long FirstFinding,
    IReadOnlyList<CoverageCount> Coverage,
    IReadOnlyList<FindingData> Findings,
    long MostDecisions = 0)
{
    /// <summary>The data of <paramref name="result"/>.</summary>
    public static ResultData Of(CampaignResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new ResultData(
            [.. result.Ranges.Select(r => new[] { r.Start, r.End })],
            result.Schedules,
            result.Deliveries,
            result.Decisions,
            result.StepLimited,
            result.FailingSchedules,
            result.FirstFinding,
            [.. result.Coverage.Entries.Select(e => new CoverageCount(e.State.ToString(), e.Kind.ToString(), e.Count))],
            [.. result.Findings.Select(f => new FindingData(f.Signature, f.Count, f.FirstSchedule, f.Reproducer.ToJson()))],
            result.MostDecisions);
    }

    /// <summary>The result this data describes; <see cref="FormatException"/> for anything inconsistent.</summary>
    public CampaignResult ToResult()
    {
        if (Ranges is null || Coverage is null || Findings is null)
        {
            throw new FormatException("result: ranges, coverage and findings are required");
        }

        var coverage = new CoverageMap();
        foreach (var c in Coverage)
        {
            if (!Enum.TryParse<CpuState>(c.State, out var state) || !Enum.IsDefined(state)
                || !Enum.TryParse<InterruptKind>(c.Kind, out var kind) || !Enum.IsDefined(kind) || c.Count < 0)
            {
                throw new FormatException($"result: bad coverage entry {c.State}/{c.Kind}/{c.Count}");
            }

            coverage.Add(state, kind, c.Count);
        }

        var ranges = new List<(long, long)>();
        foreach (var r in Ranges)
        {
            if (r is not { Length: 2 } || r[0] < 0 || r[1] <= r[0])
            {
                throw new FormatException("result: a range must be [start, end) with 0 <= start < end");
            }

            ranges.Add((r[0], r[1]));
        }

        try
        {
            var findings = Findings.Select(f => new FindingGroup(f.Signature, f.Count, f.FirstSchedule, Reproducer.Parse(f.Reproducer))).ToList();
            return CampaignResult.FromParts(ranges, Schedules, Deliveries, Decisions, StepLimited, Failing, FirstFinding, coverage, findings, MostDecisions);
        }
        catch (InvalidOperationException ex)
        {
            throw new FormatException($"result: {ex.Message}", ex);
        }
    }
}
