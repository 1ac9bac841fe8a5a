namespace TaskIsolation.Soak;

/// <summary>How long a soak runs, how often it snapshots, and how much of the past it keeps.</summary>
public sealed record SoakSettings
{
    /// <summary>Simulated time to run, in nanoseconds.</summary>
    public long ForNs { get; init; } = 3_600_000_000_000;

    /// <summary>Wall-clock limit (null: none). Checked between slices.</summary>
    public TimeSpan? WallLimit { get; init; }

    /// <summary>Simulated time between snapshots, in nanoseconds.</summary>
    public long SnapshotEveryNs { get; init; } = 10_000_000_000;

    /// <summary>
    /// Simulated time per slice: the driver stops, reports progress and looks for a stop request between slices, so
    /// a stop request is honoured within one slice.
    /// </summary>
    public long SliceNs { get; init; } = 100_000_000;

    /// <summary>
    /// How many of the most recent events the machine's recorder keeps (its ring: older ones are dropped; chains of
    /// findings are kept whole) and each snapshot shows. At least 1: 0 would mean a recorder that keeps everything.
    /// </summary>
    public int RecentEvents { get; init; } = 2_000;

    /// <summary>How many violations (and as many liveness failures) are kept in full with their chains; the rest are counted.</summary>
    public int ViolationsKept { get; init; } = 100;

    /// <summary>
    /// How many distinct finding signatures get a reproducer (controlled mode): the first finding of each, in the order
    /// found. Later findings of a signature already written, and signatures past this many, are counted and kept in the
    /// snapshots, not written as reproducers.
    /// </summary>
    public int ReproducersKept { get; init; } = 64;

    /// <summary>Most points the noise-over-time series keeps; past it, neighbouring points are merged in pairs.</summary>
    public int SeriesPoints { get; init; } = 1_024;

    /// <summary>Buckets of the single-noise histogram (1 us each, as <c>rtla osnoise hist</c>'s default); longer ones count as over.</summary>
    public int HistogramEntries { get; init; } = 256;

    /// <summary>
    /// Stop at the first single noise longer than this many nanoseconds on a measured CPU (<c>--stop-us</c>, as
    /// <c>rtla osnoise -s</c>); null: never.
    /// </summary>
    public long? StopAboveNs { get; init; }

    /// <summary>
    /// How much simulated time before the start of the noise that stopped the soak its trace keeps
    /// (<c>--trace-on-stop</c>), within the <see cref="RecentEvents"/> the ring holds.
    /// </summary>
    public long StopTraceLeadNs { get; init; } = 10_000_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that makes no sense.</summary>
    public void Validate()
    {
        if (ForNs <= 0)
        {
            throw new ArgumentException($"the simulated duration must be positive, not {ForNs} ns");
        }

        if (SnapshotEveryNs <= 0)
        {
            throw new ArgumentException($"the snapshot interval must be positive, not {SnapshotEveryNs} ns");
        }

        if (SliceNs <= 0)
        {
            throw new ArgumentException($"the slice must be positive, not {SliceNs} ns");
        }

        if (WallLimit is { } w && w <= TimeSpan.Zero)
        {
            throw new ArgumentException($"the wall-clock limit must be positive, not {w}");
        }

        if (StopAboveNs is <= 0)
        {
            throw new ArgumentException($"the noise to stop at must be positive, not {StopAboveNs} ns");
        }

        if (StopTraceLeadNs < 0)
        {
            throw new ArgumentException($"the lead of the trace on stop must not be negative, not {StopTraceLeadNs} ns");
        }

        if (RecentEvents < 1 || ViolationsKept < 0 || ReproducersKept < 0 || SeriesPoints < 2 || HistogramEntries < 1)
        {
            throw new ArgumentException("ring, violation, reproducer, series and histogram sizes must be positive");
        }
    }
}
