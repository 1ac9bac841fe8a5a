namespace TaskIsolation.Machine.Abi.Tick;

/// <summary>A CPU's runqueue counts by scheduling class, as <c>sched_can_stop_tick()</c> reads them.</summary>
/// <param name="Normal">Runnable CFS tasks (SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE).</param>
/// <param name="Fifo">Runnable SCHED_FIFO tasks.</param>
/// <param name="RoundRobin">Runnable SCHED_RR tasks (<c>rt.rr_nr_running</c>).</param>
/// <param name="Deadline">Runnable SCHED_DEADLINE tasks (<c>dl.dl_nr_running</c>).</param>
public readonly record struct RunqueueCounts(int Normal, int Fifo = 0, int RoundRobin = 0, int Deadline = 0)
{
    /// <summary><c>rq-&gt;nr_running</c>.</summary>
    public int NrRunning => Normal + Fifo + RoundRobin + Deadline;
}

/// <summary>What <c>sched_update_tick_dependency()</c> does to the CPU's <see cref="TickDep.Sched"/> bit.</summary>
public enum SchedDepUpdate
{
    /// <summary>Nothing: the CPU is not nohz_full.</summary>
    None,

    /// <summary>Set the bit (<c>tick_nohz_dep_set_cpu(cpu, TICK_DEP_BIT_SCHED)</c>), kicking the CPU if its mask was empty.</summary>
    Set,

    /// <summary>Clear the bit.</summary>
    Clear,
}

/// <summary>
/// The scheduler's side of the tick dependencies (<c>sched_can_stop_tick()</c> in <c>kernel/sched/core.c</c> and
/// <c>sched_update_tick_dependency()</c> in <c>kernel/sched/sched.h</c>), re-evaluated at every enqueue and dequeue.
/// </summary>
public static class SchedTick
{
    /// <summary>
    /// Whether the runqueue lets the tick stop: not with any deadline task; with round-robin tasks, only if there is
    /// exactly one; with FIFO tasks (and no round-robin), yes — FIFO never time-slices; otherwise only with at most
    /// one runnable task. The order of the checks is the one of the kernels of that era (deadline, round-robin,
    /// FIFO, count); it matters only when FIFO and several round-robin tasks are runnable together.
    /// </summary>
    public static bool CanStopTick(RunqueueCounts rq)
    {
        if (rq.Deadline > 0)
        {
            return false;
        }

        if (rq.RoundRobin > 0)
        {
            return rq.RoundRobin == 1;
        }

        if (rq.Fifo > 0)
        {
            return true;
        }

        return rq.NrRunning <= 1;
    }

    /// <summary>
    /// When a nohz_full CPU whose tick just stopped next takes one (<c>tick_nohz_stop_sched_tick()</c>): a busy CPU in
    /// 4.7 defers its tick by at most <c>scheduler_tick_max_deferment()</c>, one second, so it still takes a residual
    /// tick (§9 R4); with the residual tick offloaded to a housekeeping CPU (4.17 and later), or on an idle CPU, it
    /// takes none (<see cref="long.MaxValue"/>).
    /// </summary>
    /// <param name="busy">Whether a task runs on the CPU.</param>
    /// <param name="residualOneHz">Whether the 4.7 residual tick applies (a model switch).</param>
    /// <param name="nowNs">Now.</param>
    /// <param name="maxDefermentNs">The deferment: 4.7's one second unless the scenario's timings say otherwise.</param>
    public static long NextTickAfterStop(bool busy, bool residualOneHz, long nowNs, long maxDefermentNs = MaxDefermentNs) =>
        busy && residualOneHz ? nowNs + maxDefermentNs : long.MaxValue;

    /// <summary><c>scheduler_tick_max_deferment()</c> in 4.7: one second.</summary>
    public const long MaxDefermentNs = 1_000_000_000L;

    /// <summary>
    /// <c>sched_update_tick_dependency(rq)</c>: on a nohz_full CPU, set the SCHED bit when the runqueue needs the
    /// tick and clear it otherwise; elsewhere nothing.
    /// </summary>
    public static SchedDepUpdate Update(RunqueueCounts rq, bool cpuIsNohzFull) =>
        !cpuIsNohzFull ? SchedDepUpdate.None : CanStopTick(rq) ? SchedDepUpdate.Clear : SchedDepUpdate.Set;
}
