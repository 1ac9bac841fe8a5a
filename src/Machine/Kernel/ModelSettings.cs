using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Machine.Kernel;

/// <summary>How the residual tick of a busy nohz_full CPU behaves (docs/model.md §5; a model switch, not a kernel setting).</summary>
public enum ResidualTick
{
    /// <summary>4.7: a non-idle nohz_full CPU still takes a tick at least once a second (§9 R4).</summary>
    OneHz,

    /// <summary>4.17 and later: a housekeeping CPU does that work remotely; the isolated CPU takes none.</summary>
    Offloaded,
}

/// <summary>
/// The model's own switches: behaviours of later kernels or proposed fixes that the races of §9 are judged against.
/// All off is v13 as posted.
/// </summary>
public sealed record ModelSwitches
{
    /// <summary>Residual tick behaviour.</summary>
    public ResidualTick ResidualTick { get; init; } = ResidualTick.OneHz;

    /// <summary>R6 (mainline): the vmstat shepherd does not queue work on task-isolation CPUs.</summary>
    public bool ShepherdSkipsIsolated { get; init; }

    /// <summary>
    /// R7: a "no new deferred work" flag, raised by the isolated CPU's exit path before it drains its own batches;
    /// <c>lru_add_drain_all()</c> skips a CPU with the flag up, and <c>task_isolation_ready()</c> waits for drain work
    /// queued before it went up (<see cref="TaskIsolation.Machine.Mm.DeferredWork"/>).
    /// </summary>
    public bool NoNewDeferredWork { get; init; }

    /// <summary>R3 (later kernels): a per-task or per-process tick dependency kicks only the CPUs running that task.</summary>
    public bool TargetedTickDepKick { get; init; }

    /// <summary>R9 (proposed): TLB flushes for an isolated CPU in user space are deferred to its next kernel entry.</summary>
    public bool DeferredTlbFlush { get; init; }

    /// <summary>R5 (patch 10): tile's clockevent gets a oneshot-stopped state, so a stopped tick fires no stale timer.</summary>
    public bool TileOneshotStoppedFix { get; init; }

    /// <summary>
    /// R1: v13's return-to-user loop waits at most this long (nanoseconds) for <c>task_isolation_ready()</c>, then
    /// gives up: the enabling prctl fails with <c>-EAGAIN</c> as in v16, any other return drops isolation with the usual
    /// log line and signal. 0: wait forever, as v13 was posted.
    /// </summary>
    public long BoundedWaitNs { get; init; }
}

/// <summary>
/// Simulated costs of kernel paths, in nanoseconds. They set the width of every racy window, so they are part of the
/// model, not of the host; the defaults are of the order a 2016 x86 server shows.
/// </summary>
public sealed record ModelTimings
{
    /// <summary>Base latency of an IPI from sender to receiver.</summary>
    public long IpiLatencyNs { get; init; } = 1_000;

    /// <summary>Jitter added to each IPI: one of <see cref="IpiJitterSteps"/> equal steps up to this much.</summary>
    public long IpiJitterNs { get; init; } = 1_000;

    /// <summary>Number of distinct jitter values (1: none). Each is a choice the exploration can make.</summary>
    public int IpiJitterSteps { get; init; } = 4;

    /// <summary>Local timer (tick) handler.</summary>
    public long TickHandlerNs { get; init; } = 1_500;

    /// <summary>An IPI handler (reschedule, irq_work, call function).</summary>
    public long IpiHandlerNs { get; init; } = 800;

    /// <summary>A device interrupt handler.</summary>
    public long DeviceIrqHandlerNs { get; init; } = 3_000;

    /// <summary>An NMI handler.</summary>
    public long NmiHandlerNs { get; init; } = 1_000;

    /// <summary>Syscall entry to its work.</summary>
    public long SyscallEntryNs { get; init; } = 150;

    /// <summary>A page fault that maps a page cache page.</summary>
    public long PageFaultNs { get; init; } = 1_500;

    /// <summary>One pass of the exit-to-user loop's work part, including <c>task_isolation_enter()</c>.</summary>
    public long ReturnEnterNs { get; init; } = 2_000;

    /// <summary>tile's unaligned-access fixup in the kernel (the trap and the JIT-compiled replacement).</summary>
    public long UnalignedFixupNs { get; init; } = 2_500;

    /// <summary>A misaligned access handled by the hardware (x86_64, arm64): user time, no trap.</summary>
    public long UnalignedHardwareNs { get; init; } = 5;

    /// <summary>The interrupts-off part: <c>task_isolation_ready()</c> and the flag re-check.</summary>
    public long ReturnReadyNs { get; init; } = 200;

    /// <summary>From the last check to user mode (the iret).</summary>
    public long ReturnToUserNs { get; init; } = 150;

    /// <summary>A context switch.</summary>
    public long ContextSwitchNs { get; init; } = 2_000;

    /// <summary><c>vmstat_update</c> in a kworker.</summary>
    public long VmstatWorkNs { get; init; } = 4_000;

    /// <summary><c>lru_add_drain_per_cpu</c> in a kworker.</summary>
    public long LruDrainWorkNs { get; init; } = 3_000;

    /// <summary>A local TLB flush.</summary>
    public long TlbFlushNs { get; init; } = 500;

    /// <summary>
    /// What an interrupt of <paramref name="kind"/> costs the CPU that takes it, from entry to <c>irq_exit()</c>: the
    /// one table the CPU charges (<c>CpuActor</c>) and the reports measure noise with (<c>NoiseAccountant</c>, the
    /// trace writers), so a timing changed in a scenario changes both. A call-function IPI
    /// (<c>flush_tlb_func</c> via <c>smp_call_function_many</c>) also flushes the TLB; a stale timer or a residual tick
    /// runs the tick handler.
    /// </summary>
    public long HandlerNs(InterruptKind kind) => kind switch
    {
        InterruptKind.Tick or InterruptKind.ResidualTick or InterruptKind.StaleTimer => TickHandlerNs,
        InterruptKind.DeviceIrq => DeviceIrqHandlerNs,
        InterruptKind.Nmi => NmiHandlerNs,
        InterruptKind.CallFunctionIpi => IpiHandlerNs + TlbFlushNs,
        _ => IpiHandlerNs,
    };

    /// <summary>CFS time slice when several tasks share a CPU.</summary>
    public long TimeSliceNs { get; init; } = 4_000_000;

    /// <summary>
    /// What a deferred work item costs the CPU that runs it, by its function (<c>vmstat_update</c>,
    /// <c>lru_add_drain_per_cpu</c>). The reports use it to place the start of a work item, which the model publishes
    /// when it is done.
    /// </summary>
    /// <param name="function">The kernel function of the work item.</param>
    /// <returns>Its cost in simulated nanoseconds.</returns>
    public long WorkNs(WorkFunction function) => function switch
    {
        WorkFunction.VmstatUpdate => VmstatWorkNs,
        WorkFunction.LruAddDrainPerCpu => LruDrainWorkNs,
        _ => 0,
    };

    /// <summary><c>prctl()</c>'s own work (<c>sys_prctl()</c> to <c>task_isolation_request()</c>) before its rule runs.</summary>
    public long PrctlNs { get; init; } = 300;

    /// <summary><c>mmap()</c>: <c>do_mmap()</c> finding and setting up the new VMA.</summary>
    public long MmapNs { get; init; } = 2_000;

    /// <summary><c>mlock()</c>'s own work once <c>lru_add_drain_all()</c> has drained every CPU (<c>mlock_fixup()</c>).</summary>
    public long MlockNs { get; init; } = 1_000;

    /// <summary><c>nanosleep()</c> up to <c>schedule()</c>: <c>hrtimer_nanosleep()</c> arming the wake-up timer.</summary>
    public long NanosleepNs { get; init; } = 500;

    /// <summary><c>kill()</c>: <c>kill_pid_info()</c> finding the task and queueing the signal.</summary>
    public long KillNs { get; init; } = 1_000;

    /// <summary><c>rt_sigaction()</c>: <c>do_sigaction()</c> installing the handler.</summary>
    public long RtSigactionNs { get; init; } = 300;

    /// <summary><c>rt_sigreturn()</c>: restoring the frame a signal handler ran on.</summary>
    public long RtSigreturnNs { get; init; } = 300;

    /// <summary><c>fork()</c> or a thread's <c>clone()</c>: <c>copy_process()</c>.</summary>
    public long CopyProcessNs { get; init; } = 20_000;

    /// <summary><c>wait4()</c>: <c>do_wait()</c> looking for an exited child.</summary>
    public long Wait4Ns { get; init; } = 500;

    /// <summary><c>timer_settime()</c> of a CPU-time POSIX timer: <c>posix_cpu_timer_set()</c> and its tick dependency.</summary>
    public long TimerSettimeNs { get; init; } = 1_000;

    /// <summary><c>sched_setaffinity()</c> of the calling task: <c>__set_cpus_allowed_ptr()</c>, before any migration.</summary>
    public long SchedSetaffinityNs { get; init; } = 1_000;

    /// <summary><c>sched_setaffinity()</c> of another task: <c>__set_cpus_allowed_ptr()</c> and the migration request.</summary>
    public long SchedSetaffinityOtherNs { get; init; } = 1_000;

    /// <summary><c>sched_setaffinity()</c> of a pid <c>find_task_by_vpid()</c> does not find: <c>-ESRCH</c>.</summary>
    public long SchedSetaffinityNoTaskNs { get; init; } = 500;

    /// <summary><c>sched_setaffinity()</c> with a mask of no usable CPU: <c>-EINVAL</c>.</summary>
    public long SchedSetaffinityBadMaskNs { get; init; } = 500;

    /// <summary>
    /// With the 4.7 residual tick (<see cref="ResidualTick.OneHz"/>), the longest a busy nohz_full CPU defers its tick:
    /// <c>scheduler_tick_max_deferment()</c>, one second.
    /// </summary>
    public long ResidualTickMaxDefermentNs { get; init; } = TaskIsolation.Machine.Abi.Tick.SchedTick.MaxDefermentNs;
}
