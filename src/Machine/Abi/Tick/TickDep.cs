namespace TaskIsolation.Machine.Abi.Tick;

/// <summary>
/// The 4.7 tick dependency bits (<c>enum tick_dep_bits</c> / <c>TICK_DEP_MASK_*</c> in <c>include/linux/tick.h</c>):
/// while any is set in a scope that applies to a nohz_full CPU, that CPU's tick keeps running.
/// </summary>
[Flags]
public enum TickDep
{
    /// <summary><c>TICK_DEP_MASK_NONE</c>.</summary>
    None = 0,

    /// <summary><c>TICK_DEP_MASK_POSIX_TIMER</c>: an armed POSIX CPU timer.</summary>
    PosixTimer = 1 << 0,

    /// <summary><c>TICK_DEP_MASK_PERF_EVENTS</c>: a perf event that needs the tick (frequency mode, throttling).</summary>
    PerfEvents = 1 << 1,

    /// <summary><c>TICK_DEP_MASK_SCHED</c>: the runqueue needs preemption ticks (<see cref="SchedTick.CanStopTick"/>).</summary>
    Sched = 1 << 2,

    /// <summary><c>TICK_DEP_MASK_CLOCK_UNSTABLE</c>: the sched clock is unstable.</summary>
    ClockUnstable = 1 << 3,
}

/// <summary>Where a dependency bit is kept; each scope is its own atomic mask in the kernel.</summary>
public enum TickDepScope
{
    /// <summary>The global <c>tick_dep_mask</c>: applies to every CPU.</summary>
    Global,

    /// <summary>A CPU's <c>tick_sched.tick_dep_mask</c>.</summary>
    Cpu,

    /// <summary>A task's <c>task_struct.tick_dep_mask</c>: applies wherever the task is current.</summary>
    Task,

    /// <summary>A process's <c>signal_struct.tick_dep_mask</c>: applies wherever one of its threads is current.</summary>
    Process,
}
