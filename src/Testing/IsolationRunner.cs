using Akka.Actor;
using TaskIsolation.Actors.Monitors;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Testing;

/// <summary>
/// Runs a scenario once, as <c>taskisol run</c> does (<see cref="ScenarioRunner"/>): boot, noise, timed task starts,
/// the virtual clock to the scenario's end, then the monitors' and the expectations' verdicts.
/// </summary>
public static class IsolationRunner
{
    /// <summary>
    /// Runs <paramref name="scenario"/> in controlled mode: one message at a time, interleavings chosen by the seeded
    /// random strategy, so the same seed gives the same run, event for event.
    /// </summary>
    /// <param name="scenario">The scenario (<see cref="IsolationScenario"/>).</param>
    /// <param name="seed">Seed of the scheduling strategy.</param>
    /// <param name="durationNs">Simulated time to run instead of the scenario's own duration.</param>
    public static IsolationResult Run(Scenario scenario, int seed = 1, long? durationNs = null) =>
        Run(scenario, new RunSettings { Mode = ExecutionMode.Controlled, Seed = seed, DurationNs = durationNs });

    /// <summary>
    /// Runs <paramref name="scenario"/> in concurrent mode: actors on the thread pool, real interleavings of this
    /// machine's threads; <paramref name="seed"/> fixes the model's data choices only, so two runs may differ.
    /// </summary>
    public static IsolationResult RunConcurrent(Scenario scenario, int seed = 1, long? durationNs = null) =>
        Run(scenario, new RunSettings { Mode = ExecutionMode.Concurrent, Seed = seed, DurationNs = durationNs });

    /// <summary>
    /// Runs <paramref name="scenario"/> in controlled mode with monitors of your own besides the scenario's
    /// (<see cref="IsolationMonitor"/>): each factory makes the monitor of this run. A failure is in
    /// <see cref="IsolationResult.MonitorFailures"/>.
    /// </summary>
    public static IsolationResult Run(Scenario scenario, int seed, IEnumerable<Func<IsolationMonitor>> monitors)
    {
        ArgumentNullException.ThrowIfNull(monitors);
        return Run(scenario, new RunSettings { Mode = ExecutionMode.Controlled, Seed = seed, Monitors = [.. monitors.Select(f => (Func<IMachineMonitor>)(() => f()))] });
    }

    /// <summary>Runs with every setting of <see cref="RunSettings"/> (a strategy of your own, a delivery bound, a stop check).</summary>
    public static IsolationResult Run(Scenario scenario, RunSettings settings) => new(ScenarioRunner.Run(scenario, settings));

    /// <summary>
    /// Runs in an actor system of the caller's (configured with <see cref="SimulationConfig.Hocon"/>, as an Akka
    /// TestKit built with it is), so a test can also subscribe probes to the machine's events.
    /// </summary>
    public static IsolationResult Run(ActorSystem system, Scenario scenario, RunSettings? settings = null) =>
        new(ScenarioRunner.Run(system, scenario, settings));
}
