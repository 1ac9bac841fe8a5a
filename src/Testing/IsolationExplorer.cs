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
    public static ExplorationResult Explore(Scenario scenario, long schedules, StrategyKind strategy = StrategyKind.Portfolio, long seed = 1, bool untilFirst = false, int workers = 1) =>
        Explore(scenario, new CampaignOptions
        {
            Iterations = schedules,
            Strategy = strategy,
            Seed = seed,
            Until = untilFirst ? UntilMode.First : UntilMode.All,
            Workers = workers,
        });

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
