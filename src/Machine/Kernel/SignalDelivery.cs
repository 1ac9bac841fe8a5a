using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.V13;

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
    /// <c>handle_signal()</c> → <c>setup_rt_frame()</c>: save what the handler interrupts (where the task was going to
    /// resume, and the step to restart after a -ERESTARTNOINTR), and resume in the handler.
    /// </summary>
    public static TaskStruct EnterHandler(TaskStruct task, int signal)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task with
        {
            Frames = task.Frames.Push(new SignalFrame(task.Resume, task.UserRemainingNs, task.PendingResult, task.RestartOp)),
            Resume = ResumeKind.Handler,
            HandlerSignal = signal,
        };
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
