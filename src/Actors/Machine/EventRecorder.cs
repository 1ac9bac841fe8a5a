using System.Collections.Immutable;
using Akka.Event;
using TaskIsolation.Actors.Events;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Monitors;

namespace TaskIsolation.Actors.Machine;

/// <summary>
/// The machine's event sink: keeps every event (for traces and causal chains), runs the monitors over them in order,
/// and republishes events and findings on the Akka event stream so TestKit probes can subscribe.
/// </summary>
public sealed class EventRecorder : IEventSink, IEventHistory
{
    private readonly object _lock = new();
    private readonly List<MachineEvent> _events = [];
    private readonly Dictionary<long, MachineEvent> _byId = [];
    private readonly List<IMachineMonitor> _monitors;
    private readonly EventStream? _stream;
    private readonly Func<long> _newId;
    private readonly Action<MachineEvent>? _observer;
    private int _findings;

    /// <summary>
    /// A recorder that runs <paramref name="monitors"/>, publishes to <paramref name="stream"/> (if any), and shows every
    /// recorded event and finding to <paramref name="observer"/> (if any), in order.
    /// </summary>
    public EventRecorder(IEnumerable<IMachineMonitor> monitors, EventStream? stream, Func<long> newId, Action<MachineEvent>? observer = null)
    {
        _monitors = [.. monitors];
        _stream = stream;
        _newId = newId;
        _observer = observer;
    }

    /// <summary>Every event so far, in publication order.</summary>
    public IReadOnlyList<MachineEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>
    /// How many findings (events raised by the monitors) have been recorded: a cheap check for a run's stop condition,
    /// which exploration evaluates between deliveries.
    /// </summary>
    public int FindingCount => Volatile.Read(ref _findings);

    /// <inheritdoc />
    public void Publish(MachineEvent e)
    {
        List<MachineEvent> published = [e];
        lock (_lock)
        {
            Append(e);
            foreach (var m in _monitors)
            {
                foreach (var f in m.Observe(e, this))
                {
                    _findings++;
                    Append(f);
                    published.Add(f);
                }
            }
        }

        if (_stream is not null)
        {
            foreach (var p in published)
            {
                _stream.Publish(p);
            }
        }
    }

    /// <summary>Lets the monitors judge hot states at the end of a run.</summary>
    public void Finish(long nowNs)
    {
        List<MachineEvent> published = [];
        lock (_lock)
        {
            foreach (var m in _monitors)
            {
                foreach (var f in m.Finish(nowNs, this))
                {
                    _findings++;
                    Append(f);
                    published.Add(f);
                }
            }
        }

        foreach (var p in published)
        {
            _stream?.Publish(p);
        }
    }

    /// <inheritdoc />
    public MachineEvent? Find(long id) => _byId.GetValueOrDefault(id);

    /// <inheritdoc />
    public long NewId() => _newId();

    /// <inheritdoc />
    public ImmutableArray<ChainLink> ChainOf(MachineEvent e)
    {
        var links = new List<ChainLink>();
        for (MachineEvent? cur = e; cur is not null; cur = cur.Cause == 0 ? null : Find(cur.Cause))
        {
            links.Add(new ChainLink(cur.Time, cur.Cpu, cur.What));
            if (links.Count > 64)
            {
                break;
            }
        }

        links.Reverse();
        return [.. links];
    }

    /// <summary>The trace: one line per event. Byte-identical across controlled runs with the same seed.</summary>
    public string Trace()
    {
        lock (_lock)
        {
            return string.Join('\n', _events.Select(x => x.ToTraceLine())) + "\n";
        }
    }

    private void Append(MachineEvent e)
    {
        _events.Add(e);
        _byId[e.Id] = e;
        _observer?.Invoke(e);
    }
}
