using System.Globalization;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Reports;

/// <summary>
/// What the noise accounting measures, as <c>rtla osnoise</c>'s options say it (docs/reports.md): the CPUs
/// (<c>-c</c>/<c>--cpus</c>), the period (<c>-p</c>/<c>--period</c>; the workload samples all of it, as osnoise's
/// default runtime equal to the period does) and a warm-up before anything is counted (<c>--warm-up</c>).
/// </summary>
public sealed record OsnoiseSettings
{
    /// <summary>osnoise's default period, one second.</summary>
    public const long DefaultPeriodNs = 1_000_000_000;

    /// <summary>Every CPU, one-second periods, no warm-up.</summary>
    public static OsnoiseSettings Default { get; } = new();

    /// <summary>The CPUs measured; every CPU when null.</summary>
    public CpuMask? Cpus { get; init; }

    /// <summary>The measurement period: Max Noise is the most noise within one period. Above 0.</summary>
    public long PeriodNs { get; init; } = DefaultPeriodNs;

    /// <summary>Simulated time from boot before anything is counted: measurement runs from here to the end.</summary>
    public long WarmUpNs { get; init; }

    /// <summary>Whether <paramref name="cpu"/> is selected.</summary>
    public bool Selects(int cpu) => Cpus is null || (cpu < Cpus.NBits && Cpus.Test(cpu));

    /// <summary>The CPUs selected on a machine of <paramref name="nrCpus"/> CPUs, in the kernel's list form (<c>0-3</c>).</summary>
    public string CpuList(int nrCpus) => (Cpus ?? CpuMask.Full(nrCpus)).ToList();

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first setting that makes no sense for a machine of
    /// <paramref name="nrCpus"/> CPUs: a CPU list sized for another machine or selecting nothing, a period of 0 or
    /// less, a negative warm-up.
    /// </summary>
    public void Validate(int nrCpus)
    {
        if (Cpus is { } c && c.NBits != nrCpus)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the osnoise CPU list is for {c.NBits} CPUs, the machine has {nrCpus}"));
        }

        if (Cpus is { IsEmpty: true })
        {
            throw new ArgumentException("the osnoise CPU list selects no CPU");
        }

        if (PeriodNs <= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the osnoise period must be above 0, not {PeriodNs} ns"));
        }

        if (WarmUpNs < 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the osnoise warm-up must not be negative, not {WarmUpNs} ns"));
        }
    }
}
