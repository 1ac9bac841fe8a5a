using System.Collections.Immutable;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Isolation;

namespace TaskIsolation.Actors.Monitors;

/// <summary>A correctness property watching the event stream (in the manner of Coyote's monitors).</summary>
public interface IMachineMonitor
{
    /// <summary>Sees every event in order; returns the findings it raises (none, usually).</summary>
    IEnumerable<MachineEvent> Observe(MachineEvent e, IEventHistory history);

    /// <summary>At the end of a run (virtual time <paramref name="nowNs"/>): findings from hot states still held.</summary>
    IEnumerable<MachineEvent> Finish(long nowNs, IEventHistory history);
}

/// <summary>What a monitor may ask of the past: an event by id, and new ids.</summary>
public interface IEventHistory
{
    /// <summary>The event with <paramref name="id"/>, if still kept.</summary>
    MachineEvent? Find(long id);

    /// <summary>A fresh event id.</summary>
    long NewId();

    /// <summary>The causal chain of <paramref name="e"/>, root first.</summary>
    ImmutableArray<ChainLink> ChainOf(MachineEvent e);
}

/// <summary>Safety: no asynchronous interrupt reaches an isolated task in user mode (§7).</summary>
public sealed class ViolationMonitor : IMachineMonitor
{
    /// <inheritdoc />
    public IEnumerable<MachineEvent> Observe(MachineEvent e, IEventHistory history)
    {
        // The rule is the kernel's (IsolationViolation.IsViolation); the monitor only finds the task and the chain.
        // Not an iterator: it sees every event, and almost none is a finding.
        if (e is InterruptTaken { Current: { } task } t && IsolationViolation.IsViolation(t.State, t.Source))
        {
            return [new ViolationDetected(history.NewId(), t.Time, t.Cpu, t.Id, task, t.Source, history.ChainOf(t))];
        }

        return [];
    }

    /// <inheritdoc />
    public IEnumerable<MachineEvent> Finish(long nowNs, IEventHistory history) => [];
}

/// <summary>
/// Liveness: an isolated task that began returning to user space gets there within <see cref="BoundNs"/>. The hot
/// state is "returning"; it cools on <see cref="ReturnedToUser"/> or exit.
/// </summary>
public sealed class LivenessMonitor(long boundNs = 100_000_000) : IMachineMonitor
{
    private readonly Dictionary<int, (ReturnToUserBegan Began, bool Reported)> _hot = [];

    /// <summary>The bound, in nanoseconds of virtual time.</summary>
    public long BoundNs { get; } = boundNs;

    /// <inheritdoc />
    public IEnumerable<MachineEvent> Observe(MachineEvent e, IEventHistory history)
    {
        switch (e)
        {
            case ReturnToUserBegan b:
                _hot[b.Task.Pid] = (b, false);
                break;
            case ReturnedToUser r:
                _hot.Remove(r.Task.Pid);
                break;
            case TaskExited x:
                _hot.Remove(x.Task.Pid);
                break;
        }

        return Check(e.Time, history);
    }

    /// <inheritdoc />
    public IEnumerable<MachineEvent> Finish(long nowNs, IEventHistory history) => Check(nowNs, history);

    private IEnumerable<MachineEvent> Check(long now, IEventHistory history)
    {
        // Called for every event: allocate only when something is overdue (the common case is nothing hot at all).
        List<int>? overdue = null;
        foreach (var (pid, (began, reported)) in _hot)
        {
            if (!reported && now - began.Time > BoundNs)
            {
                (overdue ??= []).Add(pid);
            }
        }

        if (overdue is null)
        {
            return [];
        }

        var found = new List<MachineEvent>(overdue.Count);
        foreach (var pid in overdue)
        {
            var began = _hot[pid].Began;
            _hot[pid] = (began, true);
            found.Add(new LivenessViolated(history.NewId(), now, began.Cpu, began.Id, began.Task, began.Time, BoundNs));
        }

        return found;
    }
}
