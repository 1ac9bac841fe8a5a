using Akka.Actor;
using Akka.Configuration;
using TaskIsolation.Actors.Tests.Exploration;
using TaskIsolation.Cluster;
using TaskIsolation.Exploration;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Cluster;

/// <summary>The wire format of cluster messages and the campaign journal.</summary>
public sealed class ClusterSerializationTests : IClassFixture<TlbBatches>
{
    private readonly TlbBatches _batches;

    public ClusterSerializationTests(TlbBatches batches) => _batches = batches;

    [Fact]
    public void A_batch_result_with_findings_survives_the_wire_format()
    {
        var batch = Enumerable.Range(0, (int)_batches.Spec.Batches).First(b => _batches.Result(b).Findings.Count > 0);
        var result = _batches.Result(batch);

        var done = new BatchDone(_batches.Spec.CampaignId, batch, ResultData.Of(result));
        var back = Assert.IsType<BatchDone>(ClusterMessageSerializer.Deserialize(ClusterMessageSerializer.Serialize(done), nameof(BatchDone)));

        Assert.Equal(result.Canonical(), back.Result.ToResult().Canonical());
        Assert.Equal(result.Findings.Select(f => f.Reproducer.ToJson()), back.Result.ToResult().Findings.Select(f => f.Reproducer.ToJson()));
        Assert.Equal(result.Coverage.Entries.ToArray(), back.Result.ToResult().Coverage.Entries.ToArray());
    }

    [Fact]
    public async System.Threading.Tasks.Task Every_message_round_trips_and_the_actor_system_binds_them_to_the_JSON_serializer()
    {
        var spec = _batches.Spec;
        IClusterMessage[] messages =
        [
            new WorkerHello(3),
            new CoordinatorHello(spec.CampaignId),
            new RunBatch(spec, 2, 8, 12, long.MaxValue),
            new RunBatch(spec with { Find = FindingInfo.DoubleReportKind }, 2, 8, 12, long.MaxValue),
            new BatchDone(spec.CampaignId, 2, ResultData.Of(new CampaignResult())),
            new BatchRefused(spec.CampaignId, 2, "model version differs"),
            new BatchCrashed(spec.CampaignId, 2, "System.InvalidOperationException: boom"),
            new CampaignFinished(spec.CampaignId),
        ];
        var node = ClusterNodeConfig.Start(new ClusterNodeOptions { Roles = [ClusterRoles.Worker] });
        try
        {
            foreach (var m in messages)
            {
                var serializer = node.Serialization.FindSerializerFor(m);
                Assert.IsType<ClusterMessageSerializer>(serializer);
                var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, m);
                var back = node.Serialization.Deserialize(serializer.ToBinary(m), serializer.Identifier, manifest);
                if (m is BatchDone d)
                {
                    Assert.Equal(d.Result.ToResult().Canonical(), Assert.IsType<BatchDone>(back).Result.ToResult().Canonical());
                }
                else
                {
                    Assert.Equal(m, back);
                }
            }
        }
        finally
        {
            await node.Terminate();
        }
    }

    [Fact]
    public void Unknown_messages_and_fields_are_rejected_not_half_read()
    {
        Assert.Throws<FormatException>(() => ClusterMessageSerializer.Deserialize("{}"u8.ToArray(), "Nope"));
        Assert.Throws<FormatException>(() => ClusterMessageSerializer.Deserialize("""{"slots":1,"extra":2}"""u8.ToArray(), nameof(WorkerHello)));
        Assert.Throws<FormatException>(() => ClusterMessageSerializer.Deserialize("""{"campaignId":"x","batch":1}"""u8.ToArray(), nameof(BatchDone)));
    }

    [Fact]
    public void The_spec_rebuilds_the_plan_and_its_id_covers_every_field()
    {
        var spec = _batches.Spec;
        var plan = spec.ToPlan();

        Assert.Equal(_batches.Plan.Options with { Workers = 1 }, plan.Options);
        Assert.Equal(_batches.Plan.PctSteps, plan.PctSteps);
        Assert.Equal(spec.CampaignId, spec.ComputeId());
        Assert.NotEqual(spec.CampaignId, (spec with { Seed = spec.Seed + 1 }).ComputeId());
        Assert.NotEqual(spec.CampaignId, (spec with { TargetHash = TargetHash.Of("other") }).ComputeId());
        Assert.Equal((10, 12), (spec with { Iterations = 12, BatchSize = 5 }).RangeOf(2));
    }

    [Fact]
    public void The_journal_resumes_its_batches_and_cuts_a_torn_last_line()
    {
        var path = Path.Combine(Path.GetTempPath(), $"taskisol-journal-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var journal = CampaignJournal.Open(path, _batches.Spec))
            {
                Assert.Empty(journal.Done);
                journal.Append(0, _batches.Result(0));
                journal.Append(2, _batches.Result(2));
            }

            // A crash in the middle of appending batch 1: half a line, no newline.
            var line = File.ReadAllLines(path)[1];
            File.AppendAllText(path, line[..(line.Length / 2)]);
            var before = new FileInfo(path).Length;

            using (var journal = CampaignJournal.Open(path, _batches.Spec))
            {
                Assert.Equal([0L, 2L], journal.Done.Keys.Order());
                Assert.Equal(_batches.Result(2).Canonical(), journal.Done[2].Canonical());
                Assert.Equal(line.Length / 2, journal.TornBytes);
                journal.Append(1, _batches.Result(1));
            }

            Assert.True(new FileInfo(path).Length > before);
            using (var journal = CampaignJournal.Open(path, _batches.Spec))
            {
                Assert.Equal([0L, 1L, 2L], journal.Done.Keys.Order());
                Assert.Equal(0, journal.TornBytes);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_journal_of_another_campaign_or_a_corrupt_one_is_refused_with_the_reason()
    {
        var path = Path.Combine(Path.GetTempPath(), $"taskisol-journal-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var journal = CampaignJournal.Open(path, _batches.Spec))
            {
                journal.Append(0, _batches.Result(0));
            }

            var other = _batches.Spec with { Seed = 99 };
            var mismatch = Assert.ThrowsAny<FormatException>(() => CampaignJournal.Open(path, other with { CampaignId = other.ComputeId() }));
            Assert.Contains("another campaign", mismatch.Message, StringComparison.Ordinal);
            Assert.Contains("seed 99", mismatch.Message, StringComparison.Ordinal);

            // A bad line that is not the last is corruption, not a torn append.
            var lines = File.ReadAllLines(path);
            File.WriteAllLines(path, [lines[0], "{\"batch\":", lines[1]]);
            var corrupt = Assert.Throws<FormatException>(() => CampaignJournal.Open(path, _batches.Spec));
            Assert.Contains("line 2", corrupt.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>A planned TLB-race campaign and a few of its batches, computed once.</summary>
public sealed class TlbBatches : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("tlb-batches", ConfigurationFactory.Empty.WithFallback(SimulationConfig.Hocon));
    private readonly Dictionary<long, CampaignResult> _results = [];

    public TlbBatches()
    {
        Plan = Explorer.Plan(_system, Target, new CampaignOptions { Iterations = 200, BatchSize = 10, Seed = 7, MaxSteps = 50_000, Until = UntilMode.All });
        Spec = CampaignSpec.Of(Target, Plan);
    }

    internal TlbRaceTarget Target { get; } = new();

    public CampaignPlan Plan { get; }

    public CampaignSpec Spec { get; }

    public CampaignResult Result(long batch)
    {
        lock (_results)
        {
            if (!_results.TryGetValue(batch, out var r))
            {
                var (start, end) = Spec.RangeOf(batch);
                _results[batch] = r = Explorer.RunBatch(_system, Target, Plan, start, end);
            }

            return r;
        }
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}
