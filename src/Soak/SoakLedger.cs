using System.Collections.Immutable;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Events;
using TaskIsolation.Reports;

namespace TaskIsolation.Soak;

/// <summary>A violation kept in full: the finding, its chain, and how far the run had got when it was found.</summary>
/// <param name="Finding">The <see cref="ViolationDetected"/> (its chain inside) or <see cref="LivenessViolated"/>.</param>
/// <param name="Chain">The causal chain, root first, as it was when found (the ring may since have dropped its events).</param>
/// <param name="Decisions">
/// Decisions taken up to the end of the delivery that found it (controlled mode; -1 until that delivery has ended).
/// </param>
/// <param name="Deliveries">Messages delivered up to and including the one that found it (controlled mode).</param>
public sealed record KeptFinding(MachineEvent Finding, ImmutableArray<ChainLink> Chain, long Decisions, long Deliveries);

/// <summary>
/// The first finding of the run in exploration's terms (<see cref="FindingInfo"/>, signature included, computed while
/// its chain was still in the trace), and where the run stood at the end of the delivery that found it: what a
/// reproducer needs, since a replay stops at the first finding.
/// </summary>
/// <param name="Info">The finding.</param>
/// <param name="Decisions">Decisions taken up to the end of that delivery.</param>
/// <param name="Deliveries">Deliveries up to and including it.</param>
/// <param name="FindingsBefore">
/// Findings of the run before it (0 for the first). The ledger keeps one of these per distinct finding signature, the
/// first of each; a replay runs past that many findings and stops at this one (<see cref="ReproducerRun.FindingsBefore"/>).
/// </param>
/// <param name="Count">Findings of the run so far under its signature, this one included: the repeats of one root cause.</param>
public sealed record FirstFinding(FindingInfo Info, long Decisions, long Deliveries, int FindingsBefore = 0, long Count = 1);

/// <summary>
/// Everything a soak remembers about a run, bounded: counters per event type, the streaming noise accounting of
/// <see cref="NoiseAccountant"/> (counters and per-CPU histograms), the report lists of <see cref="RunReportCollector"/>
/// capped at <see cref="SoakSettings.ViolationsKept"/>, the first violations and liveness failures in full with their
/// chains (the rest counted), and a noise-over-time series of bounded length. It is the machine's
/// <see cref="MachineOptions.Observer"/>: it sees every event synchronously, so its counts are the run's. The last
/// events are the machine recorder's ring (<see cref="MachineOptions.KeepEvents"/>), which <see cref="Observe"/> sets.
/// </summary>
public sealed class SoakLedger
{
    private readonly object _lock = new();
    private readonly SoakSettings _settings;
    private readonly Dictionary<string, long> _byType = new(StringComparer.Ordinal);
    private readonly List<KeptFinding> _violations = [];
    private readonly List<KeptFinding> _liveness = [];
    private readonly NoiseSeries _series;
    private readonly RunReportCollector _collector;
    private NoiseAccountant? _noise;
    private SimulatedMachine? _machine;
    private RunInfo _info = new("soak", 0, "controlled", 0, 0);
    private readonly Dictionary<string, long> _signatures = new(StringComparer.Ordinal);
    private readonly List<FirstFinding> _distinct = [];
    private readonly List<FirstFinding> _unsettledDistinct = [];
    private bool _unsettled;
    private SingleNoise? _crossing;
    private ImmutableArray<MachineEvent> _crossingWindow = [];
    private long _events;
    private long _violationCount;
    private long _livenessCount;
    private long _doubleReportCount;
    private long _monitorCount;
    private NoProgressDetected? _noProgress;

    /// <summary>A ledger sized by <paramref name="settings"/>; <see cref="Attach"/> it to the machine it observes.</summary>
    public SoakLedger(SoakSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _series = new NoiseSeries(settings.SeriesPoints);
        _collector = new RunReportCollector(settings.ViolationsKept);
    }

    /// <summary>Events seen so far (findings included).</summary>
    public long Events
    {
        get
        {
            lock (_lock)
            {
                return _events;
            }
        }
    }

    /// <summary>Violations found so far.</summary>
    public long Violations
    {
        get
        {
            lock (_lock)
            {
                return _violationCount;
            }
        }
    }

    /// <summary>Liveness failures found so far.</summary>
    public long LivenessFailures
    {
        get
        {
            lock (_lock)
            {
                return _livenessCount;
            }
        }
    }

    /// <summary>Double reports of a lost isolation found so far (§9 R14).</summary>
    public long DoubleReports
    {
        get
        {
            lock (_lock)
            {
                return _doubleReportCount;
            }
        }
    }

    /// <summary>The run's first finding, once the delivery that found it has ended; null until then.</summary>
    public FirstFinding? First
    {
        get
        {
            lock (_lock)
            {
                return _distinct.Count > 0 ? Counted(_distinct[0]) : null;
            }
        }
    }

    /// <summary>
    /// The first finding of each distinct signature (<see cref="FindingSignature"/>: one root cause), in the order
    /// found, each once the delivery that found it has ended, with how many findings of the run so far share its
    /// signature; at most <see cref="SoakSettings.ReproducersKept"/>.
    /// </summary>
    public IReadOnlyList<FirstFinding> Distinct
    {
        get
        {
            lock (_lock)
            {
                return [.. _distinct.Select(Counted)];
            }
        }
    }

    /// <summary>
    /// Called between deliveries (the driver's stop check, which the simulation makes before each one): a finding raised
    /// by the delivery just ended gets that delivery's decision and delivery counts, so a replay of exactly those
    /// decisions ends where the finding was made. Cheap when nothing is pending.
    /// </summary>
    public void Settle()
    {
        if (!Volatile.Read(ref _unsettled))
        {
            return;
        }

        lock (_lock)
        {
            var decisions = _machine?.Simulation.Log.Total ?? 0;
            var deliveries = _machine?.Simulation.Deliveries ?? 0;
            Fill(_violations, decisions);
            Fill(_liveness, decisions);
            foreach (var f in _unsettledDistinct)
            {
                _distinct.Add(f with { Decisions = decisions, Deliveries = deliveries });
            }

            _unsettledDistinct.Clear();

            Volatile.Write(ref _unsettled, false);
        }
    }

    /// <summary>
    /// Machine options that make the machine report to this ledger and keep only the last
    /// <see cref="SoakSettings.RecentEvents"/> events (<paramref name="options"/> with its observer and ring set).
    /// </summary>
    public MachineOptions Observe(MachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { Observer = OnEvent, KeepEvents = _settings.RecentEvents };
    }

    /// <summary>Binds the ledger to the booted machine whose events it sees: chains, decisions, CPU count, costs.</summary>
    /// <param name="machine">The machine.</param>
    /// <param name="info">Scenario, seed and mode for the reports (its times are each capture's); the machine's seed and
    /// mode under the name <c>soak</c> when null.</param>
    /// <param name="osnoise">What the noise accounting measures (every CPU, one-second periods when null).</param>
    public void Attach(SimulatedMachine machine, RunInfo? info = null, OsnoiseSettings? osnoise = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        lock (_lock)
        {
            _machine = machine;
            _info = info ?? new RunInfo("soak", machine.Options.Seed, machine.Options.Mode.ToString().ToLowerInvariant(), 0, 0);
            _noise = new NoiseAccountant(machine.Booted.NrCpus, machine.Options.Timings, osnoise, _settings.HistogramEntries, latency: true);
            if (_settings.StopAboveNs is { } above)
            {
                _noise.NoiseEnded = n =>
                {
                    if (_crossing is null && n.Ns > above)
                    {
                        // The ring still holds the lead-up now; a later event may push it out.
                        _crossing = n;
                        var from = n.StartNs - _settings.StopTraceLeadNs;
                        _crossingWindow = [.. machine.Recorder.Events.Where(e => e.Time >= from)];
                    }
                };
            }
        }
    }

    /// <summary>The first single noise above <see cref="SoakSettings.StopAboveNs"/>, once one has ended; null until then (and without the setting).</summary>
    public SingleNoise? Crossing
    {
        get
        {
            lock (_lock)
            {
                return _crossing;
            }
        }
    }

    /// <summary>
    /// The events of the window before <see cref="Crossing"/>, oldest first: from <see cref="SoakSettings.StopTraceLeadNs"/>
    /// before the noise started to when it ended, as far as the recorder's ring still held them (what
    /// <c>--trace-on-stop</c> writes); empty until then.
    /// </summary>
    public ImmutableArray<MachineEvent> CrossingWindow
    {
        get
        {
            lock (_lock)
            {
                return _crossingWindow;
            }
        }
    }

    /// <summary>
    /// Whether the soak must stop now: with <see cref="SoakSettings.StopAboveNs"/>, every noise that has ended by
    /// <paramref name="nowNs"/> is counted first (<see cref="NoiseAccountant.Settle"/>), then true once one was longer.
    /// </summary>
    public bool StopNow(long nowNs)
    {
        if (_settings.StopAboveNs is null)
        {
            return false;
        }

        lock (_lock)
        {
            _noise?.Settle(nowNs);
            return _crossing is not null;
        }
    }

    /// <summary>Each CPU's noise so far, its share of the runtime by <see cref="NoiseShare"/> (for progress displays).</summary>
    public IReadOnlyList<NoiseShare> Noise(long nowNs)
    {
        lock (_lock)
        {
            return _noise is null ? [] : [.. _noise.Snapshot(nowNs).Select(c => c.Share)];
        }
    }

    /// <summary>Everything as of <paramref name="nowNs"/>, for a snapshot; also closes a point of the series.</summary>
    public SoakCapture Capture(long nowNs, TimeSpan wall)
    {
        lock (_lock)
        {
            var cpus = _noise?.Snapshot(nowNs) ?? [];
            var histograms = _noise is null ? [] : Enumerable.Range(0, _noise.NrCpus).Select(c => _noise.Histogram(c).Clone()).ToImmutableArray();
            _series.Close(nowNs, cpus);
            var report = _noise is null || _machine is null
                ? null
                : _collector.Build(_info with { SimulatedNs = nowNs, WallMs = (long)wall.TotalMilliseconds }, _machine.Booted.Log, _noise, []);
            return new SoakCapture(
                nowNs,
                _events,
                _byType.OrderBy(p => p.Key, StringComparer.Ordinal).ToImmutableArray(),
                [.. cpus],
                histograms,
                report,
                _machine is null ? [] : [.. _machine.Recorder.Events.TakeLast(_settings.RecentEvents)],
                [.. _violations],
                _violationCount,
                [.. _liveness],
                _livenessCount,
                _series.Points,
                _noise is null ? [] : [.. Enumerable.Range(0, _noise.NrCpus).Select(c => _noise.Latency(c).Clone())],
                _crossing,
                _noProgress)
            {
                MonitorFailureCount = _monitorCount,
            };
        }
    }

    private void OnEvent(MachineEvent e)
    {
        lock (_lock)
        {
            _events++;
            var type = e.GetType().Name;
            _byType[type] = _byType.GetValueOrDefault(type) + 1;
            _noise?.Observe(e);
            _collector.Observe(e);
            switch (e)
            {
                case ViolationDetected v:
                    var before = Found;
                    _violationCount++;
                    if (_violations.Count < _settings.ViolationsKept)
                    {
                        _violations.Add(Keep(v, v.Chain));
                    }

                    // The signature is taken now, while the chain's events are still in the recorder's ring.
                    if (Counted(_machine is null ? null : FindingSignature.Of(v, _machine)) is { } signature)
                    {
                        _unsettled = true;
                        _unsettledDistinct.Add(new FirstFinding(new FindingInfo("violation", signature, v.Cpu, v.Kind.ToString(), v.Task.ToString(), v.Time, [.. v.Chain.Select(l => l.What)]), -1, 0, (int)before));
                    }

                    break;
                case LivenessViolated l:
                    var earlier = Found;
                    _livenessCount++;
                    if (_liveness.Count < _settings.ViolationsKept)
                    {
                        // Walk the chain now: the events it names may leave the trace later.
                        _liveness.Add(Keep(l, _machine?.Recorder.ChainOf(l) ?? []));
                    }

                    if (Counted(_machine is null ? null : FindingSignature.Of(l, _machine)) is { } sig)
                    {
                        _unsettled = true;
                        var chain = _machine!.Recorder.Find(l.Cause) is { } began ? _machine.Recorder.ChainOf(began) : [];
                        _unsettledDistinct.Add(new FirstFinding(new FindingInfo("liveness", sig, l.Cpu, null, l.Task.ToString(), l.Time, [.. chain.Select(c => c.What), l.What]), -1, 0, (int)earlier));
                    }

                    break;
                case NoProgressDetected n:
                    var ahead = Found;
                    _noProgress = n;
                    if (_machine is not null && Counted(FindingInfo.Of(n, _machine).Signature) is not null)
                    {
                        _unsettled = true;
                        _unsettledDistinct.Add(new FirstFinding(FindingInfo.Of(n, _machine), -1, 0, (int)ahead));
                    }

                    break;
                case DoubleReport d:
                    var prior = Found;
                    _doubleReportCount++;
                    if (Counted(_machine is null ? null : FindingSignature.Of(d, _machine)) is { } drSig)
                    {
                        _unsettled = true;
                        _unsettledDistinct.Add(new FirstFinding(new FindingInfo(FindingInfo.DoubleReportKind, drSig, d.Cpu, null, d.Task.ToString(), d.Time, [.. d.Chain.Select(l => l.What)]), -1, 0, (int)prior));
                    }

                    break;
                case MonitorFailed m:
                    var previous = Found;
                    _monitorCount++;
                    if (Counted(_machine is null ? null : FindingSignature.Of(m, _machine)) is { } mSig)
                    {
                        _unsettled = true;
                        _unsettledDistinct.Add(new FirstFinding(new FindingInfo(FindingInfo.MonitorKind, mSig, m.Cpu, null, m.Task?.ToString() ?? string.Empty, m.Time, [.. m.Chain.Select(l => l.What), m.What]), -1, 0, (int)previous));
                    }

                    break;
            }
        }
    }

    /// <summary>Findings so far, of every kind the monitors raise (a replay's count of findings before the next one).</summary>
    private long Found => _violationCount + _livenessCount + _doubleReportCount + _monitorCount + (_noProgress is null ? 0 : 1);

    /// <summary><paramref name="first"/> with the count of findings under its signature so far.</summary>
    private FirstFinding Counted(FirstFinding first) => first with { Count = _signatures.GetValueOrDefault(first.Info.Signature, 1) };

    /// <summary>
    /// Counts a finding under <paramref name="signature"/> (none without a machine to read its root from) and returns
    /// the signature when the finding is its first and there is room for another reproducer; null otherwise.
    /// </summary>
    private string? Counted(string? signature)
    {
        if (signature is null)
        {
            return null;
        }

        ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_signatures, signature, out var seen);
        count++;
        return !seen && _distinct.Count + _unsettledDistinct.Count < _settings.ReproducersKept && Found <= int.MaxValue ? signature : null;
    }

    private static void Fill(List<KeptFinding> kept, long decisions)
    {
        for (var i = kept.Count - 1; i >= 0 && kept[i].Decisions < 0; i--)
        {
            kept[i] = kept[i] with { Decisions = decisions };
        }
    }

    private KeptFinding Keep(MachineEvent e, ImmutableArray<ChainLink> chain)
    {
        _unsettled = true;
        return new(e, chain, -1, _machine?.Simulation.Deliveries ?? 0);
    }
}
