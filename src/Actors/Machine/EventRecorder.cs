using System.Collections.Immutable;
using Akka.Event;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Monitors;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Actors.Machine;

/// <summary>
/// The machine's event sink: keeps the events (for traces and causal chains), counts them by type, runs the monitors
/// over them in order, and republishes events and findings on the Akka event stream so TestKit probes can subscribe.
/// <para>
/// By default it keeps every event. With a <c>keepLast</c> bound it keeps only a ring of the most recent events, so a
/// soak of hours runs in flat memory (issue 9): counts by type are still kept whole, and the first
/// <see cref="FindingsKeptWithRing"/> findings (each violation carries its causal chain, resolved when it was detected)
/// with a count of all. Chains are resolved through a separate index of
/// possible causes, bounded by virtual time rather than by count: an event stays findable while it is younger than
/// <see cref="CauseWindowNs"/> or has been named as a cause within it (a periodic tick keeps naming the event that
/// started it). A chain that reaches past what is kept ends in a link saying so instead of silently stopping.
/// </para>
/// </summary>
public sealed class EventRecorder : IEventSink, IEventHistory
{
    private readonly Lock _lock = new();
    private readonly int _keepLast;
    private readonly List<MachineEvent> _events = [];
    private readonly CauseIndex _byId = new();
    private readonly bool _threadSafe;
    private readonly List<MachineEvent> _findings = [];
    private readonly Dictionary<Type, long> _counts = [];
    private readonly IMachineMonitor[] _monitors;
    private readonly EventStream? _stream;
    private readonly Func<long> _newId;
    private readonly Action<MachineEvent>? _observer;
    private MachineEvent[]? _ring;
    private int _ringNext;
    private long _total;
    private long _nextSweep;
    private int _findingCount;

    /// <summary>
    /// A recorder that runs <paramref name="monitors"/>, publishes to <paramref name="stream"/> (if any), and shows every
    /// recorded event and finding to <paramref name="observer"/> (if any), in order.
    /// </summary>
    /// <param name="monitors">The monitors, run in order on every event.</param>
    /// <param name="stream">Where events and findings are republished; null for nowhere.</param>
    /// <param name="newId">Event id source.</param>
    /// <param name="observer">Sees every recorded event and finding, under the lock.</param>
    /// <param name="keepLast">0: keep every event; otherwise keep only the last this many (findings are always kept).</param>
    /// <param name="causeWindowNs">With a ring: how long (virtual ns) an event nothing names as a cause stays findable.</param>
    /// <param name="threadSafe">False when every event is published from one thread (controlled mode): recording then
    /// takes no lock, which on a loaded machine costs 60–100 ns an event. The readers still lock; call them between
    /// deliveries, as every caller does.</param>
    public EventRecorder(IEnumerable<IMachineMonitor> monitors, EventStream? stream, Func<long> newId, Action<MachineEvent>? observer = null, int keepLast = 0, long causeWindowNs = DefaultCauseWindowNs, bool threadSafe = true)
    {
        _threadSafe = threadSafe;
        ArgumentOutOfRangeException.ThrowIfNegative(keepLast);
        ArgumentOutOfRangeException.ThrowIfLessThan(causeWindowNs, 1);
        _monitors = [.. monitors];
        _stream = stream;
        _newId = newId;
        _observer = observer;
        _keepLast = keepLast;
        CauseWindowNs = causeWindowNs;
        _nextSweep = causeWindowNs;
    }

    /// <summary>Default <see cref="CauseWindowNs"/>: 10 simulated seconds, ten times the residual tick and vmstat periods.</summary>
    public const long DefaultCauseWindowNs = 10_000_000_000;

    /// <summary>The ring size, or 0 when every event is kept.</summary>
    public int KeepLast => _keepLast;

    /// <summary>
    /// With a ring: how long an event that nothing names as a cause stays findable for causal chains (at least this
    /// long, and at most an eighth longer: the index is swept eight times a window).
    /// </summary>
    public long CauseWindowNs { get; }

    /// <summary>Events currently findable by id (the cause index): all of them without a ring, a window with one.</summary>
    public int IndexedEvents
    {
        get
        {
            lock (_lock)
            {
                return _byId.Count;
            }
        }
    }

    /// <summary>
    /// The kept events, in publication order: every event so far, or (with a ring) the most recent ones. A copy, taken
    /// under the lock: cheap enough for tests, not something to call per event.
    /// </summary>
    public IReadOnlyList<MachineEvent> Events
    {
        get
        {
            lock (_lock)
            {
                if (_ring is null)
                {
                    return [.. _events];
                }

                var kept = (int)Math.Min(_total, _keepLast);
                var copy = new MachineEvent[kept];
                for (var i = 0; i < kept; i++)
                {
                    copy[i] = _ring[(_ringNext - kept + i + _keepLast) % _keepLast];
                }

                return copy;
            }
        }
    }

    /// <summary>
    /// Every finding the monitors raised (violations, liveness failures), in order; with a ring only the first
    /// <see cref="FindingsKeptWithRing"/> (<see cref="FindingCount"/> counts them all).
    /// </summary>
    public IReadOnlyList<MachineEvent> Findings
    {
        get
        {
            lock (_lock)
            {
                return [.. _findings];
            }
        }
    }

    /// <summary>
    /// How many findings (events raised by the monitors) have been recorded: a cheap check for a run's stop condition,
    /// which exploration evaluates between deliveries.
    /// </summary>
    public int FindingCount => Volatile.Read(ref _findingCount);

    /// <summary>Events recorded so far, findings included, whether or not the ring still holds them.</summary>
    public long TotalEvents => _threadSafe ? Interlocked.Read(ref _total) : _total;

    /// <summary>How many events of each type were recorded (by type name), findings included.</summary>
    public IReadOnlyDictionary<string, long> CountsByType
    {
        get
        {
            lock (_lock)
            {
                return _counts.ToDictionary(kv => kv.Key.Name, kv => kv.Value, StringComparer.Ordinal);
            }
        }
    }

    /// <inheritdoc />
    public void Publish(MachineEvent e)
    {
        // The common case raises no finding: publish without allocating a list.
        List<MachineEvent>? found = null;
        if (_threadSafe)
        {
            _lock.Enter();
        }

        try
        {
            Append(e);
            foreach (var m in _monitors)
            {
                var raised = m.Observe(e, this);

                // Nearly every event raises nothing, and the built-in monitors say so with an empty array: looping over
                // it as an array spares the enumerator's interface calls (three per monitor and event, through the
                // runtime's dispatch stubs, ~5 % of an exploration schedule). Same findings, same order.
                if (raised is MachineEvent[] array)
                {
                    foreach (var f in array)
                    {
                        AppendFinding(f);
                        (found ??= []).Add(f);
                    }

                    continue;
                }

                foreach (var f in raised)
                {
                    AppendFinding(f);
                    (found ??= []).Add(f);
                }
            }
        }
        finally
        {
            if (_threadSafe)
            {
                _lock.Exit();
            }
        }

        if (_stream is not null)
        {
            _stream.Publish(e);
            if (found is not null)
            {
                foreach (var f in found)
                {
                    _stream.Publish(f);
                }
            }
        }
    }

    /// <summary>
    /// Records a finding that no monitor raises because no event shows it: the machine's own judgement of the run
    /// (<see cref="NoProgressDetected"/>: the clock stopped). Counted, kept and observed like the monitors' findings.
    /// </summary>
    public void Raise(MachineEvent finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        lock (_lock)
        {
            AppendFinding(finding);
        }

        _stream?.Publish(finding);
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
                    AppendFinding(f);
                    published.Add(f);
                }
            }
        }

        foreach (var p in published)
        {
            _stream?.Publish(p);
        }
    }

    /// <summary>
    /// The run reached its end (its duration, or nothing left to do), not a cut: lets the monitors that judge the end
    /// (<see cref="IEndOfRunMonitor"/>, such as an <see cref="IsolationMonitor"/> still hot) raise their findings.
    /// Call it after <see cref="Finish"/>, once a run.
    /// </summary>
    public void End(long nowNs)
    {
        List<MachineEvent> published = [];
        lock (_lock)
        {
            foreach (var m in _monitors)
            {
                if (m is not IEndOfRunMonitor end)
                {
                    continue;
                }

                foreach (var f in end.End(nowNs, this))
                {
                    AppendFinding(f);
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
    public MachineEvent? Find(long id)
    {
        lock (_lock)
        {
            ref var c = ref _byId.Find(id);
            return System.Runtime.CompilerServices.Unsafe.IsNullRef(ref c) ? null : c.Event;
        }
    }

    /// <inheritdoc />
    public long NewId() => _newId();

    /// <summary>
    /// The root of <paramref name="e"/>'s causal chain: the first event of the chain, the one with no cause. Each event's
    /// root is resolved when the event is recorded and kept with it, so it survives a ring dropping the chain's middle
    /// links (a residual tick names only the previous tick, never the event that started the series). When the chain
    /// was cut before <paramref name="e"/> was recorded, it is the earliest event still findable.
    /// </summary>
    public MachineEvent RootOf(MachineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        lock (_lock)
        {
            if (_byId.TryGetValue(e.Id, out var indexed) && indexed.Root is { } root)
            {
                return root;
            }

            if (e.Cause == 0)
            {
                return e;
            }

            if (_byId.TryGetValue(e.Cause, out var cause) && cause.Root is { } causeRoot)
            {
                return causeRoot;
            }

            var earliest = e;
            for (var hops = 0; hops < 64 && earliest.Cause != 0 && _byId.TryGetValue(earliest.Cause, out var c); hops++)
            {
                earliest = c.Event!;
            }

            return earliest;
        }
    }

    /// <inheritdoc />
    public ImmutableArray<ChainLink> ChainOf(MachineEvent e)
    {
        var links = new List<ChainLink>();
        for (MachineEvent? cur = e; cur is not null;)
        {
            links.Add(new ChainLink(cur.Time, cur.Cpu, cur.What));
            if (links.Count > 64 || cur.Cause == 0)
            {
                break;
            }

            var cause = Find(cur.Cause);
            if (cause is null)
            {
                // Only a ring drops events: say where the chain was cut rather than pass a partial chain for a root.
                links.Add(new ChainLink(cur.Time, -1, $"#{cur.Cause} (no longer kept: older than {CauseWindowNs / 1e9:0.###} s and not named since)"));
                break;
            }

            cur = cause;
        }

        links.Reverse();
        return [.. links];
    }

    /// <summary>The trace: one line per kept event. Byte-identical across controlled runs with the same seed.</summary>
    public string Trace()
    {
        var events = Events;
        var text = new System.Text.StringBuilder(events.Count * 96);
        foreach (var e in events)
        {
            text.Append(e.ToTraceLine()).Append('\n');
        }

        if (events.Count == 0)
        {
            text.Append('\n');
        }

        return text.ToString();
    }

    private void AppendFinding(MachineEvent f)
    {
        _findingCount++;

        // With a ring, the first findings are kept and the rest counted: a soak of hours finds a residual tick a
        // second per CPU, and its ledger keeps what it reports (SoakLedger), so this list must not grow with the run.
        if (_keepLast == 0 || _findings.Count < FindingsKeptWithRing)
        {
            _findings.Add(f);
        }

        Append(f);
    }

    /// <summary>With a ring (<see cref="KeepLast"/> &gt; 0), how many findings <see cref="Findings"/> keeps: the first ones.</summary>
    public const int FindingsKeptWithRing = 1_000;

    private void Append(MachineEvent e)
    {
        _observer?.Invoke(e);
        _total++;
        ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_counts, e.GetType(), out _);
        count++;
        _byId.Set(e.Id, new Cause(e, e.Time, RootOfCause(e)));
        if (_keepLast == 0)
        {
            _events.Add(e);
            return;
        }

        // Naming a cause keeps it findable for another window.
        if (e.Cause != 0)
        {
            ref var cause = ref _byId.Find(e.Cause);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref cause))
            {
                cause = cause with { Touched = e.Time };
            }
        }

        _ring ??= new MachineEvent[_keepLast];
        _ring[_ringNext] = e;
        _ringNext = (_ringNext + 1) % _keepLast;
        if (e.Time >= _nextSweep)
        {
            Sweep(e.Time);
        }
    }

    /// <summary>Drops from the cause index what is older than the window and was not named within it.</summary>
    private void Sweep(long now)
    {
        _byId.Sweep(now - CauseWindowNs);

        // Sweep every sixteenth of a window: an entry lives between one and one and a sixteenth windows after its last
        // naming (swept every half window, it lived up to one and a half, and the index held half a window more
        // events than it promises to: 0.7 million on the 1,024-CPU bench machine; every eighth, up to 0.2 million).
        _nextSweep = now + (CauseWindowNs / SweepsPerWindow);
    }

    /// <summary>How often per <see cref="CauseWindowNs"/> the cause index is swept: an unnamed event stays findable for at least a window and at most this much longer.</summary>
    internal const int SweepsPerWindow = 16;

    /// <summary>
    /// The root of <paramref name="e"/>'s causal chain as it is being recorded: itself when it has no cause, its cause's
    /// root when that is still findable, else null (a ring dropped the cause before <paramref name="e"/> came).
    /// </summary>
    private MachineEvent? RootOfCause(MachineEvent e)
    {
        if (e.Cause == 0)
        {
            return e;
        }

        return _byId.TryGetValue(e.Cause, out var cause) ? cause.Root : null;
    }

    /// <summary>An indexed event, when it was last named as a cause, and the root of its chain (null when cut).</summary>
    private readonly record struct Cause(MachineEvent? Event, long Touched, MachineEvent? Root);

    /// <summary>
    /// The cause index: event id → <see cref="Cause"/>. Ids come from one counter and are recorded nearly in order, so
    /// the recent ones live in a window of consecutive ids, a slot each (24 bytes, no key, no hash chain, no rehash of
    /// millions of entries as a dictionary has); an id older than the window (one a periodic tick keeps naming, or one
    /// recorded out of order) lives in a dictionary beside it. A 1,024-CPU machine indexes about two million events per
    /// cause window, which as a dictionary was most of its heap.
    /// <para>
    /// The window is a ring of fixed chunks of <see cref="ChunkSlots"/> slots rather than one array: it holds as many
    /// slots as it has ids (one array doubled to the next power of two, up to twice that, and held the old and the new
    /// array at once while it grew: 48 + 96 MB on that machine), and a chunk the window's start has passed is cleared
    /// and reused at its end, so a long run allocates no new slots once its window has reached its size.
    /// </para>
    /// </summary>
    private sealed class CauseIndex
    {
        /// <summary>Slots per chunk: 1,024 (24 KiB, under the large-object threshold), so a small machine's index is no larger than before.</summary>
        private const int ChunkBits = 10;

        /// <summary>Slots per chunk.</summary>
        private const int ChunkSlots = 1 << ChunkBits;

        /// <summary>Chunks kept for reuse when the window shrinks (a sweep): beyond these, freed chunks go to the collector.</summary>
        private const int SpareChunks = 64;

        private readonly Dictionary<long, Cause> _old = [];
        private readonly Stack<Cause[]> _spare = new();

        /// <summary>The window's chunks, a ring whose length is a power of two, starting at <see cref="_firstChunk"/>.</summary>
        private Cause[][] _chunks = new Cause[4][];
        private int _firstChunk;
        private int _chunkCount;

        /// <summary>The id of the window's first slot (-1 before the first entry).</summary>
        private long _base = -1;

        /// <summary>Where the window's first slot is in its first chunk.</summary>
        private int _head;

        /// <summary>Ids the window spans, from <see cref="_base"/>.</summary>
        private int _length;

        /// <summary>Entries held.</summary>
        public int Count { get; private set; }

        /// <summary>The entry of <paramref name="id"/>, or a null reference.</summary>
        public ref Cause Find(long id)
        {
            var offset = id - _base;
            if (_base >= 0 && offset >= 0 && offset < _length)
            {
                ref var slot = ref Slot((int)offset);
                if (slot.Event is not null)
                {
                    return ref slot;
                }

                return ref System.Runtime.CompilerServices.Unsafe.NullRef<Cause>();
            }

            return ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_old, id);
        }

        /// <summary>The entry of <paramref name="id"/>, when there is one.</summary>
        public bool TryGetValue(long id, out Cause cause)
        {
            ref var c = ref Find(id);
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref c))
            {
                cause = default;
                return false;
            }

            cause = c;
            return true;
        }

        /// <summary>Sets the entry of <paramref name="id"/> (a positive id), replacing any.</summary>
        public void Set(long id, Cause cause)
        {
            if (_base < 0)
            {
                _base = id;
            }

            var offset = id - _base;
            if (offset < 0)
            {
                // Recorded after the window moved past it.
                if (_old.TryAdd(id, cause))
                {
                    Count++;
                }
                else
                {
                    _old[id] = cause;
                }

                return;
            }

            while (_head + offset >= (long)_chunkCount * ChunkSlots)
            {
                AddChunk();
            }

            if (offset >= _length)
            {
                _length = (int)offset + 1;
            }

            ref var slot = ref Slot((int)offset);
            if (slot.Event is null)
            {
                Count++;
            }

            slot = cause;
        }

        /// <summary>
        /// Drops every entry last named before <paramref name="horizon"/>, and moves the window's start past the
        /// events older than it: those still named recently go to the dictionary, so one long-lived cause does not
        /// hold a window's worth of slots.
        /// </summary>
        public void Sweep(long horizon)
        {
            foreach (var (id, c) in _old)
            {
                if (c.Touched < horizon)
                {
                    _old.Remove(id);
                    Count--;
                }
            }

            for (var i = 0; i < _length; i++)
            {
                ref var slot = ref Slot(i);
                if (slot.Event is not null && slot.Touched < horizon)
                {
                    slot = default;
                    Count--;
                }
            }

            while (_length > 0)
            {
                ref var first = ref Slot(0);
                if (first.Event is not null)
                {
                    if (first.Event.Time >= horizon)
                    {
                        break;
                    }

                    _old[_base] = first;
                    first = default;
                }

                _base++;
                _length--;
                if (++_head == ChunkSlots)
                {
                    RetireFirstChunk();
                }
            }
        }

        /// <summary>The window's slot <paramref name="offset"/> ids after its start.</summary>
        private ref Cause Slot(int offset)
        {
            var at = _head + offset;
            return ref _chunks[(_firstChunk + (at >> ChunkBits)) & (_chunks.Length - 1)][at & (ChunkSlots - 1)];
        }

        /// <summary>One more chunk at the window's end: a spare one if any.</summary>
        private void AddChunk()
        {
            if (_chunkCount == _chunks.Length)
            {
                var bigger = new Cause[_chunks.Length * 2][];
                for (var i = 0; i < _chunkCount; i++)
                {
                    bigger[i] = _chunks[(_firstChunk + i) & (_chunks.Length - 1)];
                }

                _chunks = bigger;
                _firstChunk = 0;
            }

            _chunks[(_firstChunk + _chunkCount) & (_chunks.Length - 1)] = _spare.Count > 0 ? _spare.Pop() : new Cause[ChunkSlots];
            _chunkCount++;
        }

        /// <summary>The window's start has left its first chunk, every slot of which is now empty: keep it for reuse.</summary>
        private void RetireFirstChunk()
        {
            var chunk = _chunks[_firstChunk];
            _chunks[_firstChunk] = null!;
            _firstChunk = (_firstChunk + 1) & (_chunks.Length - 1);
            _chunkCount--;
            _head = 0;
            if (_spare.Count < SpareChunks)
            {
                Array.Clear(chunk);
                _spare.Push(chunk);
            }
        }
    }
}
