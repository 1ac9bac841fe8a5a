namespace TaskIsolation.Simulation;

/// <summary>How a campaign picks schedules.</summary>
public enum StrategyKind
{
    /// <summary>Uniform random choice at every open point.</summary>
    Random,

    /// <summary>Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).</summary>
    Pct,

    /// <summary>Random and PCT alternating schedule by schedule (the default).</summary>
    Portfolio,

    /// <summary>
    /// Coverage-guided: mutants of the schedules that reached something new (a corpus, as a fuzzer keeps), and random
    /// schedules while the corpus is empty.
    /// </summary>
    Guided,
}

/// <summary>Names of strategies as the command line and reproducers spell them.</summary>
public static class StrategyNames
{
    /// <summary><c>random</c>, <c>pct</c>, <c>portfolio</c> or <c>guided</c>.</summary>
    public static string Of(StrategyKind kind) => kind switch
    {
        StrategyKind.Random => "random",
        StrategyKind.Pct => "pct",
        StrategyKind.Portfolio => "portfolio",
        StrategyKind.Guided => "guided",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Parses <see cref="Of"/>'s form; false for anything else.</summary>
    public static bool TryParse(string? text, out StrategyKind kind)
    {
        switch (text)
        {
            case "random":
                kind = StrategyKind.Random;
                return true;
            case "pct":
                kind = StrategyKind.Pct;
                return true;
            case "portfolio":
                kind = StrategyKind.Portfolio;
                return true;
            case "guided":
                kind = StrategyKind.Guided;
                return true;
            default:
                kind = default;
                return false;
        }
    }
}
