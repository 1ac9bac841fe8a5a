using System.Collections.Immutable;
using Akka.Actor;

namespace TaskIsolation.Simulation;

/// <summary>
/// Owns virtual time and the delivery of every model message. One subclass per execution mode:
/// <see cref="ControlledSimulation"/> and <see cref="ConcurrentSimulation"/>; <see cref="Create"/> picks it.
/// <para>
/// Time is a virtual nanosecond clock that advances only when the machine is quiescent: every message of the current
/// instant has been handled and only timed deliveries remain. Then the clock jumps to the earliest one, and all
/// deliveries due then are released together (<see cref="Release"/>), so messages of the same instant really
/// interleave. This class keeps what both modes share: the clock, the timed deliveries and their cancellation, event
/// ids, and the fault that ends a run.
/// </para>
/// </summary>
public abstract class Simulation
{
    private readonly TimerQueue<Timed> _timers = new();
    private readonly Lock _timerLock = new();
    private readonly List<Timed> _batch = [];
    private readonly HashSet<long> _cancelled = [];

    /// <summary>
    /// No cancelled handle is due before this (long.MaxValue when none is cancelled): a timer due earlier is not looked
    /// up in <see cref="_cancelled"/>. Most cancelled deliveries are a long compute's end, far ahead, while the timers
    /// released meanwhile are ticks and step ends, so this spares a hash lookup per released timer.
    /// </summary>
    private long _cancelledDueMin = long.MaxValue;
    private readonly HashSet<long> _elidable = [];
    private readonly Dictionary<Type, long> _byType = [];
    private long _now;
    private long _seq;
    private long _eventIds;
    private Exception? _fault;
    private bool _running;
    private volatile bool _interrupted;
    private long _instantTime = -1;
    private long _instantBase;
    private NoProgress? _stall;
    private Dictionary<(string Actor, string Message), long>? _loopTally;

    /// <summary>Messages delivered so far: the subclass counts them.</summary>
    private protected long _deliveries;

    /// <summary>
    /// Whether more than one thread runs the model (concurrent mode). Controlled mode runs every delivery on the
    /// driver's thread, so the timer queue and the event ids need no lock and no interlocked operation there: on this
    /// kind of machine an uncontended lock costs 60–100 ns and an interlocked increment 17 ns, a sizeable share of a
    /// delivery that costs well under a microsecond (docs/performance.md, "What a delivery costs").
    /// </summary>
    private readonly bool _threadSafe;

    /// <summary>A simulation whose deliveries run on one thread (<paramref name="threadSafe"/> false) or on many.</summary>
    private protected Simulation(bool threadSafe) => _threadSafe = threadSafe;

    /// <summary>A simulation of <paramref name="mode"/> at time 0.</summary>
    /// <param name="mode">How deliveries are executed.</param>
    /// <param name="strategy">Decides every open point in controlled mode (the seeded random strategy when null); ignored in concurrent mode.</param>
    /// <param name="seed">Seeds the default strategy (controlled) or the data choices of concurrent mode (its interleavings are the threads').</param>
    public static Simulation Create(ExecutionMode mode, ISchedulingStrategy? strategy = null, int seed = 0) => mode switch
    {
        ExecutionMode.Controlled => new ControlledSimulation(strategy ?? new RandomStrategy(seed)),
        ExecutionMode.Concurrent => new ConcurrentSimulation(seed),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "no such execution mode"),
    };

    /// <summary>The execution mode.</summary>
    public abstract ExecutionMode Mode { get; }

    /// <summary>Virtual time, in nanoseconds since boot.</summary>
    public long Now => Volatile.Read(ref _now);

    /// <summary>Messages delivered so far (in concurrent mode: handled so far).</summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    /// <summary>
    /// The decisions kept (controlled mode), in order: all the run took unless a long run forgot its earliest ones
    /// (<see cref="Log"/>); replaying them reproduces the run. Concurrent runs take none.
    /// </summary>
    public IReadOnlyList<Decision> Decisions => Log;

    /// <summary>
    /// The decision log: every decision counted and digested, the decisions themselves kept from
    /// <see cref="DecisionLog.Start"/> on (a soak forgets those before its last snapshot). Empty in concurrent mode.
    /// </summary>
    public DecisionLog Log { get; } = new();

    /// <summary>When set, controlled runs stop after this many deliveries (exploration bounds schedule length).</summary>
    public long MaxDeliveries { get; set; } = long.MaxValue;

    /// <summary>The default of <see cref="MaxInstantDeliveries"/>: far more than any instant of a real run holds.</summary>
    public const long DefaultMaxInstantDeliveries = 100_000;

    /// <summary>The least <see cref="MaxInstantDeliveries"/> may be: a 1,024-CPU jiffy boundary releases a thousand ticks at once.</summary>
    public const long MinMaxInstantDeliveries = 10_000;

    /// <summary>The most <see cref="MaxInstantDeliveries"/> may be set to from a scenario: a billion deliveries is minutes of wall time.</summary>
    public const long MaxMaxInstantDeliveries = 1_000_000_000;

    /// <summary>
    /// The most deliveries one simulated instant may hold. Time only moves at quiescence, so a set of actors that keep
    /// sending each other messages with no delay holds the clock at one instant for ever; past this bound the run stops
    /// with <see cref="RunOutcome.NoProgress"/> and <see cref="Stall"/> says what was looping.
    /// </summary>
    public long MaxInstantDeliveries { get; set; } = DefaultMaxInstantDeliveries;

    /// <summary>What held the clock, once a run stopped with <see cref="RunOutcome.NoProgress"/>; null until then.</summary>
    public NoProgress? Stall => Volatile.Read(ref _stall);

    /// <summary>Whether <see cref="Interrupt"/> was called.</summary>
    public bool Interrupted => _interrupted;

    /// <summary>
    /// Stops the run as soon as possible, from any thread (a signal handler's): controlled mode stops before its next
    /// delivery, concurrent mode stops sending, lets what is in flight be handled, and stops. The machine is then
    /// between two deliveries of an instant, so the simulation does not run again: every later run returns
    /// <see cref="RunOutcome.Stopped"/> at once.
    /// </summary>
    public void Interrupt()
    {
        _interrupted = true;
        OnInterrupt();
    }

    /// <summary>The Akka dispatcher model actors must use in this mode.</summary>
    public abstract string Dispatcher { get; }

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

    /// <summary>
    /// Timed deliveries cancelled before they were due (never delivered, never a decision), counted as they leave the
    /// timer queue: at their time, or earlier when the queue drops its cancelled deliveries all at once.
    /// </summary>
    public long Cancelled { get; private set; }

    /// <summary>A fresh event id (ids are positive and increase in the order events are created).</summary>
    public long NewEventId() => _threadSafe ? Interlocked.Increment(ref _eventIds) : ++_eventIds;

    /// <summary>
    /// Counts accesses to state that model actors share outside messages (kernel memory): the machine sets it when it
    /// creates that state. Null: none is shared.
    /// </summary>
    public Func<long>? SharedStateAccesses { get; set; }

    /// <summary>
    /// How many times so far an actor touched shared state: the events it created (each takes an id from this
    /// simulation and goes to the shared recorder and its monitors) plus <see cref="SharedStateAccesses"/>. The
    /// exhaustive search treats two deliveries that both touched any as dependent.
    /// </summary>
    public long SharedAccesses => (_threadSafe ? Interlocked.Read(ref _eventIds) : _eventIds) + (SharedStateAccesses?.Invoke() ?? 0);

    /// <summary>Delivers <paramref name="message"/> to <paramref name="to"/> at the current instant.</summary>
    public abstract void Send(IActorRef to, IMachineMessage message, IActorRef from);

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

        return Schedule(delayNs, 0, to, message, from, elidable: false);
    }

    /// <summary>
    /// Delivers <paramref name="message"/> after <paramref name="delayNs"/> of virtual time (more than 0), ordered among
    /// the deliveries due at the same instant as if it had been sent <paramref name="asOfDelayNs"/> from now (0 ≤ it ≤
    /// <paramref name="delayNs"/>): after every timed delivery sent before then, before every one sent after. A timed
    /// step that stands for two (<see cref="SendBoundaryAfter"/>) sends its end early, so its end must sit among the
    /// instant's other deliveries where the second step's own end, sent at the boundary, would have.
    /// </summary>
    /// <returns>A handle for <see cref="Cancel"/>.</returns>
    public TimerHandle SendAfterAsOf(long delayNs, long asOfDelayNs, IActorRef to, IMachineMessage message, IActorRef from)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(delayNs);
        ArgumentOutOfRangeException.ThrowIfNegative(asOfDelayNs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(asOfDelayNs, delayNs);
        return Schedule(delayNs, asOfDelayNs, to, message, from, elidable: false);
    }

    /// <summary>
    /// A step boundary nothing else needs to see (a timed self-message): due after <paramref name="delayNs"/> (more
    /// than 0), it is delivered like any timed delivery when anything else is due at its instant, and dropped without a
    /// delivery when it alone is, as no other actor could then have seen it or been scheduled around it. The receiver
    /// carries on past a dropped boundary by itself (it scheduled what follows with <see cref="SendAfterAsOf"/>);
    /// <see cref="Firm"/> makes it an ordinary delivery again, if something came up that needs the boundary delivered.
    /// Dropped boundaries are counted in <see cref="Elided"/>.
    /// </summary>
    /// <returns>A handle for <see cref="Cancel"/> and <see cref="Firm"/>.</returns>
    public TimerHandle SendBoundaryAfter(long delayNs, IActorRef to, IMachineMessage message, IActorRef from)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(delayNs);
        return Schedule(delayNs, 0, to, message, from, elidable: true);
    }

    /// <summary>
    /// Makes a boundary sent with <see cref="SendBoundaryAfter"/> an ordinary timed delivery, delivered even if it is
    /// alone at its instant (also when the clock stands at its instant but has not released it yet: a run that stopped
    /// at its time limit there). A released or ordinary handle is left as it is.
    /// </summary>
    public void Firm(TimerHandle handle)
    {
        if (handle.Seq <= 0)
        {
            return;
        }

        EnterTimers();
        try
        {
            _elidable.Remove(handle.Seq);
        }
        finally
        {
            ExitTimers();
        }
    }

    /// <summary>Step boundaries (<see cref="SendBoundaryAfter"/>) dropped because nothing else was due at their instant.</summary>
    public long Elided { get; private set; }

    /// <summary>
    /// Whether a boundary alone at its instant is dropped (the default). Off, every boundary is delivered as an ordinary
    /// timed delivery: the same run, with every step end delivered (the tests compare the two).
    /// </summary>
    public bool ElideBoundaries { get; set; } = true;

    private TimerHandle Schedule(long delayNs, long asOfDelayNs, IActorRef to, IMachineMessage message, IActorRef from, bool elidable)
    {
        EnterTimers();
        try
        {
            var at = _now + delayNs;
            var seq = ++_seq;
            _timers.Enqueue(new Timed(to, message, from), at, _now + asOfDelayNs, seq);
            if (elidable)
            {
                _elidable.Add(seq);
            }

            return new TimerHandle(seq, at);
        }
        finally
        {
            ExitTimers();
        }
    }

    /// <summary>Takes the timer lock when deliveries run on several threads (concurrent mode); controlled mode needs none.</summary>
    private void EnterTimers()
    {
        if (_threadSafe)
        {
            _timerLock.Enter();
        }
    }

    /// <summary>Releases what <see cref="EnterTimers"/> took.</summary>
    private void ExitTimers()
    {
        if (_threadSafe)
        {
            _timerLock.Exit();
        }
    }

    /// <summary>
    /// Withdraws a timed delivery that has not been released yet, as <c>hrtimer_cancel()</c> withdraws a programmed
    /// expiry: a superseded self-message (a step whose activity was interrupted and rescheduled) then costs no
    /// delivery and offers the strategy no choice. Only call it for a handle whose message has not arrived: the caller
    /// knows, since the message would have come to it. A handle whose time has come is ignored: everything due at an
    /// instant is released together when the clock reaches it, so such a message is already on its way (and arrives
    /// stale, as before). That also bounds the set of cancelled handles: each one leaves it when its time comes, or
    /// earlier, with its queued delivery, once the cancelled ones are half of the timer queue (<see cref="Compact"/>).
    /// </summary>
    public void Cancel(TimerHandle handle)
    {
        if (handle.Seq <= 0)
        {
            return;
        }

        EnterTimers();
        try
        {
            if (handle.DueNs > _now && _cancelled.Add(handle.Seq))
            {
                _cancelledDueMin = Math.Min(_cancelledDueMin, handle.DueNs);
                if (_cancelled.Count >= CompactAfter && _cancelled.Count * 2 >= _timers.Count)
                {
                    Compact();
                }
            }
        }
        finally
        {
            ExitTimers();
        }
    }

    /// <summary>Cancelled handles left in the timer queue before <see cref="Cancel"/> may take them out all at once.</summary>
    private const int CompactAfter = 32;

    /// <summary>
    /// Takes every cancelled delivery out of the timer queue, once they are half of it. A cancelled delivery otherwise
    /// stays queued until its time comes: a CPU that computes for half a second and takes a tick every millisecond
    /// cancels its compute's end and programs a new one at every tick, so the queue would hold hundreds of dead entries
    /// that every insertion and removal walks past (the timer queue was a quarter of an exploration schedule's time).
    /// Every queued delivery has a priority of its own (its sequence number breaks ties), so which are still queued,
    /// not how the heap holds them, decides the order they come out in: taking the cancelled ones out early changes no
    /// run. Called under the timer lock.
    /// </summary>
    private void Compact()
    {
        // Every cancelled handle was still queued: Cancel only takes one whose time has not come, and nothing leaves
        // the queue before its time.
        Cancelled += _timers.RemoveAll(_cancelled, _elidable);
        _cancelled.Clear();
        _cancelledDueMin = long.MaxValue;
    }

    /// <summary>
    /// A value in [0, <paramref name="options"/>) that the model leaves open (an IPI's latency jitter, say): the
    /// strategy's choice in controlled mode, recorded; a seeded draw in concurrent mode.
    /// </summary>
    public int Choose(int options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options, 1);
        return options == 1 ? 0 : ChooseAmong(options);
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

        // So does a stalled or interrupted one: its instant is over only for the messages it dropped.
        if (Stall is not null)
        {
            return RunOutcome.NoProgress;
        }

        if (_interrupted)
        {
            return RunOutcome.Stopped;
        }

        _running = true;
        try
        {
            return Run(untilNs, stop);
        }
        finally
        {
            _running = false;
        }
    }

    /// <summary>Called by <see cref="SimActor"/> when it has handled a model message.</summary>
    internal virtual void Handled(IActorRef actor, object message)
    {
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
    /// gone and the messages sent to it will never be handled, so the run stops now and the driver rethrows.
    /// </summary>
    public void FaultOutsideHandler(string actor, Exception exception)
    {
        Interlocked.CompareExchange(ref _fault, new SimulationFaultedException($"{actor} could not be created: {exception.Message}", exception), null);
        OnFaultOutsideHandler();
    }

    /// <summary>The mode's own part of <see cref="FaultOutsideHandler"/>.</summary>
    private protected virtual void OnFaultOutsideHandler()
    {
    }

    /// <summary>The mode's own part of <see cref="Interrupt"/>.</summary>
    private protected virtual void OnInterrupt()
    {
    }

    /// <summary>How many deliveries of the current instant <see cref="Stall"/> names the participants of (the last ones).</summary>
    private const long TallyWindow = 4_096;

    /// <summary>
    /// Counts a delivery to <paramref name="to"/> of <paramref name="message"/> against the instant's bound; false when
    /// the bound is reached, after which <see cref="Stall"/> is set. The deliveries of the instant's last
    /// <see cref="TallyWindow"/> before the bound are tallied by receiver and message type: they are the loop. Called by
    /// one thread at a time in controlled mode, by the handling threads in concurrent mode (hence the lock, taken only
    /// in the window).
    /// </summary>
    private protected bool CountInstant(IActorRef to, object message, long deliveries)
    {
        var now = Volatile.Read(ref _now);
        if (now != Volatile.Read(ref _instantTime))
        {
            EnterTimers();
            try
            {
                if (now != _instantTime)
                {
                    _instantBase = deliveries - 1;
                    Volatile.Write(ref _instantTime, now);
                }
            }
            finally
            {
                ExitTimers();
            }
        }

        var atInstant = deliveries - Volatile.Read(ref _instantBase);
        var max = MaxInstantDeliveries;
        if (atInstant <= max - Math.Min(TallyWindow, max / 2))
        {
            return true;
        }

        lock (_timerLock)
        {
            if (_stall is not null)
            {
                return false;
            }

            var tally = _loopTally ??= [];
            var key = (to.Path.Name, message.GetType().Name);
            tally[key] = tally.GetValueOrDefault(key) + 1;
            if (atInstant < max)
            {
                return true;
            }

            var loop = tally
                .GroupBy(kv => kv.Key.Actor, StringComparer.Ordinal)
                .Select(g => new LoopParticipant(g.Key, [.. g.Select(kv => kv.Key.Message).Order(StringComparer.Ordinal)]))
                .OrderBy(p => p.Actor, StringComparer.Ordinal)
                .ToImmutableArray();
            Volatile.Write(ref _stall, new NoProgress(now, max, loop));
            _loopTally = null;
            return false;
        }
    }

    /// <summary>A data choice among two or more options.</summary>
    private protected abstract int ChooseAmong(int options);

    /// <summary>The mode's run loop.</summary>
    private protected abstract RunOutcome Run(long untilNs, Func<bool>? stop);

    /// <summary>Hands over the deliveries due at the instant the clock just reached (one or more, in timer order).</summary>
    private protected abstract void Release(List<Timed> batch);

    /// <summary>Whether a handler or an actor's creation failed.</summary>
    private protected bool Faulted => Volatile.Read(ref _fault) is not null;

    /// <summary>Moves the clock to the next timed delivery (if not past the limit) and releases everything due then.</summary>
    private protected RunOutcome AdvanceTo(long untilNs)
    {
        var batch = _batch;
        batch.Clear();
        EnterTimers();
        try
        {
            // Drop cancelled timers at the head, so the clock never stops at an instant where nothing happens.
            while (_cancelled.Count > 0 && _timers.TryPeek(out var headTime, out var headSeq) && headTime >= _cancelledDueMin && _cancelled.Remove(headSeq))
            {
                _timers.Dequeue();
                Cancelled++;
                _elidable.Remove(headSeq);
            }

            if (!_timers.TryPeek(out var nextTime, out _))
            {
                if (untilNs != long.MaxValue && untilNs > _now)
                {
                    Volatile.Write(ref _now, untilNs);
                }

                return RunOutcome.Idle;
            }

            if (nextTime > untilNs)
            {
                Volatile.Write(ref _now, untilNs);
                return RunOutcome.TimeLimit;
            }

            Volatile.Write(ref _now, nextTime);
            var elidable = 0;
            while (_timers.TryPeek(out var time, out var seq) && time == nextTime)
            {
                var t = _timers.Dequeue();
                if (time >= _cancelledDueMin && _cancelled.Remove(seq))
                {
                    Cancelled++;
                    _elidable.Remove(seq);
                    continue;
                }

                if (_elidable.Count > 0)
                {
                    elidable += _elidable.Remove(seq) ? 1 : 0;
                }

                batch.Add(t);
            }

            if (_cancelled.Count == 0)
            {
                _cancelledDueMin = long.MaxValue;
            }

            // A boundary alone at its instant: nothing else happens then, so no one could see it or be ordered
            // around it, and its receiver carries on past it by itself.
            if (batch.Count == 1 && elidable == 1 && ElideBoundaries)
            {
                batch.Clear();
                Elided++;
            }
        }
        finally
        {
            ExitTimers();
        }

        if (batch.Count == 0)
        {
            return RunOutcome.Continue;
        }

        Release(batch);
        return RunOutcome.Continue;
    }

    /// <summary>Counts a delivery by its type, when <see cref="CountByType"/> is set.</summary>
    private protected void CountType(IMachineMessage message)
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

    /// <summary>Rethrows the run's fault, if any.</summary>
    private protected void ThrowIfFaulted()
    {
        var fault = Volatile.Read(ref _fault);
        if (fault is not null)
        {
            throw fault;
        }
    }

    /// <summary>A delivery: receiver, message, sender.</summary>
    private protected readonly record struct Timed(IActorRef To, IMachineMessage Message, IActorRef From);
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

    /// <summary>
    /// One instant held more than <see cref="Simulation.MaxInstantDeliveries"/> deliveries: simulated time could not
    /// advance (<see cref="Simulation.Stall"/> says what looped). The simulation does not run again.
    /// </summary>
    NoProgress,
}

/// <summary>
/// Why simulated time stopped: at <paramref name="TimeNs"/>, <paramref name="Deliveries"/> deliveries were made without
/// the clock moving, among <paramref name="Loop"/>.
/// </summary>
/// <param name="TimeNs">The instant the clock was held at.</param>
/// <param name="Deliveries">Deliveries at that instant (the bound).</param>
/// <param name="Loop">The receivers of the instant's last deliveries, by actor name, each with the message types it received.</param>
public sealed record NoProgress(long TimeNs, long Deliveries, ImmutableArray<LoopParticipant> Loop)
{
    /// <summary>Value equality, the loop compared element by element.</summary>
    public bool Equals(NoProgress? other) => other is not null && TimeNs == other.TimeNs && Deliveries == other.Deliveries && Loop.SequenceEqual(other.Loop);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(TimeNs, Deliveries, Loop.Length);
}

/// <summary>An actor of a loop that held the clock, and the message types it received in it (sorted).</summary>
/// <param name="Actor">The actor's name (<c>cpu3</c>, <c>task-101</c>).</param>
/// <param name="Messages">The types of the messages it received, by name.</param>
public sealed record LoopParticipant(string Actor, ImmutableArray<string> Messages)
{
    /// <summary>Value equality, the messages compared element by element.</summary>
    public bool Equals(LoopParticipant? other) => other is not null && Actor == other.Actor && Messages.SequenceEqual(other.Messages);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Actor, Messages.Length);

    /// <summary><c>cpu3 (ReturnStep, SyscallDone)</c>.</summary>
    public override string ToString() => $"{Actor} ({string.Join(", ", Messages)})";
}

/// <summary>A model actor threw while handling a message: a bug in the model, never a simulated outcome.</summary>
public sealed class SimulationFaultedException(string message, Exception inner) : Exception(message, inner);

/// <summary>A timed delivery that <see cref="Simulation.Cancel"/> can withdraw until its time comes.</summary>
/// <param name="Seq">Its sequence number (0: none).</param>
/// <param name="DueNs">When it is due, in virtual nanoseconds.</param>
public readonly record struct TimerHandle(long Seq, long DueNs);
