namespace TaskIsolation.Machine.Mm;

/// <summary>One CPU's vmstat state: per-CPU counter diffs not yet folded, and whether <c>vmstat_update</c> is queued.</summary>
/// <param name="Diffs">Counters changed since the last fold.</param>
/// <param name="WorkPending">The (deferrable) <c>vmstat_update</c> work is queued.</param>
public readonly record struct VmstatState(bool Diffs, bool WorkPending)
{
    /// <summary><c>vmstat_idle()</c> as the series tests it: nothing pending and nothing to fold.</summary>
    public bool Idle => !WorkPending && !Diffs;
}

/// <summary>The 4.7 vmstat rules (<c>mm/vmstat.c</c>) the model's vmstat worker follows.</summary>
public static class Vmstat
{
    /// <summary>
    /// Counters changed on the CPU. Returns the new state and whether the deferrable work must be armed now (it was
    /// not pending: the next <c>vm.stat_interval</c> starts).
    /// </summary>
    public static (VmstatState State, bool ArmWork) Dirtied(VmstatState s) => (new VmstatState(true, true), !s.WorkPending);

    /// <summary><c>quiet_vmstat_sync()</c>: cancel the work and fold the diffs now.</summary>
    public static VmstatState QuietSync() => new(false, false);

    /// <summary>
    /// <c>vmstat_update()</c> ran: it folds the diffs and re-queues itself for another interval only when it found
    /// something to fold (<c>refresh_cpu_vm_stats()</c> returned non-zero).
    /// </summary>
    public static VmstatState UpdateRan(VmstatState s) => new(false, s.Diffs);

    /// <summary>
    /// <c>vmstat_shepherd()</c>: queue the worker on a CPU that <c>need_update()</c> and has no work pending; with the
    /// mainline mitigation (§9 R6) isolated CPUs are skipped.
    /// </summary>
    public static bool ShepherdQueues(VmstatState s, bool cpuIsIsolation, bool skipIsolated) =>
        s.Diffs && !s.WorkPending && !(skipIsolated && cpuIsIsolation);
}
