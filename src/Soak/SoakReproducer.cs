using TaskIsolation.Exploration;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Soak;

/// <summary>
/// Writes the findings of a controlled soak as exploration reproducers (<see cref="Reproducer"/>, format
/// <c>taskisol-reproducer/1</c>), one per distinct finding signature (the first finding of each, up to
/// <see cref="SoakSettings.ReproducersKept"/>): the scenario's canonical text with its duration set to the finding's
/// instant, the seed of the random strategy, the delivery bound, the decisions up to the end of the delivery that found
/// it, and, for all but the first, how many findings the replay runs past before it. Replay reproduces each exactly.
/// <para>
/// The soak's decision log keeps only the decisions since its last snapshot (<see cref="SoakDriver"/> forgets the
/// others): a reproducer lists those, from <see cref="ReproducerRun.DecisionsFrom"/> on, with the digest of the earlier
/// ones (<see cref="ReproducerRun.PrefixDigest"/>). They were the random strategy's, seeded with the soak's seed, so a
/// replay takes them again from that seed and checks their digest before it follows the listed ones.
/// </para>
/// </summary>
public sealed class SoakReproducer
{
    /// <summary>The file name of the first finding's reproducer, beside the snapshot files.</summary>
    public const string FileName = "reproducer.json";

    /// <summary>The file of the <paramref name="index"/>-th distinct signature (0: <see cref="FileName"/>; then <c>reproducer-2.json</c>, ...).</summary>
    public static string FileNameOf(int index) => index == 0 ? FileName : $"reproducer-{index + 1}.json";

    private readonly Scenario _scenario;
    private readonly int _seed;
    private readonly Func<DecisionLog> _decisions;
    private int _written;
    private string? _last;

    /// <summary>A writer for soaks of <paramref name="scenario"/> under the random strategy seeded with <paramref name="seed"/>.</summary>
    /// <param name="scenario">The scenario soaked.</param>
    /// <param name="seed">The seed of its controlled run.</param>
    /// <param name="decisions">The run's decision log (the simulation's <see cref="Simulation.Simulation.Log"/>).</param>
    public SoakReproducer(Scenario scenario, int seed, Func<DecisionLog> decisions)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(decisions);
        _scenario = scenario;
        _seed = seed;
        _decisions = decisions;
    }

    /// <summary>The reproducer of <paramref name="first"/>, made before the log forgets the decisions up to it.</summary>
    /// <exception cref="InvalidOperationException">The log has forgotten decisions after the finding's.</exception>
    public Reproducer For(FirstFinding first)
    {
        ArgumentNullException.ThrowIfNull(first);

        // The replayed run lasts until the finding's instant (the scenario's own duration may be seconds, the soak
        // hours) and no further: past its delivery bound it then takes no decision the soak took after the finding,
        // neither a delivery nor the order of timers at a later instant.
        var duration = Math.Max(1, first.Info.TimeNs);
        var text = ScenarioWriter.Write(_scenario with { DurationNs = duration });
        var log = _decisions();
        if (first.Decisions < log.Start)
        {
            throw new InvalidOperationException($"the finding at {first.Info.TimeNs} ns took {first.Decisions} decisions, but the log kept only those from {log.Start} on: its reproducer had to be made at the snapshot after it");
        }

        var decisions = log.Range(log.Start, first.Decisions);
        var target = new ReproducerTarget(ScenarioTarget.TargetKind, _scenario.Name, TargetHash.Of(text), duration, text);
        var run = new ReproducerRun("random", _seed, _seed, 0, 0, 0, first.Deliveries, first.FindingsBefore, log.Start, log.Start > 0 ? log.StartDigest.ToString() : null);
        return new Reproducer(Reproducer.CurrentFormat, ModelVersion.Current, target, run, StrategyFactory.Format(decisions), first.Info);
    }

    /// <summary>
    /// Writes the reproducer of each distinct finding signature of <paramref name="snapshot"/> into
    /// <paramref name="directory"/> (<see cref="FileNameOf"/>), a snapshot's folder: those written into an earlier
    /// folder are copied from the last one (a reproducer never changes once written), the new ones are made.
    /// </summary>
    public void Write(SoakSnapshot snapshot, string directory)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(directory);
        IReadOnlyList<FirstFinding> distinct = snapshot.Distinct ?? (snapshot.First is { } first ? [first] : []);
        for (var i = 0; i < _written && _last is not null && _last != directory; i++)
        {
            var from = Path.Combine(_last, FileNameOf(i));
            Reports.AtomicFile.Write(Path.Combine(directory, FileNameOf(i)), to =>
            {
                using var source = File.OpenRead(from);
                source.CopyTo(to);
            });
        }

        for (; _written < distinct.Count; _written++)
        {
            Reports.AtomicFile.WriteAllText(Path.Combine(directory, FileNameOf(_written)), For(distinct[_written]).ToJson());
        }

        _last = directory;
    }
}
