using System.Collections.Immutable;
using TaskIsolation.Actors.Events;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Monitors;

namespace TaskIsolation.Actors.Soak;

/// <summary>A violation kept in full: the finding, and how many controlled-mode decisions the run had taken by then.</summary>
/// <param name="Finding">The <see cref="ViolationDetected"/> (its chain inside) or <see cref="LivenessViolated"/>.</param>
/// <param name="Chain">The causal chain, root first, as it was when found (the ring may since have dropped its events).</param>
/// <param name="Decisions">Decisions taken before it (controlled mode): replaying that many reproduces it.</param>
public sealed record KeptFinding(MachineEvent Finding, ImmutableArray<ChainLink> Chain, int Decisions);

/// <summary>
/// Everything a soak remembers about a run, bounded: counters per event type, each CPU's noise account and
/// histogram, the last events in a ring, the first violations and liveness failures in full (the rest counted), and a
/// noise-over-time series of bounded length. It is the machine's <see cref="MachineOptions.Observer"/>: it sees every
/// event synchronously, so its counts are exactly the run's.
/// </summary>
public sealed class SoakLedger
{
    private readonly object _lock = new();
    private readonly SoakSettings _settings;
    private readonly Dictionary<string, long> _byType = new(StringComparer.Ordinal);
    private readonly EventRing<MachineEvent> _recent;
    private readonly List<KeptFinding> _violations = [];
    private readonly List<KeptFinding> _liveness = [];
    private readonly NoiseSeries _series;
    private NoiseAccount? _noise;
    private IEventHistory? _history;
    private Func<int> _decisions = () => 0;
    private long _events;
    private long _violationCount;
    private long _livenessCount;

    /// <summary>A ledger sized by <paramref name="settings"/>; <see cref="Attach"/> it to the machine it observes.</summary>
    public SoakLedger(SoakSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _recent = new EventRing<MachineEvent>(settings.RecentEvents);
        _series = new NoiseSeries(settings.SeriesPoints);
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

    /// <summary>
    /// Machine options that make the machine report to this ledger (<paramref name="options"/> with its observer set).
    /// </summary>
    public MachineOptions Observe(MachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { Observer = OnEvent };
    }

    /// <summary>Binds the ledger to the booted machine whose events it sees: chains, decisions, CPU count, costs.</summary>
    public void Attach(SimulatedMachine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        lock (_lock)
        {
            _history = machine.Recorder;
            _decisions = () => machine.Simulation.Decisions.Count;
            _noise = new NoiseAccount(machine.Booted.NrCpus, machine.Options.Timings, _settings.HistogramEntries);
        }
    }

    /// <summary>Each CPU's noise so far as a percentage of <paramref name="nowNs"/> (cheap: for progress displays).</summary>
    public IReadOnlyList<double> NoisePercent(long nowNs)
    {
        lock (_lock)
        {
            return _noise is null || nowNs <= 0 ? [] : [.. _noise.Cpus.Select(c => 100.0 * c.NoiseNs / nowNs)];
        }
    }

    /// <summary>Everything as of now (<paramref name="nowNs"/>), for a snapshot; also closes a point of the series.</summary>
    public SoakCapture Capture(long nowNs)
    {
        lock (_lock)
        {
            var cpus = _noise?.Capture() ?? [];
            _series.Close(nowNs, cpus);
            return new SoakCapture(
                nowNs,
                _events,
                _byType.OrderBy(p => p.Key, StringComparer.Ordinal).ToImmutableArray(),
                cpus.ToImmutableArray(),
                [.. _recent.ToArray()],
                _recent.Added,
                [.. _violations],
                _violationCount,
                [.. _liveness],
                _livenessCount,
                _series.Points);
        }
    }

    private void OnEvent(MachineEvent e)
    {
        lock (_lock)
        {
            _events++;
            var type = e.GetType().Name;
            _byType[type] = _byType.GetValueOrDefault(type) + 1;
            _recent.Add(e);
            _noise?.Observe(e);
            switch (e)
            {
                case ViolationDetected v:
                    _violationCount++;
                    if (_violations.Count < _settings.ViolationsKept)
                    {
                        _violations.Add(new KeptFinding(v, v.Chain, _decisions()));
                    }

                    break;
                case LivenessViolated l:
                    _livenessCount++;
                    if (_liveness.Count < _settings.ViolationsKept)
                    {
                        // Walk the chain now: the events it names may leave the trace ring later.
                        _liveness.Add(new KeptFinding(l, _history?.ChainOf(l) ?? [], _decisions()));
                    }

                    break;
            }
        }
    }
}
