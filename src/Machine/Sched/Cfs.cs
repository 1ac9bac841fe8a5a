namespace TaskIsolation.Machine.Sched;

/// <summary>The CFS decisions the model makes at the tick (<c>kernel/sched/fair.c</c>).</summary>
public static class Cfs
{
    /// <summary>
    /// <c>check_preempt_tick()</c>: the current task has had its slice while another task waits, so it is preempted at
    /// the next opportunity (<c>resched_curr()</c>). The model's slice is one fixed timing
    /// (<see cref="Kernel.ModelTimings.TimeSliceNs"/>) rather than <c>sched_slice()</c>'s share of the latency target:
    /// the tasks it schedules are equal-weight, and only whether a waiting task preempts matters to isolation.
    /// </summary>
    /// <param name="waiting">Other runnable tasks on the runqueue.</param>
    /// <param name="ranNs">How long the current task has run since it was switched in.</param>
    /// <param name="sliceNs">The slice.</param>
    public static bool SliceExpired(int waiting, long ranNs, long sliceNs) => waiting > 0 && ranNs >= sliceNs;
}
