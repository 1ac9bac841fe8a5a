using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Noise;
using TaskIsolation.Machine.Boot;
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
    /// Evaluate the scenario's expectations after the run (the default). Exploration only reads the machine's findings
    /// and events, so it turns this off and saves a pass over every event of every schedule; the run's
    /// <see cref="ScenarioRun.Expectations"/> are then empty.
    /// </summary>
    public bool Judge { get; init; } = true;
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
}

/// <summary>
/// Runs a <see cref="Scenario"/>: boots its machine, starts its tasks and noise at their times, runs for its
/// duration, and judges its expectations. Stateless: exploration calls it many times over one actor system.
/// </summary>
public static class ScenarioRunner
{
    /// <summary>The machine the scenario describes, booted (MODEL.md §2).</summary>
    public static BootedMachine Boot(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return BootedMachine.Boot(scenario.Cpus, scenario.Arch, scenario.Config, scenario.Cmdline, scenario.Sysctl);
    }

    /// <summary>The machine options for the scenario's model settings and the run settings.</summary>
    public static MachineOptions Options(Scenario scenario, RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(settings);
        return new MachineOptions
        {
            Mode = settings.Mode,
            Seed = settings.Seed,
            Strategy = settings.Strategy,
            Switches = scenario.Model.Switches,
            Timings = scenario.Model.Timings,
            Variant = scenario.Model.Variant,
            LivenessBoundNs = scenario.Model.LivenessBoundNs,
        };
    }

    /// <summary>Every task the scenario starts (its tasks, then the tasks that stand for periodic noise), by start time
    /// and then file order.</summary>
    public static ImmutableArray<ScenarioTask> Tasks(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var all = scenario.Tasks.Concat(scenario.Noise.Select(n => n switch
        {
            PeriodicNoise p => p.ToTask(),
            PosixTimerNoise t => t.ToTask(),
            _ => null,
        }).OfType<ScenarioTask>());
        return [.. all.Select((t, i) => (t, i)).OrderBy(x => x.t.StartNs).ThenBy(x => x.i).Select(x => x.t)];
    }

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
        var machine = SimulatedMachine.Boot(system, Boot(scenario), Options(scenario, settings));
        if (settings.MaxDeliveries is { } max)
        {
            machine.Simulation.MaxDeliveries = max;
        }

        StartNoise(machine, scenario);
        Func<bool>? stop = settings.Stop is { } s ? () => s(machine) : null;
        var end = settings.DurationNs ?? scenario.DurationNs;
        var outcome = RunOutcome.TimeLimit;
        foreach (var task in Tasks(scenario))
        {
            if (task.StartNs >= end)
            {
                break;
            }

            if (task.StartNs > machine.Now)
            {
                // Run up to the start time without letting the monitors close the run: that happens once, at the end.
                outcome = machine.Simulation.RunUntil(task.StartNs, stop);
                if (outcome is RunOutcome.StepLimit or RunOutcome.Stopped)
                {
                    break;
                }
            }

            machine.Start(new TaskSpec(task.Name, task.Affinity, task.Program, task.Policy));
        }

        if (outcome is not (RunOutcome.StepLimit or RunOutcome.Stopped))
        {
            outcome = machine.RunUntil(end, stop);
        }
        else
        {
            machine.Recorder.Finish(machine.Now);
        }

        var results = ImmutableArray<ExpectationResult>.Empty;
        if (settings.Judge)
        {
            var record = new RunRecord(machine.Recorder.Events, machine.Booted.NrCpus)
            {
                EndNs = machine.Now,
                Timings = machine.Options.Timings,
                Sysfs = machine.Booted.SysfsFiles,
            };
            results = scenario.Expectations.Select(e => e.Evaluate(record)).ToImmutableArray();
        }

        wall.Stop();
        return new ScenarioRun(scenario, settings, machine, outcome, results, wall.Elapsed);
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

    /// <summary>Device interrupts and NMIs: timed sources of the machine itself, not tasks (the soak starts them too).</summary>
    public static void StartNoise(SimulatedMachine machine, Scenario scenario)
    {
        foreach (var n in scenario.Noise)
        {
            switch (n)
            {
                case IrqNoise irq:
                    // No affinity given: the boot's irq_default_affinity (irqaffinity=), as request_irq() leaves it.
                    machine.AddDeviceIrq(new DeviceIrqSpec(irq.Irq, irq.Name, irq.Affinity ?? machine.Booted.IrqAffinity, irq.PeriodNs, irq.FirstAtNs));
                    break;
                case NmiNoise nmi:
                    machine.AddNmi(new NmiSpec(nmi.Cpus, nmi.PeriodNs, nmi.FirstAtNs));
                    break;
            }
        }
    }
}
