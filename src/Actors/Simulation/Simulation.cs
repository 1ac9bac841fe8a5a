using Akka.Actor;

namespace TaskIsolation.Actors.Simulation;

/// <summary>
/// Owns virtual time and the delivery of every model message, in either execution mode.
/// <para>
/// Time is a virtual nanosecond clock that advances only when the machine is quiescent: every message of the current
/// instant has been handled and only timed deliveries remain. Then the clock jumps to the earliest one, and all
/// deliveries due then are released together, so messages of the same instant really interleave.
/// </para>
/// <para>
/// <b>Concurrent</b>: a send is a plain <c>Tell</c> counted in an in-flight counter; the actor base class counts it
/// down when handled, and the thread that brings the count to zero advances time. <b>Controlled</b>: a send is queued
/// per receiver; the driver asks the strategy which runnable receiver goes next and tells it the head of its queue,
/// which the inline executor processes on the driver's thread before the next choice.
/// </para>
/// </summary>
public sealed class Simulation
{
    private readonly PriorityQueue<Timed, (long Time, long Seq)> _timers = new();
    private readonly Lock _timerLock = new();
    private readonly Dictionary<IActorRef, ReceiverQueue> _queues = new(ReferenceEqualityComparer.Instance);
    private readonly List<ReceiverQueue> _runnable = [];
    private readonly RunnableNames _runnableNames;
    private readonly List<Decision> _decisions = [];
    private readonly List<Timed> _batch = [];
    private readonly List<List<Timed>> _groups = [];
    private readonly Dictionary<IActorRef, List<Timed>> _groupOf = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<List<Timed>> _spareGroups = new();
    private readonly List<int> _heads = [];
    private readonly HashSet<long> _cancelled = [];
    private readonly Dictionary<Type, long> _byType = [];
    private readonly ManualResetEventSlim _finished = new(false, spinCount: 200);
    private readonly Random _concurrentChoices;
    private readonly Lock _choiceLock = new();
    private long _now;
    private long _seq;
    private long _inFlight;
    private long _deliveries;
    private long _eventIds;
    private Exception? _fault;
    private bool _running;

    // Concurrent mode's clock advance (see Pump): the run's limit and stop condition, whether a run is pumping, the
    // token of the one thread that advances, and why the run ended.
    private long _pumpUntil;
    private Func<bool>? _pumpStop;
    private volatile bool _pumping;
    private int _advancing;
    private RunOutcome _pumpOutcome;
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _pumpError;

    /// <summary>A simulation at time 0.</summary>
    /// <param name="mode">How deliveries are executed.</param>
    /// <param name="strategy">Decides every open point in controlled mode; ignored in concurrent mode.</param>
    /// <param name="seed">Seeds the data choices of concurrent mode (its interleavings are the threads').</param>
    public Simulation(ExecutionMode mode, ISchedulingStrategy? strategy = null, int seed = 0)
    {
        Mode = mode;
        Strategy = strategy ?? new RandomStrategy(seed);
        _runnableNames = new RunnableNames(_runnable);
        _concurrentChoices = new Random(seed);
    }

    /// <summary>The execution mode.</summary>
    public ExecutionMode Mode { get; }

    /// <summary>The strategy deciding controlled runs.</summary>
    public ISchedulingStrategy Strategy { get; }

    /// <summary>Virtual time, in nanoseconds since boot.</summary>
    public long Now => Volatile.Read(ref _now);

    /// <summary>Messages delivered so far (in concurrent mode: handled so far).</summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    /// <summary>The decisions taken so far (controlled mode), in order: replaying them reproduces the run.</summary>
    public IReadOnlyList<Decision> Decisions => _decisions;

    /// <summary>When set, controlled runs stop after this many deliveries (exploration bounds schedule length).</summary>
    public long MaxDeliveries { get; set; } = long.MaxValue;

    /// <summary>The Akka dispatcher model actors must use in this mode.</summary>
    public string Dispatcher => Mode == ExecutionMode.Controlled
        ? SimulationConfig.ControlledDispatcher
        : SimulationConfig.ConcurrentDispatcher;

    /// <summary>A fresh event id (ids are positive and increase in the order events are created).</summary>
    public long NewEventId() => Interlocked.Increment(ref _eventIds);

    /// <summary>Delivers <paramref name="message"/> to <paramref name="to"/> at the current instant.</summary>
    public void Send(IActorRef to, IMachineMessage message, IActorRef from)
    {
        if (Mode == ExecutionMode.Controlled)
        {
            Enqueue(to, message, from);
        }
        else
        {
            CountType(message);
            Interlocked.Increment(ref _inFlight);
            to.Tell(message, from);
        }
    }

    /// <summary>
    /// When set, deliveries are counted by message type (<see cref="DeliveriesByType"/>): what the benchmark and a
    /// profile break the cost down by. Off by default: it costs a dictionary update per delivery.
    /// </summary>
    public bool CountByType { get; set; }

    /// <summary>Deliveries so far by message type name, while <see cref="CountByType"/> was set.</summary>
    public IReadOnlyDictionary<string, long> DeliveriesByType
    {
        get
        {
            lock (_byType)
            {
                return _byType.ToDictionary(kv => kv.Key.Name, kv => kv.Value, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Timed deliveries cancelled before they were due (never delivered, never a decision).</summary>
    public long Cancelled { get; private set; }

    /// <summary>Delivers <paramref name="message"/> after <paramref name="delayNs"/> of virtual time (0: now).</summary>
    /// <returns>A handle for <see cref="Cancel"/> (<c>default</c> for an immediate delivery, which cannot be cancelled).</returns>
    public TimerHandle SendAfter(long delayNs, IActorRef to, IMachineMessage message, IActorRef from)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(delayNs);
        if (delayNs == 0)
        {
            Send(to, message, from);
            return default;
        }

        lock (_timerLock)
        {
            var at = _now + delayNs;
            var seq = ++_seq;
            _timers.Enqueue(new Timed(to, message, from), (at, seq));
            return new TimerHandle(seq, at);
        }
    }

    /// <summary>
    /// Withdraws a timed delivery that has not been released yet, as <c>hrtimer_cancel()</c> withdraws a programmed
    /// expiry: a superseded self-message (a step whose activity was interrupted and rescheduled) then costs no
    /// delivery and offers the strategy no choice. Only call it for a handle whose message has not arrived: the caller
    /// knows, since the message would have come to it. A handle whose time has come is ignored: everything due at an
    /// instant is released together when the clock reaches it, so such a message is already on its way (and arrives
    /// stale, as before). That also bounds the set of cancelled handles: each one leaves it when its time comes.
    /// </summary>
    public void Cancel(TimerHandle handle)
    {
        if (handle.Seq <= 0)
        {
            return;
        }

        lock (_timerLock)
        {
            if (handle.DueNs > _now)
            {
                _cancelled.Add(handle.Seq);
            }
        }
    }

    /// <summary>
    /// A value in [0, <paramref name="options"/>) that the model leaves open (an IPI's latency jitter, say): the
    /// strategy's choice in controlled mode, recorded; a seeded draw in concurrent mode.
    /// </summary>
    public int Choose(int options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options, 1);
        if (options == 1)
        {
            return 0;
        }

        if (Mode == ExecutionMode.Concurrent)
        {
            lock (_choiceLock)
            {
                return _concurrentChoices.Next(options);
            }
        }

        var chosen = Strategy.NextChoice(options);
        _decisions.Add(new Decision(DecisionKind.Choice, chosen, options));
        return chosen;
    }

    /// <summary>
    /// Runs until virtual time reaches <paramref name="untilNs"/> (then sets the clock to it), until nothing at all is
    /// left to deliver, or until <paramref name="stop"/> says so (checked between deliveries in controlled mode and
    /// between instants in concurrent mode). Runs on the calling thread; not reentrant.
    /// </summary>
    /// <returns>Why it stopped.</returns>
    public RunOutcome RunUntil(long untilNs, Func<bool>? stop = null)
    {
        if (_running)
        {
            throw new InvalidOperationException("the simulation is already running");
        }

        // A faulted run stays faulted: its lost messages would leave concurrent mode waiting for ever.
        ThrowIfFaulted();
        _running = true;
        try
        {
            return Mode == ExecutionMode.Controlled ? RunControlled(untilNs, stop) : RunConcurrent(untilNs, stop);
        }
        finally
        {
            _running = false;
        }
    }

    /// <summary>Called by <see cref="SimActor"/> when it has handled a model message (concurrent mode).</summary>
    internal void Handled()
    {
        if (Mode != ExecutionMode.Concurrent)
        {
            return;
        }

        Interlocked.Increment(ref _deliveries);
        if (Interlocked.Decrement(ref _inFlight) == 0 && _pumping)
        {
            // The instant is over, and this thread saw it end: it advances the clock itself.
            Pump();
        }
    }

    /// <summary>Called by <see cref="SimActor"/> when a handler threw: the run stops and the driver rethrows.</summary>
    internal void Fault(IActorRef actor, object message, Exception exception)
    {
        // A replay that no longer fits the model is the user's answer, not a model bug: keep it as it is.
        Interlocked.CompareExchange(
            ref _fault,
            exception is ReplayDivergedException ? exception : new SimulationFaultedException($"{actor.Path.Name} failed on {message.GetType().Name} at {Now} ns: {exception.Message}", exception),
            null);
    }

    /// <summary>
    /// Called by a machine's root when one of its actors failed outside a handler (its constructor threw): the actor is
    /// gone and the messages sent to it will never be handled, so the run stops now and the driver rethrows. In
    /// concurrent mode those messages stay in flight for ever: a running driver is released here rather than waiting.
    /// </summary>
    internal void FaultOutsideHandler(string actor, Exception exception)
    {
        Interlocked.CompareExchange(ref _fault, new SimulationFaultedException($"{actor} could not be created: {exception.Message}", exception), null);
        if (Mode == ExecutionMode.Concurrent && _pumping)
        {
            Finish(RunOutcome.Stopped);
        }
    }

    private RunOutcome RunControlled(long untilNs, Func<bool>? stop)
    {
        while (true)
        {
            ThrowIfFaulted();
            if (stop?.Invoke() == true)
            {
                return RunOutcome.Stopped;
            }

            if (_runnable.Count == 0)
            {
                var advanced = AdvanceTo(untilNs);
                if (advanced != RunOutcome.Continue)
                {
                    return advanced;
                }

                continue;
            }

            if (_deliveries >= MaxDeliveries)
            {
                return RunOutcome.StepLimit;
            }

            int index;
            if (_runnable.Count == 1)
            {
                index = 0;
            }
            else
            {
                // A view, not a copy: with a thousand runnable receivers, copying their names cost more than the delivery.
                index = Strategy.NextReceiver(_runnableNames);
                if ((uint)index >= (uint)_runnable.Count)
                {
                    throw new InvalidOperationException($"strategy {Strategy.Name} chose {index} of {_runnable.Count}");
                }

                _decisions.Add(new Decision(DecisionKind.Schedule, index, _runnable.Count));
            }

            var queue = _runnable[index];
            var delivery = queue.Items.Dequeue();
            if (queue.Items.Count == 0)
            {
                _runnable.RemoveAt(index);
                queue.Runnable = false;
            }

            _deliveries++;
            CountType(delivery.Message);
            delivery.To.Tell(delivery.Message, delivery.From);
        }
    }

    /// <summary>
    /// Concurrent mode. Virtual time advances at quiescence, and the thread that sees the in-flight count reach zero
    /// (the pool thread that handled the instant's last message) advances the clock and releases the next instant
    /// itself (<see cref="Pump"/>); the driver only starts the run and waits for its end. A driver that advanced time
    /// itself paid two thread hand-offs per instant (a wake-up of the driver, then a wake-up of a pool thread for the
    /// next message), and an instant holds only one to three messages: those wake-ups, not the model, were the cost.
    /// </summary>
    private RunOutcome RunConcurrent(long untilNs, Func<bool>? stop)
    {
        _pumpUntil = untilNs;
        _pumpStop = stop;
        _pumpOutcome = RunOutcome.Continue;
        _pumpError = null;
        _finished.Reset();
        _pumping = true;

        // Messages told before the run (a task started, say) may still be in flight: then their last handler pumps.
        Pump();
        _finished.Wait();
        _pumpError?.Throw();
        ThrowIfFaulted();
        return _pumpOutcome;
    }

    /// <summary>
    /// Advances the clock while the machine is quiescent: checks for a fault and the stop condition, moves to the
    /// next instant and releases it, until something is in flight again or the run is over. One thread at a time holds
    /// the token; a thread that finds it taken leaves, and the holder checks the in-flight count again after giving
    /// the token back, so a zero reached in between is never lost.
    /// </summary>
    private void Pump()
    {
        while (true)
        {
            if (Interlocked.CompareExchange(ref _advancing, 1, 0) != 0)
            {
                return;
            }

            try
            {
                while (_pumping && Interlocked.Read(ref _inFlight) == 0)
                {
                    var outcome = Volatile.Read(ref _fault) is not null ? RunOutcome.Stopped
                        : _pumpStop?.Invoke() == true ? RunOutcome.Stopped
                        : AdvanceTo(_pumpUntil);
                    if (outcome != RunOutcome.Continue)
                    {
                        Finish(outcome);
                    }
                }
            }
            catch (Exception ex)
            {
                _pumpError = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex);
                Finish(RunOutcome.Stopped);
            }
            finally
            {
                Volatile.Write(ref _advancing, 0);
            }

            if (!_pumping || Interlocked.Read(ref _inFlight) != 0)
            {
                return;
            }
        }
    }

    private void Finish(RunOutcome outcome)
    {
        _pumpOutcome = outcome;
        _pumping = false;
        _finished.Set();
    }

    /// <summary>Moves the clock to the next timed delivery (if not past the limit) and releases everything due then.</summary>
    private RunOutcome AdvanceTo(long untilNs)
    {
        var batch = _batch;
        batch.Clear();
        lock (_timerLock)
        {
            // Drop cancelled timers at the head, so the clock never stops at an instant where nothing happens.
            while (_cancelled.Count > 0 && _timers.TryPeek(out _, out var head) && _cancelled.Remove(head.Seq))
            {
                _timers.Dequeue();
                Cancelled++;
            }

            if (!_timers.TryPeek(out _, out var next))
            {
                if (untilNs != long.MaxValue && untilNs > _now)
                {
                    Volatile.Write(ref _now, untilNs);
                }

                return RunOutcome.Idle;
            }

            if (next.Time > untilNs)
            {
                Volatile.Write(ref _now, untilNs);
                return RunOutcome.TimeLimit;
            }

            Volatile.Write(ref _now, next.Time);
            while (_timers.TryPeek(out _, out var p) && p.Time == next.Time)
            {
                var t = _timers.Dequeue();
                if (_cancelled.Count > 0 && _cancelled.Remove(p.Seq))
                {
                    Cancelled++;
                    continue;
                }

                batch.Add(t);
            }
        }

        if (batch.Count == 0)
        {
            return RunOutcome.Continue;
        }

        if (Mode == ExecutionMode.Controlled)
        {
            ReleaseControlled(batch);
        }
        else
        {
            // Count the whole batch first so the in-flight count cannot touch zero while it is still being told. Only
            // the pump's token holder touches the batch, and it still holds the token after the last tell.
            Interlocked.Add(ref _inFlight, batch.Count);
            foreach (var t in batch)
            {
                CountType(t.Message);
                t.To.Tell(t.Message, t.From);
            }
        }

        return RunOutcome.Continue;
    }

    /// <summary>
    /// Same-time timers for one receiver from different senders may fire in any order: the strategy picks the order,
    /// keeping each sender's own messages in the order it sent them (Akka's per-pair ordering guarantee).
    /// </summary>
    private void ReleaseControlled(List<Timed> batch)
    {
        if (batch.Count == 1)
        {
            Enqueue(batch[0].To, batch[0].Message, batch[0].From);
            return;
        }

        // Group by receiver in order of first appearance, in one pass: a jiffy boundary on a 1,024-CPU machine
        // releases a thousand ticks at once, and a search per receiver would make that quadratic. The lists and the
        // index are the simulation's, reused from one release to the next: every jiffy boundary where two CPUs tick
        // comes here, and building them afresh allocated a dictionary, lists and delegates per release.
        var groups = _groups;
        var groupOf = _groupOf;
        try
        {
            foreach (var t in batch)
            {
                if (!groupOf.TryGetValue(t.To, out var g))
                {
                    g = _spareGroups.Count > 0 ? _spareGroups.Pop() : [];
                    groupOf.Add(t.To, g);
                    groups.Add(g);
                }

                g.Add(t);
            }

            foreach (var group in groups)
            {
                if (OneSender(group))
                {
                    // One sender: its order is fixed, there is nothing to choose.
                    foreach (var t in group)
                    {
                        Enqueue(t.To, t.Message, t.From);
                    }

                    continue;
                }

                var heads = _heads;
                while (group.Count > 0)
                {
                    // The heads: the first pending message of each distinct sender.
                    heads.Clear();
                    for (var i = 0; i < group.Count; i++)
                    {
                        if (FirstFrom(group, group[i].From) == i)
                        {
                            heads.Add(i);
                        }
                    }

                    var pick = heads[Choose(heads.Count)];
                    Enqueue(group[pick].To, group[pick].Message, group[pick].From);
                    group.RemoveAt(pick);
                }
            }
        }
        finally
        {
            foreach (var g in groups)
            {
                g.Clear();
                _spareGroups.Push(g);
            }

            groups.Clear();
            groupOf.Clear();
        }
    }

    private static bool OneSender(List<Timed> group)
    {
        for (var i = 1; i < group.Count; i++)
        {
            if (!ReferenceEquals(group[i].From, group[0].From))
            {
                return false;
            }
        }

        return true;
    }

    private static int FirstFrom(List<Timed> group, IActorRef from)
    {
        for (var i = 0; i < group.Count; i++)
        {
            if (ReferenceEquals(group[i].From, from))
            {
                return i;
            }
        }

        return -1;
    }

    private void Enqueue(IActorRef to, IMachineMessage message, IActorRef from)
    {
        if (!_queues.TryGetValue(to, out var queue))
        {
            queue = new ReceiverQueue(to.Path.Name);
            _queues.Add(to, queue);
        }

        queue.Items.Enqueue(new Timed(to, message, from));
        if (!queue.Runnable)
        {
            queue.Runnable = true;
            _runnable.Add(queue);
        }
    }

    private void CountType(IMachineMessage message)
    {
        if (!CountByType)
        {
            return;
        }

        lock (_byType)
        {
            ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_byType, message.GetType(), out _);
            count++;
        }
    }

    private void ThrowIfFaulted()
    {
        var fault = Volatile.Read(ref _fault);
        if (fault is not null)
        {
            throw fault;
        }
    }

    private readonly record struct Timed(IActorRef To, IMachineMessage Message, IActorRef From);

    /// <summary>The names of the runnable receivers, read through to the list (no copy per decision).</summary>
    private sealed class RunnableNames(List<ReceiverQueue> runnable) : IReadOnlyList<string>
    {
        public int Count => runnable.Count;

        public string this[int index] => runnable[index].Name;

        public IEnumerator<string> GetEnumerator() => runnable.Select(q => q.Name).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class ReceiverQueue(string name)
    {
        public string Name { get; } = name;

        public Queue<Timed> Items { get; } = new();

        public bool Runnable { get; set; }
    }
}

/// <summary>Why <see cref="Simulation.RunUntil"/> returned.</summary>
public enum RunOutcome
{
    /// <summary>Internal: keep going.</summary>
    Continue,

    /// <summary>The time limit was reached.</summary>
    TimeLimit,

    /// <summary>Nothing is left to deliver, now or later.</summary>
    Idle,

    /// <summary>The stop condition held.</summary>
    Stopped,

    /// <summary>The delivery bound (<see cref="Simulation.MaxDeliveries"/>) was reached.</summary>
    StepLimit,
}

/// <summary>A model actor threw while handling a message: a bug in the model, never a simulated outcome.</summary>
public sealed class SimulationFaultedException(string message, Exception inner) : Exception(message, inner);

/// <summary>A timed delivery that <see cref="Simulation.Cancel"/> can withdraw until its time comes.</summary>
/// <param name="Seq">Its sequence number (0: none).</param>
/// <param name="DueNs">When it is due, in virtual nanoseconds.</param>
public readonly record struct TimerHandle(long Seq, long DueNs);
