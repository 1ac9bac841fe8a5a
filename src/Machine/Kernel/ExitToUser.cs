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

    /// <summary>
    /// Whether the exit loop's final check (<c>exit_to_usermode_loop()</c>'s re-read of the work flags with interrupts
    /// off, in <c>prepare_exit_to_usermode()</c>) is already decided when the pass before it starts: no work flag is set
    /// (<see cref="HasWork"/>), the task has no isolation flags at all (so no <c>task_isolation_ready()</c>, no remote
    /// clear of them to take in), and no enabling <c>prctl()</c> waits for its return. Then the check reads only flags
    /// that nothing but an interrupt or a message to this CPU can set, and it writes nothing another CPU can tell
    /// apart: context tracking moves between two kernel states (remote CPUs only ask "in user mode or not", as
    /// <c>task_isolation_remote()</c> does), and the interrupt flag is this CPU's own. Unless something reaches the CPU
    /// before the check, it goes on to the <c>iret</c>, so the two steps can be timed as one whose boundary is only
    /// delivered when something else happens at its instant.
    /// </summary>
    /// <param name="needResched">A reschedule was asked.</param>
    /// <param name="workQueued">Deferred work waits for this CPU's kworker.</param>
    /// <param name="signalPending">The task has a signal pending.</param>
    /// <param name="isolationFlags">The task's isolation flags word.</param>
    /// <param name="prctlInFlight">An enabling <c>prctl()</c> of the task returns at this check.</param>
    public static bool CheckFindsNothing(bool needResched, bool workQueued, bool signalPending, uint isolationFlags, bool prctlInFlight) =>
        !HasWork(needResched, workQueued, signalPending, (isolationFlags & 1u) != 0) && isolationFlags == 0 && !prctlInFlight;
}
