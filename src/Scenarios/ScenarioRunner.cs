using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Events;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;

namespace TaskIsolation.Scenarios;

/// <summary>How to run a scenario: the parts that are not the scenario itself.</summary>
public sealed record RunSettings
{
    /// <summary>Execution mode.</summary>
    public ExecutionMode Mode { get; init; } = ExecutionMode.Controlled;

    /// <summary>Seed of the scheduling strategy (controlled) or of the model's data choices (concurrent).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>A strategy of your own (controlled mode: exploration, replay); the seeded random one when null.</summary>
    public ISchedulingStrategy? Strategy { get; init; }

    /// <summary>Simulated time to run instead of the scenario's <see cref="Scenario.DurationNs"/>.</summary>
    public long? DurationNs { get; init; }

    /// <summary>Bound on deliveries (controlled mode), so a search can cut a run short; none when null.</summary>
    public long? MaxDeliveries { get; init; }

    /// <summary>
    /// Ends the run early when it returns true (checked between deliveries in controlled mode): exploration stops a
    /// schedule at its first finding instead of running the scenario to its full duration.
    /// </summary>
    public Func<SimulatedMachine, bool>? Stop { get; init; }

    /// <summary>
    /// Sees every event as it is published, synchronously (<see cref="MachineOptions.Observer"/>): a watcher that
    /// decides <see cref="Stop"/> from the events, such as <c>run --stop-us</c>'s; none when null.
    /// </summary>
    public Action<MachineEvent>? Observer { get; init; }

    /// <summary>
    /// Evaluate the scenario's expectations after the run (the default). Exploration only reads the machine's findings
    /// and events, so it turns this off and saves a pass over every event of every schedule; the run's
    /// <see cref="ScenarioRun.Expectations"/> are then empty.
    /// </summary>
    public bool Judge { get; init; } = true;

    /// <summary>
    /// Monitors of your own (<see cref="TaskIsolation.Actors.Monitors.IsolationMonitor"/>), as factories: each run makes
    /// new ones, after the scenario's <c>monitors:</c>. Their failures are findings like the scenario's monitors'.
    /// </summary>
    public IReadOnlyList<Func<TaskIsolation.Actors.Monitors.IMachineMonitor>> Monitors { get; init; } = [];
}

/// <summary>What a scenario run produced.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="Settings">How it was run.</param>
/// <param name="Machine">The machine after the run: its recorder holds every event, its simulation the decisions.</param>
/// <param name="Outcome">Why the simulation stopped.</param>
/// <param name="Expectations">Each expectation with its verdict, in scenario order.</param>
/// <param name="Wall">Wall-clock time of boot and run.</param>
public sealed record ScenarioRun(
    Scenario Scenario,
    RunSettings Settings,
    SimulatedMachine Machine,
    RunOutcome Outcome,
    ImmutableArray<ExpectationResult> Expectations,
    TimeSpan Wall)
{
    /// <summary>Whether every expectation held.</summary>
    public bool AllHeld => Expectations.All(e => e.Held);

    /// <summary>Simulated time the run reached, in nanoseconds.</summary>
    public long SimulatedNs => Machine.Now;

    /// <summary>What the run was, as a report heads it: scenario, seed, mode, simulated and wall time.</summary>
    public RunInfo Info => new(Scenario.Name, Settings.Seed, Settings.Mode.ToString().ToLowerInvariant(), SimulatedNs, (long)Wall.TotalMilliseconds);

    /// <summary>The run as expectations judge it: its events, CPUs, end time, timings and sysfs files.</summary>
    public RunRecord Record() => new(Machine.Recorder.Events, Machine.Booted.NrCpus)
    {
        EndNs = Machine.Now,
        Timings = Machine.Options.Timings,
        Sysfs = Machine.Booted.SysfsFiles,
        Osnoise = Scenario.Osnoise,
    };

    /// <summary>
    /// The run as the reports read it: its events and facts, expectations as (text, held) pairs, and the scenario's
    /// noise measurement settings (a command line may replace them: <c>Finished() with { Osnoise = ... }</c>).
    /// </summary>
    public FinishedRun Finished() => new(
        Info,
        Machine.Recorder.Events,
        Machine.Booted.NrCpus,
        Machine.Options.Timings,
        Machine.Booted.Log,
        [.. Expectations.Select(e => (e.Text, e.Held))],
        Machine.Booted.Arch)
    {
        Osnoise = Scenario.Osnoise,
    };
}

/// <summary>
/// Runs a <see cref="Scenario"/> to its end in one <see cref="ScenarioSession"/>, and judges its expectations.
/// Stateless: exploration calls it many times over one actor system.
/// </summary>
public static class ScenarioRunner
{
    /// <summary>
    /// Runs <paramref name="scenario"/> in <paramref name="system"/> (configured with
    /// <see cref="SimulationConfig.Hocon"/>). The machine's actors stay in the system; its recorder stays readable.
    /// </summary>
    /// <exception cref="SimulationFaultedException">The model failed (a bug, not an outcome).</exception>
    public static ScenarioRun Run(ActorSystem system, Scenario scenario, RunSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(scenario);
        settings ??= new RunSettings();
        var wall = Stopwatch.StartNew();
        var session = ScenarioSession.Start(system, scenario, ScenarioSession.Options(scenario, settings));
        var machine = session.Machine;
        if (settings.MaxDeliveries is { } max)
        {
            machine.Simulation.MaxDeliveries = max;
        }

        Func<bool>? stop = settings.Stop is { } s ? () => s(machine) : null;
        var outcome = session.RunUntil(settings.DurationNs ?? scenario.DurationNs, stop);
        if (outcome is RunOutcome.TimeLimit or RunOutcome.Idle)
        {
            // The run reached its end, not a cut: a monitor still hot fails now (IEndOfRunMonitor).
            machine.Recorder.End(machine.Now);
        }

        var run = new ScenarioRun(scenario, settings, machine, outcome, [], TimeSpan.Zero);
        if (settings.Judge)
        {
            var record = run.Record();
            run = run with { Expectations = [.. scenario.Expectations.Select(e => e.Evaluate(record))] };
        }

        wall.Stop();
        return run with { Wall = wall.Elapsed };
    }

    /// <summary>Runs <paramref name="scenario"/> in an actor system of its own, shut down before returning.</summary>
    public static ScenarioRun Run(Scenario scenario, RunSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        using var system = ActorSystem.Create("taskisol", SimulationConfig.Hocon);
        try
        {
            return Run(system, scenario, settings);
        }
        finally
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }
}
