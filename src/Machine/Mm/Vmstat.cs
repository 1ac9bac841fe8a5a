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
    /// Counters changed on the CPU (<c>__mod_zone_page_state()</c> and friends): the per-CPU diffs are non-zero. As in
    /// 4.7 nothing is armed here: the work is queued by the shepherd (<see cref="QueueWork"/>) or re-queues itself
    /// (<see cref="UpdateRan"/>).
    /// </summary>
    public static VmstatState Dirtied(VmstatState s) => s with { Diffs = true };

    /// <summary><c>quiet_vmstat_sync()</c>: cancel the work and fold the diffs now.</summary>
    public static VmstatState QuietSync() => new(false, false);

    /// <summary>
    /// <c>vmstat_update()</c> ran: it folds the diffs and re-queues itself for another interval only when it found
    /// something to fold (<c>refresh_cpu_vm_stats()</c> returned non-zero).
    /// </summary>
    public static VmstatState UpdateRan(VmstatState s) => new(false, s.Diffs);

    /// <summary>
    /// <c>vmstat_shepherd()</c>'s test for one CPU, on what it read of that CPU's state (remotely, without a lock: by
    /// the time it queues, the CPU may have folded and cancelled, §9 R6): <c>need_update(cpu)</c> and no work pending;
    /// with the mainline mitigation isolated CPUs are skipped.
    /// </summary>
    public static bool ShepherdQueues(VmstatState seen, bool cpuIsIsolation, bool skipIsolated) =>
        seen.Diffs && !seen.WorkPending && !(skipIsolated && cpuIsIsolation);

    /// <summary>
    /// <c>queue_delayed_work_on(cpu, vmstat_wq, work, 0)</c> on the CPU's state as it is now: queued (and the CPU's
    /// kworker woken) unless the work is already pending (<c>test_and_set_bit(WORK_STRUCT_PENDING)</c>). It does not
    /// look at the diffs again.
    /// </summary>
    public static (VmstatState State, bool Queued) QueueWork(VmstatState s) =>
        s.WorkPending ? (s, false) : (s with { WorkPending = true }, true);
}
