using Akka.Actor;
using Akka.TestKit.Xunit2;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Simulation;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Actors.Tests.Exploration;

/// <summary>Exploration end to end on §9 R9 (a sibling munmap racing the isolated task's user-mode windows).</summary>
public sealed class ExplorationTests : TestKit
{
    private const string TlbSignature = "violation CallFunctionIpi on a nohz_full+isolcpus+task_isolation cpu; root: task step munmap";

    public ExplorationTests()
        : base(SimulationConfig.Hocon)
    {
    }

    private static CampaignOptions Options(StrategyKind strategy = StrategyKind.Portfolio, long iterations = 300, UntilMode until = UntilMode.First, int workers = 1) =>
        new() { Strategy = strategy, Iterations = iterations, Seed = 7, Until = until, Workers = workers, MaxSteps = 50_000 };

    private Reproducer FindTlbRace()
    {
        var target = new TlbRaceTarget();
        var plan = Explorer.Plan(Sys, target, Options());
        var result = Explorer.RunBatch(Sys, target, plan, 0, 300);
        return Assert.Single(result.Findings).Reproducer;
    }

    [Fact]
    public void A_campaign_finds_the_TLB_shootdown_race_and_groups_it_under_one_signature()
    {
        var report = Explorer.Run(new TlbRaceTarget(), Options(until: UntilMode.All, iterations: 200, workers: 2));

        var group = Assert.Single(report.Result.Findings);
        Assert.Equal(TlbSignature, group.Signature);
        Assert.InRange(group.Count, 2, 100);
        Assert.Equal(200, report.Result.Schedules);
        Assert.Equal(3, group.Reproducer.Finding.Cpu);
        Assert.StartsWith("task sibling/", group.Reproducer.Finding.Root, StringComparison.Ordinal);

        // Coverage names the corner the bug lives in, and the safe one next to it.
        Assert.True(report.Result.Coverage[CpuState.UserIsolated, InterruptKind.CallFunctionIpi] > 0);
        Assert.True(report.Result.Coverage[CpuState.Kernel, InterruptKind.CallFunctionIpi] > 0);
    }

    [Fact]
    public void Until_first_stops_at_the_lowest_failing_schedule_whatever_the_workers()
    {
        var one = Explorer.Run(new TlbRaceTarget(), Options(workers: 1));
        var two = Explorer.Run(new TlbRaceTarget(), Options(workers: 2) with { BatchSize = 3 });

        Assert.Equal(one.Result.Canonical(), two.Result.Canonical());
        Assert.Equal(one.Result.FirstFinding + 1, one.Result.Schedules);
        Assert.Equal(1, one.Result.FailingSchedules);
    }

    [Fact]
    public void Batch_results_merge_to_the_single_run_result_in_any_order()
    {
        var target = new TlbRaceTarget();
        var plan = Explorer.Plan(Sys, target, Options(until: UntilMode.All));
        var whole = Explorer.RunBatch(Sys, target, plan, 0, 60);
        var parts = new[] { (40, 60), (0, 13), (13, 40) }.Select(r => Explorer.RunBatch(Sys, target, plan, r.Item1, r.Item2)).ToList();

        Assert.Equal(whole.Canonical(), CampaignResult.Merge(parts).Canonical());
        Assert.Equal(whole.Canonical(), CampaignResult.Merge(Enumerable.Reverse(parts)).Canonical());
        Assert.Equal([(0L, 60L)], CampaignResult.Merge(parts).Ranges);
        Assert.Throws<InvalidOperationException>(() => CampaignResult.Merge([.. parts, parts[1]]));
    }

    [Fact]
    public void The_reproducer_replays_to_the_same_finding_and_survives_JSON()
    {
        var reproducer = Reproducer.Parse(FindTlbRace().ToJson());

        var report = Replayer.Replay(Sys, reproducer, TlbRaceTarget.Load);

        Assert.Equal(ReplayStatus.Reproduced, report.Status);
        Assert.Equal(reproducer.Finding, report.Run!.Finding);
        Assert.Equal(reproducer.ToJson(), Reproducer.Parse(reproducer.ToJson()).ToJson());
    }

    [Fact]
    public void Check_mode_replays_twice_with_byte_identical_traces()
    {
        var report = Replayer.Check(Sys, FindTlbRace(), TlbRaceTarget.Load);

        Assert.Equal(ReplayStatus.Reproduced, report.Status);
        Assert.Contains("byte-identical", report.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reproducer_whose_scenario_was_edited_reports_the_divergence_not_a_wrong_answer()
    {
        var reproducer = FindTlbRace();
        var edited = reproducer with { Target = reproducer.Target with { Text = reproducer.Target.Text.Replace("munmaps=2", "munmaps=3", StringComparison.Ordinal).Replace("user_ns=150", "user_ns=700", StringComparison.Ordinal) } };

        var report = Replayer.Replay(Sys, edited, TlbRaceTarget.Load);

        Assert.NotEqual(ReplayStatus.Reproduced, report.Status);
        Assert.False(report.HashMatches);
        Assert.Contains("the target text was edited", report.Message, StringComparison.Ordinal);
        if (report.Status == ReplayStatus.Diverged)
        {
            Assert.Contains($"replay diverged at decision {report.Divergence!.Index}", report.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Decisions_that_no_longer_apply_name_the_first_divergent_one()
    {
        var reproducer = FindTlbRace();
        var decisions = reproducer.DecisionList.ToList();
        var at = decisions.FindIndex(d => d.Kind == DecisionKind.Choice);
        decisions[at] = decisions[at] with { Of = decisions[at].Of + 1 };

        var report = Replayer.Replay(Sys, reproducer with { Decisions = StrategyFactory.Format(decisions) }, TlbRaceTarget.Load);

        Assert.Equal(ReplayStatus.Diverged, report.Status);
        Assert.Equal(at, report.Divergence!.Index);
        Assert.Contains($"replay diverged at decision {at}", report.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_decision_edited_to_another_valid_one_is_named_when_the_finding_does_not_come()
    {
        var reproducer = FindTlbRace();
        var decisions = reproducer.DecisionList;

        // The last decision whose other options all fit the record but lose the finding: an edit no divergence shows.
        ReplayReport? report = null;
        var edited = -1;
        for (var k = decisions.Count - 1; k >= 0 && report is null; k--)
        {
            var changed = decisions.ToArray();
            changed[k] = changed[k] with { Chosen = (changed[k].Chosen + 1) % changed[k].Of };
            var r = Replayer.Replay(Sys, reproducer with { Decisions = StrategyFactory.Format(changed) }, TlbRaceTarget.Load);
            if (r.Status is ReplayStatus.NoFinding or ReplayStatus.DifferentFinding)
            {
                (report, edited) = (r, k);
            }
        }

        Assert.NotNull(report);
        Assert.True(report.EditedDecision is { } at && at <= edited, $"edited decision {edited}, named {report.EditedDecision}");
        Assert.Contains($"decision {report.EditedDecision} looks edited", report.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reproducer_of_another_model_version_says_so_even_when_it_reproduces()
    {
        var reproducer = FindTlbRace() with { ModelVersion = "taskisolation-model/2 (v13, 4.7)" };

        var report = Replayer.Replay(Sys, reproducer, TlbRaceTarget.Load);

        Assert.Equal(ReplayStatus.Reproduced, report.Status);
        Assert.False(report.ModelMatches);
        Assert.StartsWith($"recorded with model 'taskisolation-model/2 (v13, 4.7)', this is model '{ModelVersion.Current}'; reproduced: ", report.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_fields_out_of_range_are_not_a_reproducer()
    {
        var r = FindTlbRace();

        var before = Assert.Throws<FormatException>(() => Reproducer.Parse((r with { Run = r.Run with { FindingsBefore = -1 } }).ToJson()));
        var steps = Assert.Throws<FormatException>(() => Reproducer.Parse((r with { Run = r.Run with { MaxSteps = 0 } }).ToJson()));

        Assert.StartsWith("run.findingsBefore is -1, expected 0 or more", before.Message, StringComparison.Ordinal);
        Assert.StartsWith("run.maxSteps is 0, expected 1 or more", steps.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_regenerated_prefix_needs_the_random_strategy_and_a_digest()
    {
        var r = FindTlbRace();
        var random = r with { Run = r.Run with { Strategy = "random" } };
        string Error(ReproducerRun run) => Assert.Throws<FormatException>(() => Reproducer.Parse((r with { Run = run }).ToJson())).Message;

        Assert.StartsWith("run.decisionsFrom is -1, expected 0 or more", Error(r.Run with { DecisionsFrom = -1 }), StringComparison.Ordinal);
        Assert.Contains("run.prefixDigest of 16 lowercase hex digits (it is missing)", Error(random.Run with { DecisionsFrom = 5 }), StringComparison.Ordinal);
        Assert.Contains("(it is 'xyz')", Error(random.Run with { DecisionsFrom = 5, PrefixDigest = "xyz" }), StringComparison.Ordinal);
        Assert.Contains("needs run.strategy 'random' (it is 'pct')", Error(random.Run with { Strategy = "pct", DecisionsFrom = 5, PrefixDigest = DecisionDigest.Empty.ToString() }), StringComparison.Ordinal);
        Assert.StartsWith("run.prefixDigest is only for", Error(random.Run with { PrefixDigest = DecisionDigest.Empty.ToString() }), StringComparison.Ordinal);

        // Well formed, it parses, and its prefix is the seed's.
        var parsed = Reproducer.Parse((random with { Run = random.Run with { DecisionsFrom = 5, PrefixDigest = "00000000000000ff" } }).ToJson());
        Assert.Equal(new SeededPrefix(r.Run.Seed, 5, parsed.Prefix!.Digest), parsed.Prefix);
        Assert.Equal("00000000000000ff", parsed.Prefix.Digest.ToString());
        Assert.Null(r.Prefix);
    }

    [Fact]
    public void A_replay_with_a_seeded_prefix_takes_the_random_strategys_decisions_and_then_the_listed_ones()
    {
        // A schedule of the random strategy: its first decisions are what the seed gives, so they can be left out.
        var target = new TlbRaceTarget();
        var run = ScheduleRunner.Run(Sys, target, new RandomStrategy(17), 10_000);
        var all = run.Decisions.ToArray();
        Assert.True(all.Length >= 2, $"{all.Length} decisions");
        var cut = all.Length / 2;
        var digest = DecisionDigest.Empty;
        foreach (var d in all[..cut])
        {
            digest.Add(d);
        }

        var replay = new ReplayStrategy(all[cut..], new SeededPrefix(17, cut, digest));
        var again = ScheduleRunner.Run(Sys, target, replay, 10_000);
        Assert.Null(replay.Unfinished());
        Assert.Equal(all, again.Decisions);

        // A listed decision that does not fit is named by its index in the whole run.
        var wrong = all[cut..];
        wrong[0] = wrong[0] with { Of = wrong[0].Of + 1 };
        var ex = Assert.Throws<ReplayDivergedException>(() => ScheduleRunner.Run(Sys, target, new ReplayStrategy(wrong, new SeededPrefix(17, cut, digest)), 10_000));
        Assert.Equal(cut, ex.Index);
    }

    [Fact]
    public void Minimization_yields_no_larger_a_reproducer_that_still_fails_the_same_way()
    {
        var original = FindTlbRace();

        var min = Minimizer.Minimize(Sys, original, TlbRaceTarget.Load, maxRuns: 600);

        Assert.True(min.Deviations <= min.OriginalDeviations, $"{min.Deviations} > {min.OriginalDeviations}");
        var before = TlbRaceTarget.Parse(original.Target.Text);
        var after = (TlbRaceTarget)min.Target;
        Assert.True(after.Munmaps <= before.Munmaps && after.Iterations <= before.Iterations && after.DurationNs <= before.DurationNs);
        Assert.Equal(original.Finding.Signature, min.Reproducer.Finding.Signature);
        Assert.Equal(ReplayStatus.Reproduced, Replayer.Replay(Sys, Reproducer.Parse(min.Reproducer.ToJson()), TlbRaceTarget.Load).Status);
    }

    [Theory]
    [InlineData(StrategyKind.Random)]
    [InlineData(StrategyKind.Pct)]
    [InlineData(StrategyKind.Portfolio)]
    public void On_arm64_the_same_campaign_finds_nothing_yet_reaches_the_isolated_user_state(StrategyKind strategy)
    {
        var target = new TlbRaceTarget { Arch = ArchKind.Arm64 };
        var plan = Explorer.Plan(Sys, target, Options(strategy, until: UntilMode.All));

        var result = Explorer.RunBatch(Sys, target, plan, 0, 150);

        Assert.Empty(result.Findings);
        Assert.Equal(150, result.Schedules);
        Assert.True(result.Coverage.Reached > 0);
    }

    [Fact]
    public void Each_strategy_alone_finds_the_race()
    {
        foreach (var strategy in new[] { StrategyKind.Random, StrategyKind.Pct })
        {
            var target = new TlbRaceTarget();
            var plan = Explorer.Plan(Sys, target, Options(strategy));
            var result = Explorer.RunBatch(Sys, target, plan, 0, 300);
            Assert.Equal(TlbSignature, Assert.Single(result.Findings).Signature);
            Assert.Equal(StrategyNames.Of(strategy), result.Findings.Single().Reproducer.Run.Strategy);
        }
    }

    [Fact]
    public void Machines_are_torn_down_after_each_schedule()
    {
        var target = new TlbRaceTarget();
        var run = ScheduleRunner.Run(Sys, target, new RandomStrategy(1), 50_000);

        // Machine roots live under the per-system host root /user/controlled-machines: none may be left once the stop
        // has gone through (Akka stops a root and its children asynchronously, so wait for it rather than look once).
        // An Identify to a pattern that matches no child is answered by the empty ref with no subject.
        AwaitAssert(
            () =>
            {
                var id = Sys.ActorSelection("/user/controlled-machines/*").Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
                Assert.Null(id.Subject);
            },
            TimeSpan.FromSeconds(60),
            TimeSpan.FromMilliseconds(20));
        Assert.NotEmpty(run.Machine.Recorder.Events);
    }
}
