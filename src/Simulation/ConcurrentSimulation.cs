using Akka.Actor;

namespace TaskIsolation.Simulation;

/// <summary>
/// Concurrent mode: Akka's ordinary thread pool runs the actors, so the interleavings of one instant are whatever the
/// machine's threads produce. A send is a plain <c>Tell</c> counted in an in-flight counter; <see cref="SimActor"/>
/// counts it down when handled, and the thread that brings the count to zero advances time. Data choices are seeded
/// draws.
/// </summary>
public sealed class ConcurrentSimulation : Simulation
{
    private readonly ManualResetEventSlim _finished = new(false, spinCount: 200);
    private readonly Random _choices;
    private readonly Lock _choiceLock = new();
    private long _inFlight;

    // Concurrent mode's clock advance (see Pump): the run's limit and stop condition, whether a run is pumping, the
    // token of the one thread that advances, and why the run ended.
    private long _pumpUntil;
    private Func<bool>? _pumpStop;
    private volatile bool _pumping;
    private volatile bool _stopping;
    private int _advancing;
    private RunOutcome _pumpOutcome;
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _pumpError;

    /// <summary>A concurrent simulation at time 0 whose data choices follow from <paramref name="seed"/>.</summary>
    public ConcurrentSimulation(int seed)
        : base(threadSafe: true) => _choices = new Random(seed);

    /// <inheritdoc />
    public override ExecutionMode Mode => ExecutionMode.Concurrent;

    /// <inheritdoc />
    public override string Dispatcher => SimulationConfig.ConcurrentDispatcher;

    /// <inheritdoc />
    public override void Send(IActorRef to, IMachineMessage message, IActorRef from)
    {
        if (_stopping)
        {
            // Stalled or interrupted: what is in flight is handled, nothing new is sent, so the instant ends.
            return;
        }

        CountType(message);
        Interlocked.Increment(ref _inFlight);
        to.Tell(message, from);
    }

    /// <inheritdoc />
    internal override void Handled(IActorRef actor, object message)
    {
        if (!CountInstant(actor, message, Interlocked.Increment(ref _deliveries)))
        {
            _stopping = true;
        }

        if (Interlocked.Decrement(ref _inFlight) == 0 && _pumping)
        {
            // The instant is over, and this thread saw it end: it advances the clock itself.
            Pump();
        }
    }

    /// <inheritdoc />
    private protected override int ChooseAmong(int options)
    {
        lock (_choiceLock)
        {
            return _choices.Next(options);
        }
    }

    /// <inheritdoc />
    private protected override void OnFaultOutsideHandler()
    {
        // The lost actor's messages stay in flight for ever: release a running driver rather than leave it waiting.
        if (_pumping)
        {
            Finish(RunOutcome.Stopped);
        }
    }

    /// <inheritdoc />
    private protected override void OnInterrupt()
    {
        // Stop sending; the last message in flight then ends the instant and its thread finishes the run.
        _stopping = true;
        if (_pumping && Interlocked.Read(ref _inFlight) == 0)
        {
            Pump();
        }
    }

    /// <inheritdoc />
    private protected override void Release(List<Timed> batch)
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

    /// <summary>
    /// Concurrent mode. Virtual time advances at quiescence, and the thread that sees the in-flight count reach zero
    /// (the pool thread that handled the instant's last message) advances the clock and releases the next instant
    /// itself (<see cref="Pump"/>); the driver only starts the run and waits for its end. A driver that advanced time
    /// itself paid two thread hand-offs per instant (a wake-up of the driver, then a wake-up of a pool thread for the
    /// next message), and an instant holds only one to three messages: those wake-ups, not the model, were the cost.
    /// </summary>
    private protected override RunOutcome Run(long untilNs, Func<bool>? stop)
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
                    var outcome = Faulted ? RunOutcome.Stopped
                        : Stall is not null ? RunOutcome.NoProgress
                        : Interrupted || _pumpStop?.Invoke() == true ? RunOutcome.Stopped
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
}
