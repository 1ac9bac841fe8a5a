using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>The target as a reproducer embeds it: enough to rebuild it and to notice that it changed.</summary>
/// <param name="Kind">Loader kind (<see cref="IExplorationTarget.Kind"/>).</param>
/// <param name="Name">Name for reports.</param>
/// <param name="Hash">Hash of <paramref name="Text"/> when recorded.</param>
/// <param name="DurationNs">Virtual time a schedule runs.</param>
/// <param name="Text">The target's text.</param>
public sealed record ReproducerTarget(string Kind, string Name, string Hash, long DurationNs, string Text);

/// <summary>How the schedule was produced and bounded.</summary>
/// <param name="Strategy"><c>random</c>, <c>pct</c>, or <c>guided</c> (minimized).</param>
/// <param name="Seed">Seed of the strategy.</param>
/// <param name="CampaignSeed">Seed of the campaign it came from.</param>
/// <param name="Schedule">Index of the schedule in that campaign (-1 for a minimized one).</param>
/// <param name="Depth">PCT depth.</param>
/// <param name="PctSteps">PCT step estimate.</param>
/// <param name="MaxSteps">Delivery bound of the run: replay must use the same.</param>
/// <param name="FindingsBefore">
/// Findings the run passes before the one reproduced (0, and then not written: the first, as exploration records). A
/// soak writes one reproducer per distinct finding signature; a later one's replay runs past the earlier findings and
/// stops at this one.
/// </param>
/// <param name="DecisionsFrom">
/// The index in the run of the first decision listed (0, and then not written: every decision is listed). A soak keeps
/// only the decisions since its last snapshot; its reproducers list those, and a replay takes the ones before them
/// again from the random strategy seeded with <paramref name="Seed"/>, checked against <paramref name="PrefixDigest"/>.
/// </param>
/// <param name="PrefixDigest">The digest (<see cref="DecisionDigest"/>, 16 hex digits) of the decisions before <paramref name="DecisionsFrom"/>; only with it.</param>
public sealed record ReproducerRun(
    string Strategy,
    int Seed,
    long CampaignSeed,
    long Schedule,
    int Depth,
    int PctSteps,
    long MaxSteps,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int FindingsBefore = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long DecisionsFrom = 0,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PrefixDigest = null);

/// <summary>
/// A finding, with everything needed to reproduce it exactly: the target's text (with its hash), the model version,
/// the strategy and seed, and the recorded decision list (which alone replays the run under <see cref="ReplayStrategy"/>).
/// </summary>
public sealed record Reproducer(string Format, string ModelVersion, ReproducerTarget Target, ReproducerRun Run, string Decisions, FindingInfo Finding)
{
    /// <summary>The format tag of a reproducer without a swarm perturbation (every reproducer before swarm runs).</summary>
    public const string CurrentFormat = "taskisol-reproducer/1";

    /// <summary>
    /// The format tag of a reproducer with a swarm perturbation (<see cref="Swarm"/>): format 1 and that one field. Both
    /// are read; a reproducer is written in format 1 when it has no perturbation, so older readers still read it.
    /// </summary>
    public const string SwarmFormat = "taskisol-reproducer/2";

    /// <summary>
    /// The swarm perturbation of the scenario the schedule ran (null for none): replay applies it to the embedded
    /// target, whose text and hash stay the unperturbed ones.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SwarmPerturbation? Swarm { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The decision list parsed (the decisions from <see cref="ReproducerRun.DecisionsFrom"/> on).</summary>
    [JsonIgnore]
    public IReadOnlyList<Decision> DecisionList => StrategyFactory.Parse(Decisions);

    /// <summary>The decisions before the listed ones, taken again from the seed by a replay; null when every decision is listed.</summary>
    [JsonIgnore]
    public SeededPrefix? Prefix => Run.DecisionsFrom > 0 && DecisionDigest.TryParse(Run.PrefixDigest, out var digest)
        ? new SeededPrefix(Run.Seed, Run.DecisionsFrom, digest)
        : null;

    /// <summary>
    /// A reproducer of <paramref name="finding"/> found by a run of <paramref name="target"/>, perturbed by
    /// <paramref name="swarm"/> when one is given (then in <see cref="SwarmFormat"/>).
    /// </summary>
    public static Reproducer Of(IExplorationTarget target, ReproducerRun run, IEnumerable<Decision> decisions, FindingInfo finding, SwarmPerturbation? swarm = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new Reproducer(
            swarm is null ? CurrentFormat : SwarmFormat,
            Exploration.ModelVersion.Current,
            new ReproducerTarget(target.Kind, target.Name, target.Hash, target.DurationNs, target.Text),
            run,
            StrategyFactory.Format(decisions),
            finding)
        { Swarm = swarm };
    }

    /// <summary>Reads a reproducer; a clear <see cref="FormatException"/> for anything that is not one.</summary>
    public static Reproducer Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        Reproducer? r;
        try
        {
            r = JsonSerializer.Deserialize<Reproducer>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"not a reproducer: {ex.Message}", ex);
        }

        if (r is null || r.Target is null || r.Run is null || r.Finding is null || r.Decisions is null || r.Target.Text is null)
        {
            throw new FormatException("not a reproducer: format, target, run, decisions and finding are all required");
        }

        if (r.Format != CurrentFormat && r.Format != SwarmFormat)
        {
            throw new FormatException($"not a reproducer: format is '{r.Format}', expected '{CurrentFormat}' or '{SwarmFormat}'");
        }

        if (r.Format == CurrentFormat && r.Swarm is not null)
        {
            throw new FormatException($"swarm: a '{CurrentFormat}' reproducer has no swarm perturbation (format '{SwarmFormat}' has)");
        }

        if (r.Format == SwarmFormat && r.Swarm is null)
        {
            throw new FormatException($"swarm: a '{SwarmFormat}' reproducer needs its swarm perturbation");
        }

        if (r.Swarm is { } sw)
        {
            if (sw.Changes.IsDefault)
            {
                throw new FormatException("swarm.changes is required (an empty list for none)");
            }

            foreach (var c in sw.Changes)
            {
                if (c is null || c.Kind is null || c.Where is null || !SwarmKinds.All.Contains(c.Kind))
                {
                    throw new FormatException($"swarm.changes: a change needs a kind ({string.Join(", ", SwarmKinds.All)}), where and ns");
                }
            }
        }

        if (r.Run.FindingsBefore < 0)
        {
            throw new FormatException($"run.findingsBefore is {r.Run.FindingsBefore}, expected 0 or more (the findings the run passes first)");
        }

        if (r.Run.DecisionsFrom < 0)
        {
            throw new FormatException($"run.decisionsFrom is {r.Run.DecisionsFrom}, expected 0 or more (the index of the first decision listed)");
        }

        if (r.Run.DecisionsFrom > 0 && (r.Run.Strategy != "random" || !DecisionDigest.TryParse(r.Run.PrefixDigest, out _)))
        {
            throw new FormatException($"run.decisionsFrom is {r.Run.DecisionsFrom}: the decisions before it are taken again from the seed, which needs run.strategy 'random' (it is '{r.Run.Strategy}') and run.prefixDigest of 16 lowercase hex digits (it is {(r.Run.PrefixDigest is null ? "missing" : $"'{r.Run.PrefixDigest}'")})");
        }

        if (r.Run.DecisionsFrom == 0 && r.Run.PrefixDigest is not null)
        {
            throw new FormatException("run.prefixDigest is only for a reproducer with run.decisionsFrom above 0");
        }

        if (r.Run.MaxSteps < 1)
        {
            throw new FormatException($"run.maxSteps is {r.Run.MaxSteps}, expected 1 or more (the delivery bound of the run)");
        }

        if (r.Target.Kind is null || r.Target.Hash is null || r.Target.Name is null || r.Run.Strategy is null || r.ModelVersion is null)
        {
            throw new FormatException("not a reproducer: target.kind, target.name, target.hash, run.strategy and modelVersion are all required");
        }

        _ = r.DecisionList;
        return r;
    }

    /// <summary>The JSON text (indented, stable field order, ends with a newline).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";
}
