using TaskIsolation.Actors.Machine;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Cpus;
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
    public void Directed_strategy_leans_to_the_values_least_taken_at_each_choice_point()
    {
        // Choice point 0 (4 options) took 0, 1 and 3 five times each and 2 never; choice point 1 has no counts.
        var taken = new Dictionary<(int Ordinal, int Options), int[]> { [(0, 4)] = [5, 5, 0, 5] };
        var first = new int[4];
        var second = new int[4];
        for (var seed = 0; seed < 400; seed++)
        {
            var d = new DirectedStrategy(seed, taken);
            first[d.NextChoice(4)]++;
            second[d.NextChoice(4)]++;
        }

        // Weights 1/36, 1/36, 1, 1/36: value 2 about 92 % of the time, the others still drawn.
        Assert.InRange(first[2], 340, 400);
        Assert.All([first[0], first[1], first[3]], n => Assert.InRange(n, 1, 30));

        // Where nothing was counted (or the options differ), uniform.
        Assert.All(second, n => Assert.InRange(n, 60, 140));
        var other = new DirectedStrategy(1, taken);
        Assert.InRange(other.NextChoice(3), 0, 2);

        // A pure function of the seed and the counts.
        var a = new DirectedStrategy(9, taken);
        var b = new DirectedStrategy(9, taken);
        Assert.Equal(
            Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? a.NextChoice(4) : a.NextReceiver(["x", "y", "z"])),
            Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? b.NextChoice(4) : b.NextReceiver(["x", "y", "z"])));
    }

    [Fact]
    public void A_mutant_asks_its_tail_every_decision_and_takes_its_answer_past_the_cut()
    {
        Decision[] parent = [new(DecisionKind.Schedule, 1, 2), new(DecisionKind.Choice, 2, 4), new(DecisionKind.Choice, 3, 4), new(DecisionKind.Schedule, 0, 2)];
        var tail = new FixedTail(1);
        var m = new MutationStrategy(parent, cut: 1, tail, seed: 5);
        Assert.Equal(1, m.NextReceiver(["a", "b"]));
        Assert.NotEqual(2, m.NextChoice(4));
        Assert.Equal(1, m.NextChoice(4));
        Assert.Equal(1, m.NextReceiver(["a", "b"]));
        Assert.Equal(4, tail.Asked);

        var keep = new MutationStrategy(parent, cut: 1, new FixedTail(1), seed: 5, keepRest: true);
        keep.NextReceiver(["a", "b"]);
        keep.NextChoice(4);
        Assert.Equal(3, keep.NextChoice(4));
        Assert.Equal(0, keep.NextReceiver(["a", "b"]));
    }

    [Fact]
    public void A_guided_campaign_runs_random_schedules_until_one_reaches_nothing_new()
    {
        var corpus = new GuidedCorpus(11);
        Decision[] decisions = [new(DecisionKind.Choice, 1, 4), new(DecisionKind.Schedule, 0, 2)];
        for (var i = 0; i < 6; i++)
        {
            var (strategy, name, seed, parent) = corpus.StrategyFor(i);
            Assert.IsType<RandomStrategy>(strategy);
            Assert.Equal(("random", ScheduleSeeds.For(11, i), -1), (name, seed, parent));
            Assert.True(corpus.Add(decisions, new HashSet<ulong> { (ulong)i }, -1));
        }

        Assert.False(corpus.Plateau);
        Assert.False(corpus.Add(decisions, new HashSet<ulong> { 3 }, -1));
        Assert.True(corpus.Plateau);

        // Past the plateau: random's schedule one time in five, otherwise mutants and directed schedules.
        var kinds = Enumerable.Range(6, 500).Select(i => corpus.StrategyFor(i)).ToList();
        Assert.All(kinds.Where(k => k.Name == "random"), k => Assert.IsType<RandomStrategy>(k.Strategy));
        Assert.InRange(kinds.Count(k => k.Strategy is RandomStrategy), 60, 140);
        Assert.InRange(kinds.Count(k => k.Strategy is MutationStrategy), 60, 140);
        Assert.InRange(kinds.Count(k => k.Strategy is DirectedStrategy), 240, 360);
        Assert.All(kinds.Where(k => k.Strategy is MutationStrategy), k => Assert.InRange(k.Parent, 0, 5));
        Assert.Equal(kinds.Select(k => (k.Name, k.Seed, k.Parent, k.Strategy.GetType())), Enumerable.Range(6, 500).Select(i => corpus.StrategyFor(i)).Select(k => (k.Name, k.Seed, k.Parent, k.Strategy.GetType())));
    }

    private sealed class FixedTail(int value) : ISchedulingStrategy
    {
        public int Asked { get; private set; }

        public string Name => "fixed";

        public int NextReceiver(IReadOnlyList<string> runnable)
        {
            Asked++;
            return value;
        }

        public int NextChoice(int options)
        {
            Asked++;
            return value;
        }
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

    private const string IsolatedRole = "nohz_full+isolcpus+task_isolation";

    /// <summary>A root step on CPU 0, then <paramref name="held"/> holds of the IPI before CPU 3 takes it in isolated user mode.</summary>
    private static (EventRecorder Recorder, ViolationDetected Violation) Chain(OperationKind root, int held, int pid = 102, int cpu = 3)
    {
        long ids = 100;
        var r = new EventRecorder([], null, () => ++ids);
        r.Publish(new OperationStarted(1, 0, 0, 0, new TaskRef(pid, "sibling"), TaskStep.Of(root), "op"));
        r.Publish(new InterruptSent(2, 90, 0, 1, TlbShootdown.Instance, cpu));
        var last = 2L;
        for (var h = 0; h < held; h++)
        {
            r.Publish(new InterruptHeld(10 + h, 100 + h, cpu, last, TlbShootdown.Instance));
            last = 10 + h;
        }

        var taken = new InterruptTaken(50, 301, cpu, last, TlbShootdown.Instance, CpuState.UserIsolated, new TaskRef(pid + 1, "iso"), false);
        r.Publish(taken);
        return (r, new ViolationDetected(51, 301, cpu, 50, taken.Current!, taken.Source, r.ChainOf(taken)));
    }

    [Fact]
    public void One_root_cause_reached_through_different_chains_has_one_signature_without_pids_or_cpus()
    {
        var (direct, v1) = Chain(OperationKind.Munmap, held: 0);
        var (held, v2) = Chain(OperationKind.Munmap, held: 2, pid: 300, cpu: 2);

        Assert.NotEqual(v1.ChainText, v2.ChainText);
        var s1 = FindingSignature.Of(v1, direct.RootOf(v1), IsolatedRole);
        Assert.Equal("violation CallFunctionIpi on a nohz_full+isolcpus+task_isolation cpu; root: task step munmap", s1);
        Assert.Equal(s1, FindingSignature.Of(v2, held.RootOf(v2), IsolatedRole));
    }

    [Fact]
    public void Different_roots_interrupt_kinds_or_cpu_roles_are_different_signatures()
    {
        var (munmap, v1) = Chain(OperationKind.Munmap, held: 0);
        var (mprotect, v2) = Chain(OperationKind.Mmap, held: 0);

        var s1 = FindingSignature.Of(v1, munmap.RootOf(v1), IsolatedRole);
        Assert.NotEqual(s1, FindingSignature.Of(v2, mprotect.RootOf(v2), IsolatedRole));
        Assert.NotEqual(s1, FindingSignature.Of(v1, munmap.RootOf(v1), "nohz_full"));
        var nmi = new NmiRaised(7, 0, 3, 0);
        Assert.Equal("violation Nmi on a housekeeping cpu; root: nmi", FindingSignature.Of(v1 with { Source = NonMaskableInterrupt.Instance }, nmi, "housekeeping"));
    }

    [Fact]
    public void Cpu_role_names_the_boot_sets_a_cpu_is_in()
    {
        var nohz = CpuMask.Range(4, 1, 3);
        var iso = CpuMask.Range(4, 2, 3);
        var ti = CpuMask.Of(4, 3);

        Assert.Equal("housekeeping", FindingSignature.CpuRole(0, nohz, iso, ti));
        Assert.Equal("nohz_full", FindingSignature.CpuRole(1, nohz, iso, ti));
        Assert.Equal("nohz_full+isolcpus", FindingSignature.CpuRole(2, nohz, iso, ti));
        Assert.Equal(IsolatedRole, FindingSignature.CpuRole(3, nohz, iso, ti));
    }

    [Fact]
    public void A_chain_root_survives_a_ring_that_dropped_the_links_between()
    {
        long ids = 1_000;
        var r = new EventRecorder([], null, () => ++ids, keepLast: 4, causeWindowNs: 1_000);
        var created = new TaskCreated(1, 0, 3, 0, new TaskRef(101, "nosig"), 1, false);
        r.Publish(created);
        MachineEvent last = created;
        for (var i = 0; i < 20; i++)
        {
            var tick = new InterruptTaken(10 + i, (i + 1) * 1_000L, 3, last.Id, TimerExpiry.ResidualTick, CpuState.UserIsolated, created.Task, false);
            r.Publish(tick);
            last = tick;
        }

        Assert.Null(r.Find(created.Id));
        Assert.Same(created, r.RootOf(last));
        Assert.Equal("task created", FindingSignature.Root(r.RootOf(last)));
    }
}
