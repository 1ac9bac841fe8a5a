using System.Collections.Immutable;
using TaskIsolation.Machine.Events;
using TaskIsolation.Reports;

namespace TaskIsolation.Soak;

/// <summary>The ledger's state at one instant of simulated time: what a snapshot is written from.</summary>
/// <param name="NowNs">Simulated time.</param>
/// <param name="Events">Events seen (findings included).</param>
/// <param name="EventsByType">Events seen per event type, by type name.</param>
/// <param name="Cpus">Each CPU's noise figures (rtla osnoise top).</param>
/// <param name="Histograms">Each CPU's single-noise histogram (rtla osnoise hist), copied.</param>
/// <param name="Report">The run report as of now (its lists capped), or null before the ledger was attached.</param>
/// <param name="Recent">The last events (the recorder's ring), oldest first.</param>
/// <param name="Violations">Violations kept in full, in order found.</param>
/// <param name="ViolationCount">Violations found (kept or not).</param>
/// <param name="Liveness">Liveness failures kept in full.</param>
/// <param name="LivenessCount">Liveness failures found.</param>
/// <param name="Series">Noise over time.</param>
/// <param name="Latency">Each CPU's single-noise durations for percentiles (HdrHistogram), copied; empty before the ledger was attached.</param>
/// <param name="Crossing">The single noise above <see cref="SoakSettings.StopAboveNs"/> that stopped the soak, if one did.</param>
/// <param name="NoProgress">The finding that simulated time stopped at one instant, if it did (docs/model.md §12).</param>
public sealed record SoakCapture(
    long NowNs,
    long Events,
    ImmutableArray<KeyValuePair<string, long>> EventsByType,
    ImmutableArray<CpuNoise> Cpus,
    ImmutableArray<NoiseHistogram> Histograms,
    RunReport? Report,
    ImmutableArray<MachineEvent> Recent,
    ImmutableArray<KeptFinding> Violations,
    long ViolationCount,
    ImmutableArray<KeptFinding> Liveness,
    long LivenessCount,
    ImmutableArray<SeriesPoint> Series,
    ImmutableArray<LatencyHistogram> Latency = default,
    SingleNoise? Crossing = null,
    NoProgressDetected? NoProgress = null)
{
    /// <summary>Failures of the scenario's monitors (<c>monitors:</c>) so far.</summary>
    public long MonitorFailureCount { get; init; }
}
