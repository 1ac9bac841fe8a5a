using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>
/// What exploration runs: a machine set-up with its tasks, described by a text that rebuilds it exactly. The engine
/// knows nothing of scenario files; a scenario, or a machine built in C# for a test, is adapted to this.
/// </summary>
public interface IExplorationTarget
{
    /// <summary>A short name for reports.</summary>
    string Name { get; }

    /// <summary>
    /// Which loader rebuilds the target from <see cref="Text"/> (<c>scenario</c> for scenario YAML): reproducers store
    /// it so replay knows how to read the text back.
    /// </summary>
    string Kind { get; }

    /// <summary>The canonical text of the target: loading it gives this target again.</summary>
    string Text { get; }

    /// <summary><c>sha256:</c> and the hex digest of <see cref="Text"/> (see <see cref="TargetHash.Of"/>).</summary>
    string Hash { get; }

    /// <summary>Virtual time one schedule runs for.</summary>
    long DurationNs { get; }

    /// <summary>
    /// Runs one schedule: boots the machine in controlled mode under <paramref name="strategy"/> in
    /// <paramref name="system"/> (configured with <see cref="SimulationConfig.Hocon"/>), starts its tasks, and runs
    /// <see cref="DurationNs"/> of virtual time with at most <paramref name="maxSteps"/> deliveries. A target may stop
    /// early once <paramref name="stop"/> holds (checked between deliveries); whichever it does, it must do the same
    /// every time, since replay depends on it. The caller tears the machine down.
    /// </summary>
    SimulatedMachine Run(ActorSystem system, ISchedulingStrategy strategy, long maxSteps, Func<SimulatedMachine, bool> stop);

    /// <summary>
    /// Strictly smaller variants for minimization (fewer noise sources, tasks or program steps, a shorter duration),
    /// most aggressive first. Empty when nothing can be removed.
    /// </summary>
    IEnumerable<IExplorationTarget> Shrinks();
}

/// <summary>Rebuilds a target from the kind and text a reproducer stored; throws <see cref="FormatException"/> on bad text.</summary>
public delegate IExplorationTarget TargetLoader(string kind, string text);

/// <summary>The content hash of a target's text.</summary>
public static class TargetHash
{
    /// <summary><c>sha256:</c> followed by the lower-case hex SHA-256 of the UTF-8 text.</summary>
    public static string Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}

/// <summary>The version of the model that reproducers record: bump it when a change alters recorded schedules.</summary>
public static class ModelVersion
{
    /// <summary>The current model version.</summary>
    public const string Current = "taskisolation-model/3 (v13, 4.7)";

    /// <summary>
    /// Null when <paramref name="recorded"/> is <see cref="Current"/>; otherwise what a message says of it:
    /// <c>recorded with model 'taskisolation-model/2 (...)', this is model 'taskisolation-model/3 (...)'</c>.
    /// </summary>
    public static string? Mismatch(string? recorded) =>
        recorded == Current ? null : $"recorded with model '{recorded}', this is model '{Current}'";
}
