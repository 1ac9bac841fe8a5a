using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.V13;
using TaskIsolation.Machine.Programs;

namespace TaskIsolation.Machine.Kernel;

/// <summary>What delivering a signal does with the task (the action <c>get_signal()</c> picks).</summary>
public enum SignalDisposition
{
    /// <summary>A user handler is installed: the task runs it, then <c>rt_sigreturn</c> restores what it interrupted.</summary>
    Handler,

    /// <summary>The default action is to ignore the signal (<see cref="SignalDefaults.Ignores"/>).</summary>
    Ignore,

    /// <summary>The default action kills the task.</summary>
    Terminate,
}

/// <summary>
/// Signal delivery on the way back to user space, as <c>get_signal()</c> (<c>kernel/signal.c</c>) with the task-isolation
/// series' hook, and the frame <c>rt_sigreturn</c> pops (docs/model.md §7).
/// </summary>
public static class SignalDelivery
{
    /// <summary>
    /// <c>get_signal()</c> dequeues the first pending signal and, with the series, calls
    /// <c>task_isolation_set_flags(current, 0)</c> before anything else: whatever the signal does, the task is no longer
    /// isolated, and a handler that wants isolation back must ask again.
    /// </summary>
    /// <param name="task">The task, with at least one signal pending.</param>
    /// <returns>The task without that signal and with its isolation flags cleared, and the signal.</returns>
    /// <exception cref="InvalidOperationException">No signal is pending.</exception>
    public static (TaskStruct Task, PendingSignal Signal) Dequeue(TaskStruct task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.PendingSignals.IsEmpty)
        {
            throw new InvalidOperationException($"{task.Comm}/{task.Pid} has no pending signal");
        }

        var signal = task.PendingSignals[0];
        return (task with { PendingSignals = task.PendingSignals.RemoveAt(0), IsolationFlags = KernelEntryV13.FlagsAfterSignalDelivery.Word }, signal);
    }

    /// <summary>
    /// The action for <paramref name="signal"/>: its handler if the task installed one (SIGKILL and SIGSTOP cannot be
    /// caught), else the default action.
    /// </summary>
    public static SignalDisposition Disposition(TaskStruct task, int signal)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.CaughtSignals.Contains(signal) && signal is not (Signal.SIGKILL or Signal.SIGSTOP))
        {
            return SignalDisposition.Handler;
        }

        return SignalDefaults.Ignores(signal) ? SignalDisposition.Ignore : SignalDisposition.Terminate;
    }

    /// <summary>
    /// <c>send_sig_info()</c>: whether sending <paramref name="signal"/> generates anything. It returns <c>-EINVAL</c>
    /// for a number that is not <c>valid_signal()</c> (above 64) before anything is queued or traced, so nothing
    /// arrives; the task-isolation series never validates <c>SET_SIG(n)</c>, so <c>n</c> in 65–127 gets here
    /// (docs/model.md §6). 0 generates nothing either.
    /// </summary>
    public static bool Generates(int signal) => signal != Signal.None && Signal.IsValid(signal);

    /// <summary>
    /// <c>prepare_signal()</c> → <c>sig_ignored()</c> in <c>__send_signal()</c>: a signal whose action is the default
    /// and whose default is to ignore it (<see cref="SignalDefaults.Ignores"/>) is discarded when it is sent. It is
    /// never pending, so <c>complete_signal()</c> wakes nobody (no reschedule IPI reaches the task) and
    /// <c>get_signal()</c> never dequeues it: the series' <c>task_isolation_set_flags(current, 0)</c> there does not
    /// run, and an isolated task keeps its isolation. The kernel's exceptions are a blocked signal (queued, since the
    /// handler may change before it is unblocked) and a traced task; the model has neither signal masks nor ptrace.
    /// SIGKILL and SIGSTOP are never ignored.
    /// </summary>
    /// <param name="caught">Whether the target has a handler for <paramref name="signal"/> (its <c>sighand</c>).</param>
    /// <param name="signal">The signal sent, 1–64.</param>
    public static bool DiscardedWhenSent(bool caught, int signal) =>
        !caught && signal is not (Signal.SIGKILL or Signal.SIGSTOP) && SignalDefaults.Ignores(signal);

    /// <summary>
    /// <c>__send_signal()</c> → <c>legacy_queue()</c>: mark <paramref name="signal"/> pending on <paramref name="task"/>.
    /// A standard signal (below <see cref="Signal.RtMin"/>) that is already pending is not queued a second time: the
    /// second send merges into the first (<c>TRACE_SIGNAL_ALREADY_PENDING</c>), so two senders of one SIGKILL, or of one
    /// <c>SET_SIG(SIGUSR1)</c> notification, still make one delivery (docs/model.md §9 R14). A real-time signal is
    /// queued every time. Once the first has been delivered, a second send of the same signal is pending again.
    /// </summary>
    /// <returns>The task with the signal pending, and whether it was queued (false: merged into the pending one).</returns>
    public static (TaskStruct Task, bool Queued) Pend(TaskStruct task, PendingSignal signal)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (signal.Signal < Signal.RtMin)
        {
            foreach (var p in task.PendingSignals)
            {
                if (p.Signal == signal.Signal)
                {
                    return (task, false);
                }
            }
        }

        return (task with { PendingSignals = task.PendingSignals.Add(signal) }, true);
    }

    /// <summary>
    /// A syscall that the isolation check skipped (<c>task_isolation_syscall()</c> →
    /// <c>syscall_set_return_value(current, regs, -ERESTARTNOINTR, -1)</c>): its result is <c>-ERESTARTNOINTR</c>, and
    /// <paramref name="op"/> is kept for the restart that a handler's delivery sets up (<see cref="EnterHandler"/>).
    /// If no signal is pending on the way out, <c>do_signal()</c> does not run and the program sees the error itself
    /// (<see cref="BackInUser"/>); a default-ignored signal counts as none, since <c>send_signal()</c> discards it
    /// (<c>sig_ignored()</c>) before it is ever pending.
    /// </summary>
    public static TaskStruct SkipSyscall(TaskStruct task, Operation op)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(op);
        return task with { Resume = ResumeKind.Result, PendingResult = -Errno.ERESTARTNOINTR, RestartOp = op };
    }

    /// <summary>
    /// <c>handle_signal()</c> → <c>setup_rt_frame()</c>: save what the handler interrupts, and resume in the handler.
    /// A syscall that returned <c>-ERESTARTNOINTR</c> (<see cref="SkipSyscall"/>) is set up to restart first
    /// (<c>regs-&gt;ax = regs-&gt;orig_ax; regs-&gt;ip -= 2</c>, on every arch the same in effect), so the saved frame
    /// resumes at the syscall instruction: after <c>rt_sigreturn</c> the syscall runs again.
    /// </summary>
    public static TaskStruct EnterHandler(TaskStruct task, int signal)
    {
        ArgumentNullException.ThrowIfNull(task);
        var resume = task.RestartOp is not null ? ResumeKind.Restart : task.Resume;
        return task with
        {
            Frames = task.Frames.Push(new SignalFrame(resume, task.UserRemainingNs, task.PendingResult, task.RestartOp)),
            Resume = ResumeKind.Handler,
            HandlerSignal = signal,
            RestartOp = null,
        };
    }

    /// <summary>
    /// The task takes its next step in user mode: a restart not set up by then (no signal was pending, so
    /// <c>do_signal()</c> never ran) is gone, and the program has seen <c>-ERESTARTNOINTR</c>.
    /// </summary>
    public static TaskStruct BackInUser(TaskStruct task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.RestartOp is null ? task : task with { RestartOp = null };
    }

    /// <summary>
    /// <c>rt_sigreturn</c>: restore the innermost frame. A handler that interrupted the wait for the program's next step
    /// (or another handler) returns a result instead. Null when there is no frame: the kernel then kills the task with
    /// SIGSEGV ("bad frame").
    /// </summary>
    public static TaskStruct? Sigreturn(TaskStruct task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.Frames.IsEmpty)
        {
            return null;
        }

        var f = task.Frames.Peek();
        return task with
        {
            Frames = task.Frames.Pop(),
            Resume = f.Resume is ResumeKind.AwaitingOp or ResumeKind.Handler ? ResumeKind.Result : f.Resume,
            UserRemainingNs = f.UserRemainingNs,
            PendingResult = f.PendingResult,
            RestartOp = f.RestartOp,
        };
    }
}
