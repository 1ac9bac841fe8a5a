using System.Collections.Immutable;
using TaskIsolation.Machine.Abi;
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
/// Reporting: the kernel reports a task's loss of isolation once per isolation (docs/model.md §7, §9 R14). A second
/// <c>lost due to</c> line for a task that has not enabled isolation again since the first is a
/// <see cref="DoubleReport"/>: two CPUs both tested the flags before either cleared them
/// (<c>task_isolation_debug_task()</c>). The rule is <see cref="IsolationReports"/>; the monitor follows the typed
/// <see cref="KernelLogLine.Loss"/> of each log line and the <c>prctl</c>s that enable isolation, and where each task runs.
/// </summary>
public sealed class ReportMonitor : IMachineMonitor
{
    private readonly Dictionary<int, Reported> _reported = [];
    private readonly Dictionary<int, int> _cpuOf = [];

    /// <inheritdoc />
    public IEnumerable<MachineEvent> Observe(MachineEvent e, IEventHistory history)
    {
        switch (e)
        {
            case TaskCreated c:
                _cpuOf[c.Task.Pid] = c.Cpu;
                break;
            case ContextSwitched { Next: { } next } sw:
                _cpuOf[next.Pid] = sw.Cpu;
                break;
            case TaskMigrated m:
                _cpuOf[m.Task.Pid] = m.ToCpu;
                break;
            case PrctlReturned p when IsolationReports.StartsIsolation(p.Option, p.Arg, p.Result):
                _reported.Remove(p.Task.Pid);
                break;
            case KernelLogged { Line.Loss: { } loss } k:
                var pid = loss.Task.Pid;
                if (_reported.TryGetValue(pid, out var first) && IsolationReports.IsDoubleReport(first.Count))
                {
                    _reported[pid] = first with { Count = first.Count + 1 };
                    var cpu = _cpuOf.TryGetValue(pid, out var c) ? c : k.Cpu;
                    return [new DoubleReport(history.NewId(), k.Time, cpu, k.Id, new TaskRef(pid, loss.Task.Comm), first.Id, first.Cpu, k.Cpu, history.ChainOf(k))];
                }

                _reported[pid] = new Reported(k.Id, k.Cpu, 1);
                break;
        }

        return [];
    }

    /// <inheritdoc />
    public IEnumerable<MachineEvent> Finish(long nowNs, IEventHistory history) => [];

    /// <summary>The first report of a task's current loss of isolation: its log line, where it was printed, how many since.</summary>
    private readonly record struct Reported(long Id, int Cpu, int Count);
}

/// <summary>
/// Liveness (docs/model.md §7): nothing may stop a task silently. A task owes a return to user space from the moment it
/// enters the kernel — a syscall or exception (its program step other than <c>compute</c>), an interrupt or a switch
/// away while it ran in user mode, or its creation — until it is back (<see cref="ReturnedToUser"/>, or its next program
/// step, which it asks for in user mode) or exits. Time spent asleep while the wake-up is still to come does not count:
/// a <c>nanosleep</c> until its hrtimer fires, a <c>wait4</c> while no child has exited since it began to wait; from the
/// wake-up on, the clock runs again. Past <see cref="BoundNs"/> the task is stuck, whatever it is doing: looping in the
/// kernel, runnable and never scheduled, or woken and never run. An isolated task's return-to-user loop (§9 R1) counts
/// from <see cref="ReturnToUserBegan"/>. Only tasks seen created are watched (not the idle task, not kworkers).
/// </summary>
public sealed class LivenessMonitor(long boundNs = 100_000_000) : IMachineMonitor
{
    private static readonly MachineEvent[] s_none = [];
    private readonly Dictionary<int, TaskProgress> _tasks = [];

    // Every time a task starts to owe a return (its Since), the moment it would be overdue. Check runs for every event
    // of the run, so it must not walk every task each time (a 10,000-task machine made that the whole cost of a run):
    // it only looks at the tasks when one of these deadlines has passed and still stands. Stale entries (the task has
    // since returned, slept, been reported or owes from a later time) are dropped as they come up. A deadline is its
    // event's time plus the one bound, and events come in time order, so deadlines nearly always come in order: those
    // queue first in, first out (a busy CPU's every tick makes its task owe, so hundreds are queued at a time, and a
    // heap made each one cost a sift); one earlier than the last queued goes to a heap beside it. Either way every call
    // takes out exactly the entries whose deadline has passed.
    private readonly Queue<(TaskProgress Task, long Since, long Deadline)> _inOrder = new();
    private readonly PriorityQueue<(TaskProgress Task, long Since), long> _deadlines = new();
    private long _lastDeadline = long.MinValue;

    // The task whose current step an event id belongs to (the ids in each TaskProgress.OpIds), so that a nanosleep's
    // timer finds its sleeper without walking every task: thousands of sleeping daemons each wake once a second.
    private readonly Dictionary<long, TaskProgress> _byOpId = [];

    /// <summary>The bound, in nanoseconds of virtual time.</summary>
    public long BoundNs { get; } = boundNs;

    /// <inheritdoc />
    public IEnumerable<MachineEvent> Observe(MachineEvent e, IEventHistory history)
    {
        switch (e)
        {
            case TaskCreated c:
                var created = new TaskProgress(c.Task, c.ParentPid, c.Cpu);
                _tasks[c.Task.Pid] = created;
                Owe(created, c.Time, c.Id);
                if (_tasks.TryGetValue(c.ParentPid, out var parent))
                {
                    parent.LiveChildren++;
                }

                break;
            case TaskExited x:
                if (_tasks.TryGetValue(x.Task.Pid, out var exiting))
                {
                    ForgetOpIds(exiting);
                }

                if (_tasks.Remove(x.Task.Pid, out var gone) && _tasks.TryGetValue(gone.ParentPid, out var waiter))
                {
                    waiter.LiveChildren--;
                    if (waiter.Asleep && waiter.Step == OperationKind.Wait)
                    {
                        // The child's exit wakes the parent's wait4: from here it must run and return.
                        Wake(waiter, x.Time, x.Id);
                    }
                }

                break;
            case OperationStarted o when _tasks.TryGetValue(o.Task.Pid, out var t):
                // A program step starts in user mode: the task is back, and a step other than compute enters the kernel.
                t.Cpu = o.Cpu;
                t.Step = o.Step.Kind;
                ForgetOpIds(t);
                t.OpIds.Add(o.Id);
                _byOpId[o.Id] = t;
                t.Slept = false;
                t.Asleep = false;
                t.Clear();
                if (o.Step.Kind != OperationKind.Compute)
                {
                    Owe(t, o.Time, o.Id);
                }

                break;
            case SyscallEntered sc when _tasks.TryGetValue(sc.Task.Pid, out var t):
                t.OpIds.Add(sc.Id);
                _byOpId[sc.Id] = t;
                break;
            case InterruptTaken it:
                if (it.Source is TimerExpiry { Timer: TimerKind.Nanosleep })
                {
                    if (_byOpId.TryGetValue(it.Cause, out var sleeper) && sleeper.Asleep && sleeper.Step == OperationKind.Sleep)
                    {
                        Wake(sleeper, it.Time, it.Id);
                    }
                }

                if (it.Current is { } current && _tasks.TryGetValue(current.Pid, out var interrupted) && !interrupted.Owed)
                {
                    Owe(interrupted, it.Time, it.Id);
                }

                break;
            case ContextSwitched sw:
                if (sw.Prev is { } prev && _tasks.TryGetValue(prev.Pid, out var outgoing))
                {
                    outgoing.Running = false;
                    if (outgoing.Owed && !outgoing.Slept && outgoing.Step is OperationKind.Sleep or OperationKind.Wait)
                    {
                        // The first switch away in a nanosleep or wait4 is the sleep; a later one is a preemption.
                        outgoing.Slept = true;
                        outgoing.Asleep = !(outgoing.Step == OperationKind.Wait && outgoing.LiveChildren <= 0);
                    }
                    else if (!outgoing.Owed)
                    {
                        Owe(outgoing, sw.Time, sw.Id);
                    }
                }

                if (sw.Next is { } next && _tasks.TryGetValue(next.Pid, out var incoming))
                {
                    incoming.Running = true;
                    incoming.Cpu = sw.Cpu;
                    if (incoming.Asleep)
                    {
                        // Woken by something the monitor does not follow (a signal): the clock starts now.
                        Wake(incoming, sw.Time, sw.Id);
                    }
                }

                break;
            case TaskMigrated m when _tasks.TryGetValue(m.Task.Pid, out var t):
                t.Cpu = m.ToCpu;
                break;
            case ReturnToUserBegan b when _tasks.TryGetValue(b.Task.Pid, out var t):
                // as before: an isolated task's return loop counts from its start (§9 R1).
                if (!t.Returning)
                {
                    Owe(t, b.Time, b.Id);
                    t.Returning = true;
                }

                break;
            case ReturnedToUser r when _tasks.TryGetValue(r.Task.Pid, out var t):
                t.Cpu = r.Cpu;
                t.Clear();
                break;
        }

        return Check(e.Time, history);
    }

    /// <inheritdoc />
    public IEnumerable<MachineEvent> Finish(long nowNs, IEventHistory history) => Check(nowNs, history);

    private void ForgetOpIds(TaskProgress t)
    {
        foreach (var id in t.OpIds)
        {
            _byOpId.Remove(id);
        }

        t.OpIds.Clear();
    }

    private void Owe(TaskProgress t, long time, long cause)
    {
        t.Owe(time, cause);
        var deadline = time + BoundNs;
        if (deadline >= _lastDeadline)
        {
            _inOrder.Enqueue((t, time, deadline));
            _lastDeadline = deadline;
        }
        else
        {
            _deadlines.Enqueue((t, time), deadline);
        }
    }

    private void Wake(TaskProgress t, long time, long cause)
    {
        t.Asleep = false;
        Owe(t, time, cause);
    }

    /// <summary>Whether a deadline has passed for a task that still owes its return from that time, awake and unreported.</summary>
    private bool AnyOverdue(long now)
    {
        var due = false;
        while (_inOrder.TryPeek(out var next) && next.Deadline < now)
        {
            _inOrder.Dequeue();
            due |= Stands(next.Task, next.Since);
        }

        while (_deadlines.TryPeek(out var entry, out var deadline) && deadline < now)
        {
            _deadlines.Dequeue();
            due |= Stands(entry.Task, entry.Since);
        }

        return due;
    }

    /// <summary>Whether <paramref name="t"/> still owes its return from <paramref name="since"/>, awake and unreported.</summary>
    private bool Stands(TaskProgress t, long since) =>
        t.Owed && !t.Asleep && !t.Reported && t.Since == since
        && _tasks.TryGetValue(t.Task.Pid, out var current) && ReferenceEquals(current, t);

    private IEnumerable<MachineEvent> Check(long now, IEventHistory history)
    {
        // Called for every event: nothing to do unless a deadline has passed (the common case), and then the same walk
        // over the tasks as ever, so the findings and their order do not depend on the queue.
        if (!AnyOverdue(now))
        {
            return s_none;
        }

        List<MachineEvent>? found = null;
        foreach (var t in _tasks.Values)
        {
            if (t.Owed && !t.Asleep && !t.Reported && now - t.Since > BoundNs)
            {
                t.Reported = true;
                var waiting = t.Returning ? LivenessWait.ReturningToUser : t.Running ? LivenessWait.InKernel : LivenessWait.Runnable;
                (found ??= []).Add(new LivenessViolated(history.NewId(), now, t.Cpu, t.SinceCause, t.Task, t.Since, BoundNs) { Waiting = waiting });
            }
        }

        return found ?? (IEnumerable<MachineEvent>)s_none;
    }

    /// <summary>One task as the monitor follows it.</summary>
    private sealed class TaskProgress(TaskRef task, int parentPid, int cpu)
    {
        public TaskRef Task { get; } = task;

        public int ParentPid { get; } = parentPid;

        public int Cpu { get; set; } = cpu;

        /// <summary>Children created and not yet exited (what a <c>wait4</c> can wait for).</summary>
        public int LiveChildren { get; set; }

        /// <summary>The program step under way, and the ids of its events (its wake timer is caused by one).</summary>
        public OperationKind Step { get; set; } = OperationKind.Compute;

        public HashSet<long> OpIds { get; } = [];

        /// <summary>Current on a CPU.</summary>
        public bool Running { get; set; }

        /// <summary>Owes a return to user space since <see cref="Since"/> (caused by <see cref="SinceCause"/>).</summary>
        public bool Owed { get; set; }

        public long Since { get; set; }

        public long SinceCause { get; set; }

        /// <summary>In an isolated return-to-user loop.</summary>
        public bool Returning { get; set; }

        /// <summary>Went to sleep in this step; <see cref="Asleep"/> while its wake-up is still to come.</summary>
        public bool Slept { get; set; }

        public bool Asleep { get; set; }

        public bool Reported { get; set; }

        public void Owe(long time, long cause)
        {
            Owed = true;
            Since = time;
            SinceCause = cause;
            Reported = false;
        }

        public void Clear()
        {
            Owed = false;
            Returning = false;
            Reported = false;
        }
    }
}
