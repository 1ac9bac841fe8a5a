namespace TaskIsolation.Simulation;

/// <summary>
/// Decides, in controlled mode, every point the model leaves open. Called on the simulation's one thread only.
/// A strategy sees the receivers by their stable names so that priority-based strategies (PCT) can keep per-actor
/// state; random ones only need the count.
/// </summary>
public interface ISchedulingStrategy
{
    /// <summary>A short name for reports: <c>random</c>, <c>replay</c>, …</summary>
    string Name { get; }

    /// <summary>Picks which of <paramref name="runnable"/> (two or more, in a deterministic order) runs next.</summary>
    int NextReceiver(IReadOnlyList<string> runnable);

    /// <summary>Picks a value in [0, <paramref name="options"/>) for a data choice (two or more options).</summary>
    int NextChoice(int options);
}
