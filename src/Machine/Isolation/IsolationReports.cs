using TaskIsolation.Machine.Abi;

namespace TaskIsolation.Machine.Isolation;

/// <summary>
/// How often the kernel means to report one task's loss of isolation (docs/model.md §7, §9 R14): once per isolation.
/// <c>task_isolation_deliver_signal()</c> clears the flags as it reports, so that "nothing reports the task again"
/// until it enables isolation anew; a second report in between is the unlocked test-then-deliver of
/// <c>task_isolation_debug_task()</c> losing its race.
/// </summary>
public static class IsolationReports
{
    /// <summary>
    /// Whether a <c>prctl</c> that returned <paramref name="result"/> for <paramref name="option"/> and
    /// <paramref name="arg"/> starts a new isolation: <c>PR_SET_TASK_ISOLATION</c> (v16's <c>PR_TASK_ISOLATION</c>, the
    /// same number) with <c>ENABLE</c> that succeeded.
    /// </summary>
    public static bool StartsIsolation(int option, ulong arg, long result) =>
        option == PrctlOptions.SetTaskIsolation && result == 0 && new IsolationFlags((uint)arg).Enable;

    /// <summary>
    /// Whether a report of a lost isolation is one too many: the task was already reported
    /// (<paramref name="reportsSinceEnable"/> before this one) since it last enabled isolation.
    /// </summary>
    public static bool IsDoubleReport(int reportsSinceEnable) => reportsSinceEnable >= 1;
}
