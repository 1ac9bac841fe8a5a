namespace TaskIsolation.Machine.Kernel;

/// <summary>
/// Whether a return to user space goes through the exit work loop (<c>prepare_exit_to_usermode()</c> →
/// <c>exit_to_usermode_loop()</c> in <c>arch/x86/entry/common.c</c>), or goes straight back with the iret
/// (docs/model.md §6).
/// </summary>
public static class ExitToUser
{
    /// <summary>
    /// Whether any work flag is set: <c>TIF_NEED_RESCHED</c> (a reschedule was asked, or a kworker has work queued
    /// here), <c>TIF_SIGPENDING</c>, or the series' <c>TIF_TASK_ISOLATION</c>, which it adds to
    /// <c>EXIT_TO_USERMODE_LOOP_FLAGS</c> so that an isolated task always runs the loop and its readiness check.
    /// </summary>
    /// <param name="needResched">A reschedule was asked.</param>
    /// <param name="workQueued">Deferred work waits for this CPU's kworker (it needs a reschedule to run).</param>
    /// <param name="signalPending">The task has a signal pending.</param>
    /// <param name="tifTaskIsolation">The task has TIF_TASK_ISOLATION set.</param>
    public static bool HasWork(bool needResched, bool workQueued, bool signalPending, bool tifTaskIsolation) =>
        needResched || workQueued || signalPending || tifTaskIsolation;
}
