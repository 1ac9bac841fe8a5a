namespace TaskIsolation.Simulation;

/// <summary>Uniform random choices from a seeded generator.</summary>
public sealed class RandomStrategy : ISchedulingStrategy
{
    private readonly Random _random;

    /// <summary>A strategy whose every choice follows from <paramref name="seed"/>.</summary>
    public RandomStrategy(int seed) => _random = new Random(seed);

    /// <inheritdoc />
    public string Name => "random";

    /// <inheritdoc />
    public int NextReceiver(IReadOnlyList<string> runnable) => _random.Next(runnable.Count);

    /// <inheritdoc />
    public int NextChoice(int options) => _random.Next(options);
}
