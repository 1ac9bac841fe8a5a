namespace TaskIsolation.Machine.Abi.V13;

/// <summary>What keeps an isolated task from returning to user space (the conditions <c>task_isolation_ready()</c> tests).</summary>
[Flags]
public enum ReadinessBlockers
{
    /// <summary>Nothing: the task may return.</summary>
    None = 0,

    /// <summary>This CPU's LRU pagevecs are not empty (<c>lru_add_drain_needed(cpu)</c>).</summary>
    LruBatches = 1 << 0,

    /// <summary>The vmstat worker is queued on this CPU.</summary>
    VmstatWorkPending = 1 << 1,

    /// <summary>This CPU has vmstat counter diffs not yet folded.</summary>
    VmstatDiffs = 1 << 2,

    /// <summary>The scheduler tick still runs (<c>!tick_nohz_tick_stopped()</c>).</summary>
    TickRunning = 1 << 3,
}

/// <summary>The CPU state <c>task_isolation_ready()</c> reads, with interrupts disabled.</summary>
/// <param name="LruBatchesEmpty">This CPU's LRU batches are empty.</param>
/// <param name="VmstatWorkPending">The vmstat worker is pending on this CPU.</param>
/// <param name="VmstatHasDiffs">This CPU has unfolded vmstat diffs.</param>
/// <param name="TickStopped">The tick is stopped.</param>
public readonly record struct ReadinessSnapshot(bool LruBatchesEmpty, bool VmstatWorkPending, bool VmstatHasDiffs, bool TickStopped);

/// <summary>
/// What <c>task_isolation_enter()</c> does on one pass of the return-to-user loop, with interrupts enabled. The
/// first two always happen; the reschedule request only while the tick runs.
/// </summary>
/// <param name="DrainLru">Drain this CPU's LRU pagevecs (<c>lru_add_drain()</c>), so no later drain IPI is needed.</param>
/// <param name="QuietVmstatSync">Cancel the vmstat worker and fold this CPU's diffs now (<c>quiet_vmstat_sync()</c>).</param>
/// <param name="SetNeedResched">
/// Set need-resched on the task (<c>set_tsk_need_resched(current)</c>), so the loop calls <c>schedule()</c> and
/// another runnable task — whose presence may be what keeps the tick alive — gets to run.
/// </param>
public readonly record struct EnterActions(bool DrainLru, bool QuietVmstatSync, bool SetNeedResched);

/// <summary>
/// The v13 return-to-user rules (docs/model.md §6). While <c>TIF_TASK_ISOLATION</c> is set, every return to user space
/// loops: run <see cref="Enter"/> with interrupts on, then test <see cref="Ready(bool, bool, bool)"/> with them
/// off; not ready → round again (other pending work, such as <c>schedule()</c>, runs in the same loop).
/// </summary>
public static class ReturnToUserV13
{
    /// <summary>
    /// <c>vmstat_idle()</c> as the series adds it to <c>mm/vmstat.c</c>: no vmstat work pending on this CPU and no
    /// diffs to fold.
    /// </summary>
    public static bool VmstatIdle(bool workPending, bool hasDiffs) => !workPending && !hasDiffs;

    /// <summary>
    /// <c>task_isolation_ready()</c>: LRU batches empty, vmstat idle, and the tick stopped.
    /// </summary>
    public static bool Ready(bool lruBatchesEmpty, bool vmstatIdle, bool tickStopped) =>
        lruBatchesEmpty && vmstatIdle && tickStopped;

    /// <summary><c>task_isolation_ready()</c> over a snapshot.</summary>
    public static bool Ready(ReadinessSnapshot cpu) => Blockers(cpu) == ReadinessBlockers.None;

    /// <summary>Which of the ready conditions fail, so a stuck return (§9 R1) can say why.</summary>
    public static ReadinessBlockers Blockers(ReadinessSnapshot cpu)
    {
        var b = ReadinessBlockers.None;
        if (!cpu.LruBatchesEmpty)
        {
            b |= ReadinessBlockers.LruBatches;
        }

        if (cpu.VmstatWorkPending)
        {
            b |= ReadinessBlockers.VmstatWorkPending;
        }

        if (cpu.VmstatHasDiffs)
        {
            b |= ReadinessBlockers.VmstatDiffs;
        }

        if (!cpu.TickStopped)
        {
            b |= ReadinessBlockers.TickRunning;
        }

        return b;
    }

    /// <summary>
    /// <c>task_isolation_enter()</c>: drain the LRU, quiet vmstat synchronously, and request a reschedule if the
    /// tick still runs.
    /// </summary>
    public static EnterActions Enter(bool tickStopped) => new(DrainLru: true, QuietVmstatSync: true, SetNeedResched: !tickStopped);

    /// <summary>
    /// The model's <c>bounded_wait</c> switch (§9 R1's mitigation, not in v13 as posted): whether a return to user
    /// space that has waited <paramref name="waitedNs"/> for <see cref="Ready(bool, bool, bool)"/> gives up. A bound of
    /// 0 or less is v13's unbounded loop.
    /// </summary>
    public static bool WaitExpired(long waitedNs, long boundNs) => boundNs > 0 && waitedNs >= boundNs;

    /// <summary>
    /// What a bounded wait that expired does to the task when the return is <em>not</em> the enabling prctl's own (that
    /// one fails with <c>-EAGAIN</c> and stops isolation quietly, as v16's <c>task_isolation_start()</c> does): the task
    /// goes back to user space without isolation, and is told as for any lost isolation — the log line, the flags
    /// cleared, its signal (none in NOSIG mode, where only the line is printed). The reason names what kept
    /// <see cref="Ready(bool, bool, bool)"/> false, e.g. <c>return to user blocked by tick</c>.
    /// </summary>
    public static IsolationResponse GiveUp(TaskIdentity task, IsolationFlags flags, ReadinessBlockers blockers)
    {
        var reason = GiveUpReason(blockers);
        var sig = flags.NotificationSignal;
        return sig == Signal.None
            ? new IsolationResponse([new IsolationAction.Log(KernelLogLine.Lost(KernelEntryV13.LostMessage(task, reason), task, reason)), IsolationAction.ClearFlags.Instance])
            : KernelEntryV13.DeliverSignal(task, reason, sig);
    }

    /// <summary><c>return to user blocked by tick, vmstat</c>: the blockers in the order <see cref="Blockers"/> lists them.</summary>
    public static string GiveUpReason(ReadinessBlockers blockers)
    {
        var names = new List<string>(4);
        if (blockers.HasFlag(ReadinessBlockers.TickRunning))
        {
            names.Add("tick");
        }

        if ((blockers & (ReadinessBlockers.VmstatDiffs | ReadinessBlockers.VmstatWorkPending)) != 0)
        {
            names.Add("vmstat");
        }

        if (blockers.HasFlag(ReadinessBlockers.LruBatches))
        {
            names.Add("lru");
        }

        return "return to user blocked by " + (names.Count == 0 ? "nothing" : string.Join(", ", names));
    }
}
