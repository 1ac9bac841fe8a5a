using System.Globalization;

namespace TaskIsolation.Reports;

/// <summary>
/// The one definition of how much of a CPU its measuring workload had (docs/reports.md). The noise table, the JSON
/// report, the soak's progress display, summary and snapshot files, and the soak's HTML report all take their
/// percentages from here, so they agree to the last digit.
/// <para>
/// <c>% CPU Aval</c> is rtla osnoise's: <c>(runtime − noise) × 100 / runtime</c>, truncated (not rounded) to five
/// decimals as <c>osnoise_top_print()</c> computes it, in integer arithmetic, in units of 0.00001 %. The noise share is
/// its complement, <c>100 − % CPU Aval</c>, in the same units. With no runtime there is nothing to divide by: the CPU
/// was not measured, and both are absent (<see cref="NotMeasured"/>), never 100 %.
/// </para>
/// </summary>
/// <param name="RuntimeNs">The measured time.</param>
/// <param name="NoiseNs">The part of it the workload was kept from the CPU.</param>
public readonly record struct NoiseShare(long RuntimeNs, long NoiseNs)
{
    /// <summary>Units of one per cent: the figures are kept in 0.00001 % steps.</summary>
    public const long UnitsPerPercent = 100_000;

    /// <summary>What the text forms print for a CPU with no runtime.</summary>
    public const string NotMeasured = "not measured";

    private const long Whole = 100 * UnitsPerPercent;

    /// <summary>Whether there was anything to measure: a runtime above 0.</summary>
    public bool Measured => RuntimeNs > 0;

    /// <summary><c>% CPU Aval</c> in units of 0.00001 %, truncated; null when not <see cref="Measured"/>.</summary>
    public long? AvailableUnits => Measured ? (long)((Int128)(RuntimeNs - NoiseNs) * Whole / RuntimeNs) : null;

    /// <summary>The noise share, <c>100 − % CPU Aval</c>, in units of 0.00001 %; null when not <see cref="Measured"/>.</summary>
    public long? NoiseUnits => AvailableUnits is { } a ? Whole - a : null;

    /// <summary><c>% CPU Aval</c> with exactly five decimals (<c>99.99877</c>), as the JSON report writes it.</summary>
    public decimal? AvailablePercent => AvailableUnits is { } a ? Percent(a) : null;

    /// <summary>The noise share with exactly five decimals (<c>0.00123</c>).</summary>
    public decimal? NoisePercent => NoiseUnits is { } n ? Percent(n) : null;

    /// <summary><c>% CPU Aval</c> as text (<c>99.99877</c>), or <see cref="NotMeasured"/>.</summary>
    public string AvailableText => AvailableUnits is { } a ? Text(a) : NotMeasured;

    /// <summary>The noise share as text (<c>0.00123</c>, no per-cent sign), or <see cref="NotMeasured"/>.</summary>
    public string NoiseText => NoiseUnits is { } n ? Text(n) : NotMeasured;

    // Scale 0 times scale 5 is scale 5 exactly: 10000000 units print as 100.00000.
    private static decimal Percent(long units) => units * 0.00001m;

    private static string Text(long units) => Percent(units).ToString(CultureInfo.InvariantCulture);
}
