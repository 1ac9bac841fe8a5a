using Akka.Actor;
using TaskIsolation.Actors.Monitors;
using TaskIsolation.Exploration;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Testing;

/// <summary>
/// Explores a scenario's interleavings as <c>taskisol explore</c> does (<see cref="Explorer"/>): schedule <c>i</c> runs
/// under the strategy and seed that (campaign seed, <c>i</c>) fix, each stops at its first finding, and every distinct
/// finding comes with the reproducer of the first schedule that hit it. <see cref="Replay(Reproducer)"/> runs a
/// reproducer again.
/// </summary>
public static class IsolationExplorer
{
    /// <summary>
    /// Runs <paramref name="schedules"/> schedules of <paramref name="scenario"/> (keep it short: the racy window, not
    /// a soak), or stops at the first that finds something when <paramref name="untilFirst"/>.
    /// </summary>
    /// <param name="scenario">The scenario (<see cref="IsolationScenario"/>).</param>
    /// <param name="schedules">How many schedules to run.</param>
    /// <param name="strategy">How schedules are chosen (random, PCT, or the portfolio alternating them).</param>
    /// <param name="seed">Campaign seed: with the scenario, it fixes every schedule.</param>
    /// <param name="untilFirst">Stop at the lowest schedule that finds something.</param>
    /// <param name="workers">Worker threads; the result does not depend on them.</param>
    /// <param name="maxSteps">Most deliveries of one schedule (<c>--max-steps</c>).</param>
    /// <param name="find">Look for findings of this kind only (<c>violation</c>, <c>liveness</c>, <c>double-report</c>; <c>--find</c>), running past the others; null for any.</param>
    public static ExplorationResult Explore(Scenario scenario, long schedules, StrategyKind strategy = StrategyKind.Portfolio, long seed = 1, bool untilFirst = false, int workers = 1, long maxSteps = 200_000, string? find = null) =>
        Explore(scenario, new CampaignOptions
        {
            Iterations = schedules,
            Strategy = strategy,
            Seed = seed,
            Until = untilFirst ? UntilMode.First : UntilMode.All,
            Workers = workers,
            MaxSteps = maxSteps,
            Find = find,
        });

    /// <summary>
    /// Runs every schedule of <paramref name="scenario"/> (<c>taskisol explore --strategy exhaustive</c>: every delivery
    /// order and data choice, depth first, with sleep sets), stopping at the first finding or after
    /// <paramref name="maxSchedules"/> schedules. <see cref="ExhaustiveReport.Proved"/> says whether the whole tree was
    /// covered with nothing found; <see cref="IsolationAssert.NoFinding(ExhaustiveReport)"/> asserts it.
    /// </summary>
    /// <param name="scenario">The scenario (keep it short: the tree grows with every decision).</param>
    /// <param name="maxSchedules">The budget: reaching it ends the search unfinished (not a proof).</param>
    /// <param name="maxSteps">Most deliveries of one schedule; a schedule cut by it makes the search no proof either.</param>
    /// <param name="find">Look for findings of this kind only (<c>violation</c>, <c>liveness</c>, <c>double-report</c>), running past the others; null for any.</param>
    public static ExhaustiveReport ExploreAll(Scenario scenario, long maxSchedules, long maxSteps = 200_000, string? find = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return ExhaustiveExplorer.Run(new ScenarioTarget(scenario), new ExhaustiveOptions { MaxSteps = maxSteps, MaxSchedules = maxSchedules, Find = find });
    }

    /// <summary>
    /// Replays a recorded schedule on <paramref name="scenario"/> — the decisions of a reproducer, kept in a test's source
    /// while the scenario is read from its file — and says how it ended, as <c>taskisol replay</c> does: reproduced, or
    /// diverged at a named decision (the scenario or the model changed), or ended with nothing or something else. A
    /// scenario whose canonical text no longer has the recorded hash, or a model other than the recorded one, is said
    /// first in the message.
    /// </summary>
    /// <exception cref="FormatException">The decisions are not a decision list.</exception>
    public static ReplayReport Replay(Scenario scenario, RecordedSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(schedule);
        var target = new ScenarioTarget(scenario);
        _ = StrategyFactory.Parse(schedule.Decisions);
        var reproducer = new Reproducer(
            Reproducer.CurrentFormat,
            schedule.ModelVersion,
            new ReproducerTarget(target.Kind, target.Name, schedule.ScenarioHash, target.DurationNs, target.Text),
            new ReproducerRun("guided", 0, 0, -1, 0, 0, schedule.MaxSteps),
            schedule.Decisions,
            new FindingInfo(string.Empty, schedule.Signature, schedule.Cpu, null, string.Empty, 0, []));
        return Replay(reproducer);
    }

    /// <summary>Explores with every option of <see cref="CampaignOptions"/> (PCT depth, delivery bound, batch size).</summary>
    public static ExplorationResult Explore(Scenario scenario, CampaignOptions options) =>
        new(Explorer.Run(new ScenarioTarget(scenario), options));

    /// <summary>
    /// Explores with monitors of your own besides the scenario's (<see cref="IsolationMonitor"/>): every schedule makes
    /// new ones from the factories, and each failure is a finding like a violation (kind <c>monitor</c>).
    /// </summary>
    public static ExplorationResult Explore(Scenario scenario, CampaignOptions options, IEnumerable<Func<IsolationMonitor>> monitors)
    {
        ArgumentNullException.ThrowIfNull(monitors);
        return new(Explorer.Run(new ScenarioTarget(scenario, Factories(monitors)), options));
    }

    /// <summary>
    /// Runs every schedule of <paramref name="scenario"/> depth first (<c>--strategy exhaustive</c>, docs/exploration.md),
    /// with monitors of your own besides the scenario's, to the first finding or the end of the tree.
    /// </summary>
    public static ExhaustiveReport ExploreExhaustively(Scenario scenario, ExhaustiveOptions options, IEnumerable<Func<IsolationMonitor>>? monitors = null) =>
        ExhaustiveExplorer.Run(new ScenarioTarget(scenario, Factories(monitors ?? [])), options);

    /// <summary>Replays <paramref name="reproducer"/> once, in an actor system of its own, and says how it ended.</summary>
    public static ReplayReport Replay(Reproducer reproducer) => Replay(reproducer, []);

    /// <summary>
    /// Replays <paramref name="reproducer"/> with monitors of your own, as the exploration that found it ran them: a
    /// finding of those monitors reproduces only with them.
    /// </summary>
    public static ReplayReport Replay(Reproducer reproducer, IEnumerable<Func<IsolationMonitor>> monitors)
    {
        ArgumentNullException.ThrowIfNull(reproducer);
        ArgumentNullException.ThrowIfNull(monitors);
        using var system = ActorSystem.Create("taskisol-replay", SimulationConfig.Hocon);
        try
        {
            return Replayer.Replay(system, reproducer, ScenarioTarget.Loader(Factories(monitors)));
        }
        finally
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }

    private static Func<IMachineMonitor>[] Factories(IEnumerable<Func<IsolationMonitor>> monitors) =>
        [.. monitors.Select(f => (Func<IMachineMonitor>)(() => f()))];

    /// <summary>Replays a reproducer from its JSON text (a <c>.repro.json</c> file's content).</summary>
    /// <exception cref="FormatException">The text is not a reproducer.</exception>
    public static ReplayReport Replay(string reproducerJson) => Replay(Reproducer.Parse(reproducerJson));
}

/// <summary>
/// A schedule recorded by exploration, as a generated regression test keeps it: the decisions (<c>s1/2 c3/4 …</c>), the
/// finding they reached (its signature and CPU), the delivery bound, and the scenario hash and model version they were
/// recorded with (<see cref="Reproducer"/> holds the same, with the scenario's text).
/// </summary>
/// <param name="Decisions">The decision list.</param>
/// <param name="Signature">The finding's signature (<see cref="FindingInfo.Signature"/>).</param>
/// <param name="Cpu">The finding's CPU.</param>
/// <param name="MaxSteps">The delivery bound of the recorded run.</param>
/// <param name="ScenarioHash">The hash of the scenario's canonical text when recorded (<c>sha256:…</c>).</param>
/// <param name="ModelVersion">The model version it was recorded with (<see cref="Exploration.ModelVersion.Current"/>).</param>
public sealed record RecordedSchedule(string Decisions, string Signature, int Cpu, long MaxSteps, string ScenarioHash, string ModelVersion);

/// <summary>What an exploration found: how many schedules ran and each distinct finding with its reproducer.</summary>
public sealed class ExplorationResult
{
    /// <summary>Wraps a finished campaign.</summary>
    public ExplorationResult(CampaignReport report)
    {
        Report = report ?? throw new ArgumentNullException(nameof(report));
    }

    /// <summary>The campaign's report: plan, merged result, wall time.</summary>
    public CampaignReport Report { get; }

    /// <summary>Schedules run.</summary>
    public long Schedules => Report.Result.Schedules;

    /// <summary>Schedules that found something.</summary>
    public long FailingSchedules => Report.Result.FailingSchedules;

    /// <summary>Distinct findings by signature, each with how many schedules hit it and the first one's reproducer.</summary>
    public IReadOnlyList<FindingGroup> Findings => [.. Report.Result.Findings];

    /// <summary>What each distinct finding is: kind, CPU, interrupt, task, causal chain.</summary>
    public IReadOnlyList<FindingInfo> FindingInfos => [.. Findings.Select(f => f.Reproducer.Finding)];

    /// <summary>A few lines for people: schedules run and each distinct finding.</summary>
    public string Summary()
    {
        var lines = new List<string> { $"{Schedules} schedules, {FailingSchedules} failing, {Findings.Count} distinct findings{(Findings.Count == 0 ? string.Empty : ":")}" };
        lines.AddRange(Findings.Select(f =>
            $"  {f.Signature}: {f.Count} schedules, first {f.FirstSchedule}; {f.Reproducer.Finding.Kind} on cpu {f.Reproducer.Finding.Cpu} ({f.Reproducer.Finding.Interrupt ?? "-"}) of {f.Reproducer.Finding.Task}: {f.Reproducer.Finding.ChainText}"));
        return string.Join('\n', lines);
    }

    /// <inheritdoc />
    public override string ToString() => Summary();
}
