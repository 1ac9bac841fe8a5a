using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>
/// Schedule <c>i</c> of a campaign is a pure function of (campaign seed, <c>i</c>): its strategy and its seed. Any
/// worker, on any node, can run any schedule, and the campaign's result does not depend on who ran what.
/// </summary>
public static class ScheduleSeeds
{
    /// <summary>The seed of schedule <paramref name="index"/> of the campaign seeded with <paramref name="campaignSeed"/>.</summary>
    public static int For(long campaignSeed, long index)
    {
        // SplitMix64 (Steele, Lea, Flood 2014) over the pair: consecutive indices give unrelated seeds.
        var z = unchecked(((ulong)campaignSeed * 0x9E3779B97F4A7C15UL) ^ ((ulong)index + 0x632BE59BD9B4E019UL));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }

    /// <summary>The strategy schedule <paramref name="index"/> runs under: the portfolio alternates random and PCT.</summary>
    public static StrategyKind StrategyOf(StrategyKind campaign, long index) => campaign switch
    {
        StrategyKind.Portfolio => index % 2 == 0 ? StrategyKind.Random : StrategyKind.Pct,
        _ => campaign,
    };
}
