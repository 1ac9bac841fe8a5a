using TaskIsolation.Exploration;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Exploration;

/// <summary>
/// The PCT bound the explore summary prints is a bound: on every race of the library that a PCT-only campaign hits,
/// the printed per-schedule probability is at most the measured hit rate, or no bound is printed and the summary says why.
/// </summary>
public sealed class PctBoundTests
{
    private static readonly string ScenariosDir = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scenarios");

    /// <summary>
    /// The built-in races r03…r14 that have violations (not their mitigated or v16 twins, nor r10 and r11, which show
    /// that a page fault and a housekeeping signal are no violations), and the example tlb-race.
    /// </summary>
    public static TheoryData<string> Races() =>
    [
        "r03-posix-timer-kick", "r04-residual-tick", "r05-tile-stale-timer", "r06-vmstat-rearmed", "r07-lru-drain-all",
        "r08-racy-user-mode-check", "r09-tlb-shootdown", "r12-nmi-in-user", "r13-affinity-change", "r14-two-senders",
        "tlb-race.yaml",
    ];

    [Theory]
    [MemberData(nameof(Races))]
    public void The_printed_bound_never_exceeds_the_measured_hit_rate(string race)
    {
        var scenario = race.EndsWith(".yaml", StringComparison.Ordinal) ? ScenarioLoader.LoadFile(Path.Combine(ScenariosDir, race)) : BuiltInScenarios.Load(race);
        var options = new CampaignOptions { Strategy = StrategyKind.Pct, Iterations = 150, Seed = 3, Workers = 2, Until = UntilMode.All };

        var report = Explorer.Run(new ScenarioTarget(scenario), options);

        Assert.True(report.Result.FailingSchedules > 0, $"{race}: the race was not hit in {report.Result.Schedules} PCT schedules");
        var rate = (double)report.Result.FailingSchedules / report.Result.Schedules;
        if (report.PctBound is { } bound)
        {
            Assert.True(bound <= rate, $"{race}: bound {bound:G3} > hit rate {rate:G3} (n = {report.Plan.Receivers}, k = {report.Plan.PctSteps}, m = {report.Plan.DataOptions})");
            Assert.Null(report.PctNoBoundReason);
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(report.PctNoBoundReason));
        }
    }

    [Fact]
    public void Data_choices_count_as_constraints_and_without_them_the_bound_is_PCTs()
    {
        Assert.Equal(PctStrategy.Bound(3, 10, 3), PctStrategy.Bound(3, 10, 3, 1));
        Assert.Equal(1.0 / (3 * 100 * 16), PctStrategy.Bound(3, 10, 3, 4), 12);

        // One receiver, one step: PCT alone would promise certainty; four jitter values make it 1/64.
        Assert.Equal(1.0, PctStrategy.Bound(1, 1, 3));
        Assert.Equal(1.0 / 64, PctStrategy.Bound(1, 1, 3, 4), 12);
    }

    [Fact]
    public void One_schedule_longer_than_k_withdraws_the_bound_however_short_the_others_are()
    {
        // k = 10; nine schedules of 2 choice points and one of 30: 4.8 on average, but the long one had change points
        // PCT could not have placed, so the bound does not hold for the campaign.
        var plan = new CampaignPlan(new CampaignOptions { Strategy = StrategyKind.Pct }, PctSteps: 10, Receivers: 3, DataOptions: 2);
        var result = new CampaignResult();
        for (var i = 0; i < 10; i++)
        {
            result.Add(i, deliveries: 100, decisions: i == 7 ? 30 : 2, stepLimited: false, new CoverageMap(), finding: null);
        }

        var report = new CampaignReport(plan, result, TimeSpan.FromSeconds(1));

        Assert.Equal(30, result.MostDecisions);
        Assert.Null(report.PctBound);
        Assert.Equal("a schedule took 30 choice points, more than the k = 10 PCT drew its change points from", report.PctNoBoundReason);

        // Within k, the bound stands.
        var within = new CampaignResult();
        within.Add(0, deliveries: 100, decisions: 10, stepLimited: false, new CoverageMap(), finding: null);
        Assert.Equal(plan.PctBound, new CampaignReport(plan, within, TimeSpan.FromSeconds(1)).PctBound);
    }

    [Fact]
    public void The_longest_schedule_survives_merging_and_the_cluster_wire_format()
    {
        var a = new CampaignResult();
        a.Add(0, 10, 5, false, new CoverageMap(), null);
        var b = new CampaignResult();
        b.Add(1, 10, 17, false, new CoverageMap(), null);

        var merged = CampaignResult.Merge([b, a]);

        Assert.Equal(17, merged.MostDecisions);
        Assert.Equal(17, TaskIsolation.Cluster.ResultData.Of(merged).ToResult().MostDecisions);
    }
}
