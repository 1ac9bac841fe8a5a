using TaskIsolation.Actors.Machine;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Events;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Exploration;

/// <summary>The pieces of exploration that need no machine.</summary>
public sealed class ExplorationUnitTests
{
    [Fact]
    public void Schedule_seeds_are_a_pure_function_of_campaign_seed_and_index()
    {
        Assert.Equal(ScheduleSeeds.For(7, 12), ScheduleSeeds.For(7, 12));
        var seeds = Enumerable.Range(0, 1000).Select(i => ScheduleSeeds.For(7, i)).ToHashSet();
        Assert.True(seeds.Count > 995);
        Assert.NotEqual(ScheduleSeeds.For(7, 0), ScheduleSeeds.For(8, 0));
        Assert.All(seeds, s => Assert.True(s >= 0));
        Assert.Equal(StrategyKind.Random, ScheduleSeeds.StrategyOf(StrategyKind.Portfolio, 4));
        Assert.Equal(StrategyKind.Pct, ScheduleSeeds.StrategyOf(StrategyKind.Portfolio, 5));
    }

    [Fact]
    public void Pct_runs_the_highest_priority_receiver_until_a_change_point_lowers_it()
    {
        string[] names = ["a", "b", "c"];
        var pct = new PctStrategy(seed: 3, depth: 1, steps: 10);
        var first = pct.NextReceiver(names);
        Assert.All(Enumerable.Range(0, 20), _ => Assert.Equal(first, pct.NextReceiver(names)));

        // With d = 2 there is one change point in [1, k]: within k steps the favourite is demoted once.
        var two = new PctStrategy(seed: 3, depth: 2, steps: 10);
        var picks = Enumerable.Range(0, 10).Select(_ => names[two.NextReceiver(names)]).ToList();
        Assert.Equal(2, picks.Distinct().Count());
        Assert.Equal(1.0 / (3 * 10), PctStrategy.Bound(3, 10, 2), 12);
    }

    [Fact]
    public void Guided_strategy_follows_deviations_that_fit_and_defaults_elsewhere()
    {
        var g = new GuidedStrategy(new Dictionary<int, Decision> { [1] = new(DecisionKind.Choice, 3, 4), [2] = new(DecisionKind.Schedule, 2, 3) });
        Assert.Equal(0, g.NextChoice(4));
        Assert.Equal(3, g.NextChoice(4));
        Assert.Equal(0, g.NextReceiver(["a", "b"]));
    }

    [Fact]
    public void Ddmin_finds_a_one_minimal_failing_subset()
    {
        var items = Enumerable.Range(0, 40).ToList();
        var calls = 0;
        var min = Minimizer.DdMin(items, s =>
        {
            calls++;
            return s.Contains(7) && s.Contains(31);
        });
        Assert.Equal([7, 31], min);
        Assert.InRange(calls, 1, 200);
        Assert.Empty(Minimizer.DdMin(items, _ => true));
    }

    [Fact]
    public void Decision_lists_round_trip_and_bad_ones_name_their_position()
    {
        var list = new[] { new Decision(DecisionKind.Schedule, 1, 2), new Decision(DecisionKind.Choice, 0, 4) };
        Assert.Equal(list, StrategyFactory.Parse(StrategyFactory.Format(list)));
        var ex = Assert.Throws<FormatException>(() => StrategyFactory.Parse("s1/2 x9"));
        Assert.StartsWith("decision 1:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reproducer_parse_rejects_what_is_not_one_with_a_clear_message()
    {
        Assert.StartsWith("not a reproducer", Assert.Throws<FormatException>(() => Reproducer.Parse("{ \"format\": 3 ")).Message, StringComparison.Ordinal);
        Assert.StartsWith("not a reproducer", Assert.Throws<FormatException>(() => Reproducer.Parse("{}")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Signature_names_each_link_by_its_typed_fields_without_pids_or_cpus()
    {
        long ids = 10;
        var r = new EventRecorder([], null, () => ++ids);
        r.Publish(new OperationStarted(1, 0, 0, 0, new TaskRef(102, "sibling"), TaskStep.Of(OperationKind.Munmap), "munmap"));
        r.Publish(new InterruptSent(2, 90, 0, 1, TlbShootdown.Instance, 3));
        var taken = new InterruptTaken(3, 301, 3, 2, TlbShootdown.Instance, CpuState.UserIsolated, new TaskRef(103, "iso"), false);
        r.Publish(taken);
        var v = new ViolationDetected(4, 301, 3, 3, taken.Current!, taken.Source, r.ChainOf(taken));

        Assert.Equal(
            "violation CallFunctionIpi: sibling: munmap → send CallFunctionIpi → take CallFunctionIpi in UserIsolated",
            FindingSignature.Of(v, r));
    }
}
