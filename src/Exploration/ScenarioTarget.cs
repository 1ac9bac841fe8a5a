using System.Collections.Immutable;
using System.Globalization;
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
public sealed class ScenarioTarget : ISwarmTarget
{
    private IReadOnlyList<SwarmKnob>? _knobs;

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

    /// <summary>
    /// Every timing of the scenario (each compute, system call work and sleep step of a task's program, nested ones
    /// included; a task's start; a periodic or POSIX-timer noise source's period), every device IRQ's and NMI source's
    /// period (its rate), and every noise source whose removal leaves a valid scenario (on or off).
    /// </summary>
    public IReadOnlyList<SwarmKnob> SwarmKnobs()
    {
        if (_knobs is not null)
        {
            return _knobs;
        }

        var knobs = new List<SwarmKnob>();
        var s = Scenario;
        for (var i = 0; i < s.Tasks.Length; i++)
        {
            var where = string.Create(CultureInfo.InvariantCulture, $"tasks[{i}]");
            if (s.Tasks[i].StartNs > 0)
            {
                knobs.Add(new SwarmKnob(SwarmKinds.Timing, where + ".start", s.Tasks[i].StartNs));
            }

            ProgramKnobs(s.Tasks[i].Program, where + ".program", knobs);
        }

        for (var i = 0; i < s.Noise.Length; i++)
        {
            var where = string.Create(CultureInfo.InvariantCulture, $"noise[{i}]");
            switch (s.Noise[i])
            {
                case IrqNoise irq:
                    knobs.Add(new SwarmKnob(SwarmKinds.IrqRate, where, irq.PeriodNs));
                    break;
                case NmiNoise nmi:
                    knobs.Add(new SwarmKnob(SwarmKinds.IrqRate, where, nmi.PeriodNs));
                    break;
                case PeriodicNoise periodic:
                    knobs.Add(new SwarmKnob(SwarmKinds.Timing, where, periodic.EveryNs));
                    break;
                case PosixTimerNoise timer:
                    knobs.Add(new SwarmKnob(SwarmKinds.Timing, where, timer.EveryNs));
                    break;
            }

            if (Valid(s with { Noise = s.Noise.RemoveAt(i) }) is not null)
            {
                knobs.Add(new SwarmKnob(SwarmKinds.NoiseOff, where, 0));
            }
        }

        _knobs = knobs;
        return knobs;
    }

    /// <inheritdoc />
    public IExplorationTarget Perturb(IReadOnlyList<SwarmChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var byPlace = new Dictionary<(string Kind, string Where), SwarmChange>();
        foreach (var c in changes)
        {
            if (!SwarmKinds.All.Contains(c.Kind))
            {
                throw new FormatException($"swarm change '{c}': no kind '{c.Kind}' (expected {string.Join(", ", SwarmKinds.All)})");
            }

            if (c.Kind != SwarmKinds.NoiseOff && c.Ns < 1)
            {
                throw new FormatException($"swarm change '{c}': ns must be 1 or more");
            }

            if (!byPlace.TryAdd((c.Kind, c.Where), c))
            {
                throw new FormatException($"swarm change '{c}' is given twice");
            }
        }

        var known = SwarmKnobs().Select(k => (k.Kind, k.Where)).ToHashSet();
        foreach (var c in changes)
        {
            if (!known.Contains((c.Kind, c.Where)))
            {
                throw new FormatException($"swarm change '{c}' names no {c.Kind} value of scenario '{Scenario.Name}'");
            }
        }

        long? Value(string kind, string where) => byPlace.TryGetValue((kind, where), out var c) ? c.Ns : null;
        var s = Scenario;
        var tasks = s.Tasks.ToBuilder();
        for (var i = 0; i < tasks.Count; i++)
        {
            var where = string.Create(CultureInfo.InvariantCulture, $"tasks[{i}]");
            var t = tasks[i];
            tasks[i] = t with { StartNs = Value(SwarmKinds.Timing, where + ".start") ?? t.StartNs, Program = PerturbProgram(t.Program, where + ".program", Value) };
        }

        var noise = s.Noise.ToBuilder();
        for (var i = 0; i < noise.Count; i++)
        {
            var where = string.Create(CultureInfo.InvariantCulture, $"noise[{i}]");
            noise[i] = noise[i] switch
            {
                IrqNoise irq => irq with { PeriodNs = Value(SwarmKinds.IrqRate, where) ?? irq.PeriodNs },
                NmiNoise nmi => nmi with { PeriodNs = Value(SwarmKinds.IrqRate, where) ?? nmi.PeriodNs },
                PeriodicNoise periodic => periodic with { EveryNs = Value(SwarmKinds.Timing, where) ?? periodic.EveryNs },
                PosixTimerNoise timer => timer with { EveryNs = Value(SwarmKinds.Timing, where) ?? timer.EveryNs },
                var other => other,
            };
        }

        for (var i = noise.Count - 1; i >= 0; i--)
        {
            if (byPlace.ContainsKey((SwarmKinds.NoiseOff, string.Create(CultureInfo.InvariantCulture, $"noise[{i}]"))))
            {
                noise.RemoveAt(i);
            }
        }

        // Every value stays at least 1 ns, and a source is only ever switched off when the scenario is valid without it
        // (SwarmKnobs): no change makes the scenario invalid, so it is not loaded again (that would cost more than the run).
        var perturbed = s with { Tasks = tasks.ToImmutable(), Noise = noise.ToImmutable() };
        ScenarioSession.ShareBoot(s, perturbed);
        return new ScenarioTarget(perturbed);
    }

    private static Scenario? Valid(Scenario s)
    {
        try
        {
            return ScenarioLoader.Load(ScenarioWriter.Write(s), "<swarm>");
        }
        catch (ScenarioException)
        {
            return null;
        }
    }

    private static void ProgramKnobs(ImmutableArray<Operation> program, string prefix, List<SwarmKnob> knobs)
    {
        for (var j = 0; j < program.Length; j++)
        {
            var where = string.Create(CultureInfo.InvariantCulture, $"{prefix}[{j}]");
            switch (program[j])
            {
                case Compute { Ns: > 0 and not Compute.Forever } c:
                    knobs.Add(new SwarmKnob(SwarmKinds.Timing, where, c.Ns));
                    break;
                case Syscall { WorkNs: > 0 } sc:
                    knobs.Add(new SwarmKnob(SwarmKinds.Timing, where, sc.WorkNs));
                    break;
                case Sleep { Ns: > 0 } sl:
                    knobs.Add(new SwarmKnob(SwarmKinds.Timing, where, sl.Ns));
                    break;
                case Loop loop:
                    ProgramKnobs(loop.Body, where + ".body", knobs);
                    break;
                case Spawn spawn:
                    ProgramKnobs(spawn.Program, where + ".program", knobs);
                    break;
                case Sigaction sa:
                    ProgramKnobs(sa.Handler, where + ".handler", knobs);
                    break;
            }
        }
    }

    private static ImmutableArray<Operation> PerturbProgram(ImmutableArray<Operation> program, string prefix, Func<string, string, long?> value)
    {
        var b = program.ToBuilder();
        for (var j = 0; j < b.Count; j++)
        {
            var where = string.Create(CultureInfo.InvariantCulture, $"{prefix}[{j}]");
            var ns = value(SwarmKinds.Timing, where);
            b[j] = b[j] switch
            {
                Compute c when ns is { } v => c with { Ns = v },
                Syscall sc when ns is { } v => sc with { WorkNs = v },
                Sleep sl when ns is { } v => sl with { Ns = v },
                Loop loop => loop with { Body = PerturbProgram(loop.Body, where + ".body", value) },
                Spawn spawn => spawn with { Program = PerturbProgram(spawn.Program, where + ".program", value) },
                Sigaction sa => sa with { Handler = PerturbProgram(sa.Handler, where + ".handler", value) },
                var other => other,
            };
        }

        return b.ToImmutable();
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
