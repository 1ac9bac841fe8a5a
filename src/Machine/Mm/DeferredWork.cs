namespace TaskIsolation.Machine.Mm;

/// <summary>
/// Deferred work (a per-CPU work item queued from another CPU, e.g. <c>lru_add_drain_all()</c>'s drain) and the
/// "no new deferred work" flag of §9 R7's mitigation. The protocol: the isolated CPU raises the flag at
/// <c>task_isolation_enter()</c>, before it drains its own batches; a remote queuer counts its item on the target first
/// and then looks at the flag, taking the item back if it is up; <c>task_isolation_ready()</c> also requires that no
/// item queued before the flag went up is still on its way. Either the queuer sees the flag or the isolated CPU sees the
/// item (both steps are full barriers), so no deferred work lands after ready. v13 has neither the flag nor the check.
/// </summary>
public static class DeferredWork
{
    /// <summary>
    /// <c>lru_add_drain_all()</c>'s decision for one CPU, on what it read remotely and without a lock: queue the drain
    /// when its LRU batches look non-empty, unless the mitigation is on and the CPU refuses new deferred work.
    /// </summary>
    /// <param name="batchesNonEmpty">What the queuer read of the CPU's pagevec counts.</param>
    /// <param name="refusesNewWork">Whether the CPU's "no new deferred work" flag is up (read after counting the item).</param>
    /// <param name="mitigation">Whether the mitigation is on.</param>
    /// <returns>Whether the drain is queued there.</returns>
    public static bool DrainQueues(bool batchesNonEmpty, bool refusesNewWork, bool mitigation) =>
        batchesNonEmpty && !(mitigation && refusesNewWork);

    /// <summary>
    /// <c>task_isolation_ready()</c> with the mitigation's extra condition: deferred work queued here before the flag
    /// went up has run (the loop goes round and runs it in the kernel instead of taking it in user space).
    /// </summary>
    /// <param name="ready">The v13 readiness (LRU empty, vmstat idle, tick stopped).</param>
    /// <param name="queuedWork">Deferred work items queued to this CPU and not yet run.</param>
    /// <param name="mitigation">Whether the mitigation is on.</param>
    /// <returns>Whether the CPU may return to user space.</returns>
    public static bool Ready(bool ready, int queuedWork, bool mitigation) => ready && (!mitigation || queuedWork == 0);
}
