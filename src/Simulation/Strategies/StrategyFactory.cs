using System.Globalization;

namespace TaskIsolation.Simulation;

/// <summary>Builds the strategy of one schedule.</summary>
public static class StrategyFactory
{
    /// <summary>The strategy <paramref name="kind"/> (random or PCT) seeded with <paramref name="seed"/>.</summary>
    public static ISchedulingStrategy Create(StrategyKind kind, int seed, int depth, int pctSteps) => kind switch
    {
        StrategyKind.Random => new RandomStrategy(seed),
        StrategyKind.Pct => new PctStrategy(seed, depth, pctSteps),
        _ => throw new ArgumentException($"a single schedule runs random or pct, not {StrategyNames.Of(kind)}", nameof(kind)),
    };

    /// <summary>Text of a decision list as reproducers store it: <c>s0/2 c3/4 …</c>.</summary>
    public static string Format(IEnumerable<Decision> decisions) => string.Join(' ', decisions.Select(d => d.ToString()));

    /// <summary>Parses <see cref="Format"/>'s text.</summary>
    public static IReadOnlyList<Decision> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var list = new List<Decision>(parts.Length);
        for (var i = 0; i < parts.Length; i++)
        {
            try
            {
                list.Add(Decision.Parse(parts[i]));
            }
            catch (FormatException ex)
            {
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"decision {i}: {ex.Message}"), ex);
            }
        }

        return list;
    }
}
