using System.Collections.Immutable;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Monitors;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>
/// A scenario (YAML, <see cref="Scenario"/>) as an exploration target: its canonical text (<see cref="ScenarioWriter"/>)
/// is what reproducers embed, and <see cref="ScenarioRunner"/> runs it. A schedule stops at the exploration's stop condition
/// (its first finding) or the scenario's duration, so keep exploration scenarios short: the racy window, not a soak.
/// </summary>
public sealed class ScenarioTarget : IExplorationTarget
{
    /// <summary>The loader kind of scenario targets.</summary>
    public const string TargetKind = "scenario";

    /// <summary>A target for <paramref name="scenario"/>.</summary>
    public ScenarioTarget(Scenario scenario)
        : this(scenario, [])
    {
    }

    /// <summary>
    /// A target for <paramref name="scenario"/> whose every schedule also runs monitors of your own (each schedule makes
    /// new ones). They are code, not text: a reproducer of their finding replays with the same monitors given again
    /// (<see cref="Loader"/>).
    /// </summary>
    public ScenarioTarget(Scenario scenario, IEnumerable<Func<IMachineMonitor>> monitors)
    {
        ArgumentNullException.ThrowIfNull(monitors);
        Scenario = scenario ?? throw new ArgumentNullException(nameof(scenario));
        Monitors = [.. monitors];
        Text = ScenarioWriter.Write(scenario);
        Hash = TargetHash.Of(Text);
    }

    /// <summary>The monitors of your own every schedule runs, as factories.</summary>
    public ImmutableArray<Func<IMachineMonitor>> Monitors { get; }

    /// <summary>The scenario.</summary>
    public Scenario Scenario { get; }

    /// <inheritdoc />
    public string Name => Scenario.Name;

    /// <inheritdoc />
    public string Kind => TargetKind;

    /// <inheritdoc />
    public string Text { get; }

    /// <inheritdoc />
    public string Hash { get; }

    /// <inheritdoc />
    public long DurationNs => Scenario.DurationNs;

    /// <summary>Rebuilds a scenario target from a reproducer's text.</summary>
    /// <exception cref="FormatException">Another kind, or the text is not a valid scenario (every problem listed).</exception>
    public static IExplorationTarget Load(string kind, string text)
    {
        if (kind != TargetKind)
        {
            throw new FormatException($"target kind '{kind}' is not '{TargetKind}'");
        }

        try
        {
            return new ScenarioTarget(ScenarioLoader.Load(text, "<reproducer scenario>"));
        }
        catch (ScenarioException ex)
        {
            throw new FormatException($"the embedded scenario is invalid: {string.Join("; ", ex.Errors)}", ex);
        }
    }

    /// <summary>A loader of scenario targets that run <paramref name="monitors"/> too: replay a finding of monitors of your own.</summary>
    public static TargetLoader Loader(IEnumerable<Func<IMachineMonitor>> monitors)
    {
        ArgumentNullException.ThrowIfNull(monitors);
        ImmutableArray<Func<IMachineMonitor>> list = [.. monitors];
        return (kind, text) => new ScenarioTarget(((ScenarioTarget)Load(kind, text)).Scenario, list);
    }

    /// <inheritdoc />
    public SimulatedMachine Run(ActorSystem system, ISchedulingStrategy strategy, long maxSteps, Func<SimulatedMachine, bool> stop)
    {
        var run = ScenarioRunner.Run(system, Scenario, new RunSettings { Mode = ExecutionMode.Controlled, Strategy = strategy, MaxDeliveries = maxSteps, Stop = stop, Judge = false, Monitors = Monitors });
        return run.Machine;
    }

    /// <inheritdoc />
    public IEnumerable<IExplorationTarget> Shrinks()
    {
        var s = Scenario;
        var candidates = new List<Scenario>();
        if (!s.Expectations.IsEmpty)
        {
            candidates.Add(s with { Expectations = [] });
        }

        for (var i = 0; i < s.Noise.Length; i++)
        {
            candidates.Add(s with { Noise = s.Noise.RemoveAt(i) });
        }

        for (var i = 0; i < s.Tasks.Length; i++)
        {
            candidates.Add(s with { Tasks = s.Tasks.RemoveAt(i) });
        }

        for (var i = 0; i < s.Tasks.Length; i++)
        {
            foreach (var program in ShrinkProgram(s.Tasks[i].Program))
            {
                candidates.Add(s with { Tasks = s.Tasks.SetItem(i, s.Tasks[i] with { Program = program }) });
            }
        }

        if (s.DurationNs > 1_000)
        {
            candidates.Add(s with { DurationNs = s.DurationNs / 2 });
        }

        // A shrink that no longer validates (a removed task another one names) is no candidate: round-trip each.
        foreach (var c in candidates)
        {
            Scenario? valid;
            try
            {
                valid = ScenarioLoader.Load(ScenarioWriter.Write(c), "<shrink>");
            }
            catch (ScenarioException)
            {
                valid = null;
            }

            if (valid is not null)
            {
                yield return new ScenarioTarget(valid, Monitors);
            }
        }
    }

    /// <summary>Smaller programs: one step removed, a loop run half as often, a nested program shrunk.</summary>
    private static IEnumerable<ImmutableArray<Operation>> ShrinkProgram(ImmutableArray<Operation> program)
    {
        for (var i = 0; i < program.Length; i++)
        {
            if (program.Length > 1)
            {
                yield return program.RemoveAt(i);
            }

            switch (program[i])
            {
                case Loop { Count: > 1 } loop:
                    yield return program.SetItem(i, loop with { Count = loop.Count / 2 });
                    break;
                case Loop { Count: < 0 } forever:
                    // A loop forever is bounded by the run; a finite one of a few rounds may still fail.
                    yield return program.SetItem(i, forever with { Count = 16 });
                    break;
            }

            switch (program[i])
            {
                case Loop loop:
                    foreach (var body in ShrinkProgram(loop.Body))
                    {
                        yield return program.SetItem(i, loop with { Body = body });
                    }

                    break;
                case Spawn spawn:
                    foreach (var child in ShrinkProgram(spawn.Program))
                    {
                        yield return program.SetItem(i, spawn with { Program = child });
                    }

                    break;
            }
        }
    }
}
