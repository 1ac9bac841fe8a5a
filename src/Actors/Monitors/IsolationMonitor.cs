using TaskIsolation.Machine.Events;

namespace TaskIsolation.Actors.Monitors;

/// <summary>
/// A monitor that has a verdict when a run ends, not only at each event: <see cref="End"/> is called once, when the
/// run reached its end (its duration, or nothing left to do), never when it was cut short (a step bound, a stop at a
/// finding, a soak's slice).
/// </summary>
public interface IEndOfRunMonitor
{
    /// <summary>The run ended at <paramref name="nowNs"/>: findings from what was still owed.</summary>
    IEnumerable<MachineEvent> End(long nowNs, IEventHistory history);
}

/// <summary>
/// The base of a property checked at every event (docs/exploration.md, "Monitors"), in the manner of Microsoft Coyote's
/// monitors: <see cref="OnEvent"/> sees every event of the run in order and may <see cref="Fail"/> (a safety property
/// broke), or move the monitor between <b>hot</b> states (<see cref="Hot"/>: something is owed) and <b>cold</b> ones
/// (<see cref="Cold"/>: nothing is). A monitor still hot when the run ends fails (<see cref="MonitorFailure.HotAtEnd"/>);
/// with a bound, one hot for longer than it fails at the first event past it (<see cref="MonitorFailure.HotTooLong"/>).
/// A failure is a finding like a violation (<see cref="MonitorFailed"/>, with the causal chain of the event that broke
/// the property or made the monitor hot); a monitor fails at most once a run and then watches no more.
/// </summary>
/// <remarks>
/// A monitor must be deterministic: the same events give the same verdicts (no wall clock, no randomness, no state
/// shared with another run). Register one with <c>RunSettings.Monitors</c> or the Testing API; each run gets a new
/// instance from its factory.
/// </remarks>
public abstract class IsolationMonitor : IMachineMonitor, IEndOfRunMonitor
{
    private readonly List<MachineEvent> _failures = [];
    private IEventHistory? _history;
    private HotState? _hot;
    private long _now;

    /// <summary>A monitor named <paramref name="name"/> (unique on a machine: findings are grouped by it).</summary>
    protected IsolationMonitor(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>The monitor's name.</summary>
    public string Name { get; }

    /// <summary>What kind of monitor it is, as findings name it: the class name unless overridden.</summary>
    public virtual string Kind => GetType().Name;

    /// <summary>Whether the monitor is in a hot state (something is owed).</summary>
    public bool IsHot => _hot is not null;

    /// <summary>Since when it has been hot (virtual ns); null when cold.</summary>
    public long? HotSinceNs => _hot?.Since;

    /// <summary>Whether it has failed in this run (it watches no more).</summary>
    public bool HasFailed { get; private set; }

    /// <summary>The history of the run: past events by id and their causal chains. Only valid inside <see cref="OnEvent"/>.</summary>
    protected IEventHistory History => _history ?? throw new InvalidOperationException("History is only available while the monitor observes an event");

    /// <inheritdoc />
    public IEnumerable<MachineEvent> Observe(MachineEvent e, IEventHistory history)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(history);
        if (HasFailed || e is ViolationDetected or LivenessViolated or DoubleReport or MonitorFailed)
        {
            // Findings are verdicts, not events of the machine: a monitor judges the machine, not other monitors.
            return [];
        }

        _history = history;
        _now = e.Time;
        try
        {
            OnEvent(e);
            CheckBound(e.Time, history);
        }
        finally
        {
            _history = null;
        }

        return Drain();
    }

    /// <inheritdoc />
    public IEnumerable<MachineEvent> Finish(long nowNs, IEventHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        Close(nowNs, history);
        return Drain();
    }

    /// <inheritdoc />
    public IEnumerable<MachineEvent> End(long nowNs, IEventHistory history)
    {
        ArgumentNullException.ThrowIfNull(history);
        Close(nowNs, history);
        if (!HasFailed && _hot is { } hot)
        {
            Raise(history, nowNs, hot.Cause, hot.Cpu, hot.Task, MonitorFailure.HotAtEnd, $"{hot.Owed}: still owed when the run ended ({nowNs - hot.Since} ns after it became owed)");
        }

        return Drain();
    }

    /// <summary>Sees one event of the run (findings of other monitors excluded), in order.</summary>
    protected abstract void OnEvent(MachineEvent e);

    /// <summary>
    /// The run stops at <paramref name="nowNs"/>, for now (the end of a run or of a soak's slice, a cut): what to check
    /// of the time that passed since the last event. <see cref="Fail"/> may be called; nothing by default.
    /// </summary>
    protected virtual void OnStop(long nowNs)
    {
    }

    /// <summary>
    /// Enters a hot state: <paramref name="owed"/> is owed from <paramref name="cause"/> on, until <see cref="Cold"/>.
    /// With <paramref name="boundNs"/>, the monitor fails at the first event more than that much later. Already hot, it
    /// stays hot from when it first became so.
    /// </summary>
    /// <param name="cause">The event that makes something owed (the failure's chain starts from it).</param>
    /// <param name="owed">What is owed, in words (<c>iso/101 back in user space within 20 us of prctl</c>).</param>
    /// <param name="boundNs">How long it may stay owed; null for "by the end of the run".</param>
    /// <param name="cpu">The CPU it is about (default: the cause's).</param>
    /// <param name="task">The task it is about, if any.</param>
    protected void Hot(MachineEvent cause, string owed, long? boundNs = null, int? cpu = null, TaskRef? task = null)
    {
        ArgumentNullException.ThrowIfNull(cause);
        ArgumentNullException.ThrowIfNull(owed);
        if (boundNs is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(boundNs), boundNs, "a bound is at least 0");
        }

        _hot ??= new HotState(cause, cause.Time, owed, boundNs, cpu ?? cause.Cpu, task);
    }

    /// <summary>Leaves the hot state: nothing is owed any more.</summary>
    protected void Cold() => _hot = null;

    /// <summary>Fails the monitor (a safety property broke at <paramref name="cause"/>) unless <paramref name="condition"/> holds.</summary>
    protected void Assert(bool condition, MachineEvent cause, string reason, int? cpu = null, TaskRef? task = null)
    {
        if (!condition)
        {
            Fail(cause, reason, cpu, task);
        }
    }

    /// <summary>Fails the monitor: a safety property broke at <paramref name="cause"/> (its chain is the finding's).</summary>
    protected void Fail(MachineEvent cause, string reason, int? cpu = null, TaskRef? task = null)
    {
        ArgumentNullException.ThrowIfNull(cause);
        ArgumentNullException.ThrowIfNull(reason);
        if (!HasFailed)
        {
            Raise(History, Math.Max(_now, cause.Time), cause, cpu ?? cause.Cpu, task, MonitorFailure.Assertion, reason);
        }
    }

    private void Close(long nowNs, IEventHistory history)
    {
        if (HasFailed)
        {
            return;
        }

        _history = history;
        _now = Math.Max(_now, nowNs);
        try
        {
            OnStop(nowNs);
            CheckBound(nowNs, history);
        }
        finally
        {
            _history = null;
        }
    }

    private void CheckBound(long now, IEventHistory history)
    {
        if (!HasFailed && _hot is { BoundNs: { } bound } hot && now - hot.Since > bound)
        {
            Raise(history, now, hot.Cause, hot.Cpu, hot.Task, MonitorFailure.HotTooLong, $"{hot.Owed}: still owed {now - hot.Since} ns after it became owed");
        }
    }

    private void Raise(IEventHistory history, long now, MachineEvent cause, int cpu, TaskRef? task, MonitorFailure failure, string reason)
    {
        HasFailed = true;
        _hot = null;
        _failures.Add(new MonitorFailed(history.NewId(), now, cpu, cause.Id, Name, Kind, failure, task, reason, history.ChainOf(cause)));
    }

    private MachineEvent[] Drain()
    {
        if (_failures.Count == 0)
        {
            return [];
        }

        var found = _failures.ToArray();
        _failures.Clear();
        return found;
    }

    /// <summary>What is owed, since when, and why.</summary>
    private sealed record HotState(MachineEvent Cause, long Since, string Owed, long? BoundNs, int Cpu, TaskRef? Task);
}
