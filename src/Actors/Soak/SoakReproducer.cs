using TaskIsolation.Actors.Exploration;
using TaskIsolation.Actors.Scenarios;
using TaskIsolation.Actors.Simulation;

namespace TaskIsolation.Actors.Soak;

/// <summary>
/// Writes the first finding of a controlled soak as an exploration reproducer (<see cref="Reproducer"/>, format
/// <c>taskisol-reproducer/1</c>): the scenario's canonical text with its duration set to the finding's instant, the
/// seed of the random strategy, the delivery bound and the decisions up to the end of the delivery that found it.
/// Replay (which stops at the first finding) then reproduces it exactly. Later findings of the same run are kept with
/// their chains in the snapshots; a replay protocol that stops at the first finding cannot reach them.
/// </summary>
public sealed class SoakReproducer
{
    /// <summary>The file name, beside the snapshot files.</summary>
    public const string FileName = "reproducer.json";

    private readonly Scenario _scenario;
    private readonly int _seed;
    private readonly Func<IReadOnlyList<Decision>> _decisions;
    private bool _written;

    /// <summary>A writer for soaks of <paramref name="scenario"/> under the random strategy seeded with <paramref name="seed"/>.</summary>
    /// <param name="scenario">The scenario soaked.</param>
    /// <param name="seed">The seed of its controlled run.</param>
    /// <param name="decisions">The run's decision list so far (the simulation's).</param>
    public SoakReproducer(Scenario scenario, int seed, Func<IReadOnlyList<Decision>> decisions)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(decisions);
        _scenario = scenario;
        _seed = seed;
        _decisions = decisions;
    }

    /// <summary>The reproducer of <paramref name="first"/>.</summary>
    public Reproducer For(FirstFinding first)
    {
        ArgumentNullException.ThrowIfNull(first);

        // The replayed run lasts until the finding's instant (the scenario's own duration may be seconds, the soak
        // hours) and no further: past its delivery bound it then takes no decision the soak took after the finding,
        // neither a delivery nor the order of timers at a later instant.
        var duration = Math.Max(1, first.Info.TimeNs);
        var text = ScenarioWriter.Write(_scenario with { DurationNs = duration });
        var decisions = _decisions().Take(first.Decisions);
        var target = new ReproducerTarget(ScenarioTarget.TargetKind, _scenario.Name, TargetHash.Of(text), duration, text);
        var run = new ReproducerRun("random", _seed, _seed, 0, 0, 0, first.Deliveries);
        return new Reproducer(Reproducer.CurrentFormat, ModelVersion.Current, target, run, StrategyFactory.Format(decisions), first.Info);
    }

    /// <summary>Writes <see cref="FileName"/> into <paramref name="directory"/> once the run has a first finding (once).</summary>
    public void Write(SoakSnapshot snapshot, string directory)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (_written || snapshot.First is not { } first)
        {
            return;
        }

        AtomicFile.WriteAllText(Path.Combine(directory, FileName), For(first).ToJson());
        _written = true;
    }
}
