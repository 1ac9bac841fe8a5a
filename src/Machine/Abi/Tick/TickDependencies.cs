using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Abi.Tick;

/// <summary>
/// The four dependency masks that bear on one CPU at one moment: global, that CPU's, its current task's, and that
/// task's process's.
/// </summary>
/// <param name="Global">The global mask.</param>
/// <param name="Cpu">The CPU's mask.</param>
/// <param name="Task">The current task's mask.</param>
/// <param name="Process">The current task's process's mask.</param>
public readonly record struct TickDepSnapshot(TickDep Global, TickDep Cpu, TickDep Task, TickDep Process);

/// <summary>
/// The result of <c>can_stop_full_tick()</c>: whether the tick may stop, and if not, the first dependency found —
/// the one the <c>tick_stop</c> trace event names.
/// </summary>
/// <param name="CanStop">Whether no dependency is set in any of the four scopes.</param>
/// <param name="Dependency">The single blocking bit, or <see cref="TickDep.None"/>.</param>
/// <param name="Scope">The scope it was found in, or null.</param>
public readonly record struct TickStopCheck(bool CanStop, TickDep Dependency, TickDepScope? Scope)
{
    /// <summary>The dependency as <c>tick_stop</c> prints it (<c>NONE</c> when the tick can stop).</summary>
    public string TraceName => TickDependencies.TraceName(Dependency);
}

/// <summary>The effect of setting one dependency bit.</summary>
/// <param name="NewMask">The scope's mask afterwards.</param>
/// <param name="Kicked">
/// The CPUs sent the nohz kick (an irq_work whose interrupt exit re-evaluates, and restarts, the tick); empty when
/// nothing is kicked.
/// </param>
public sealed record TickDepSetResult(TickDep NewMask, CpuMask Kicked)
{
    /// <summary>Whether any CPU is kicked.</summary>
    public bool KicksAny => !Kicked.IsEmpty;
}

/// <summary>
/// The 4.7 tick-dependency rules of <c>kernel/time/tick-sched.c</c> (docs/model.md §4, §5): whether a nohz_full CPU's
/// tick may stop, and whom setting a dependency kicks.
/// </summary>
public static class TickDependencies
{
    /// <summary>The bits in the order <c>check_tick_dependency()</c> tests them.</summary>
    public static IReadOnlyList<TickDep> CheckOrder { get; } =
        [TickDep.PosixTimer, TickDep.PerfEvents, TickDep.Sched, TickDep.ClockUnstable];

    /// <summary>
    /// The bit <c>check_tick_dependency()</c> reports for <paramref name="mask"/>: the first set in
    /// <see cref="CheckOrder"/> (POSIX_TIMER, PERF_EVENTS, SCHED, CLOCK_UNSTABLE), or <see cref="TickDep.None"/>.
    /// </summary>
    public static TickDep FirstInCheckOrder(TickDep mask)
    {
        foreach (var bit in CheckOrder)
        {
            if ((mask & bit) != 0)
            {
                return bit;
            }
        }

        return TickDep.None;
    }

    /// <summary>
    /// The name <c>tick_stop</c> prints for a dependency (<c>show_tick_dep_name()</c>): <c>NONE</c>,
    /// <c>POSIX_TIMER</c>, <c>PERF_EVENTS</c>, <c>SCHED</c>, <c>CLOCK_UNSTABLE</c>. Given several bits, the one
    /// <see cref="FirstInCheckOrder"/> picks.
    /// </summary>
    public static string TraceName(TickDep dependency) => FirstInCheckOrder(dependency) switch
    {
        TickDep.None => "NONE",
        TickDep.PosixTimer => "POSIX_TIMER",
        TickDep.PerfEvents => "PERF_EVENTS",
        TickDep.Sched => "SCHED",
        TickDep.ClockUnstable => "CLOCK_UNSTABLE",
        var other => throw new ArgumentOutOfRangeException(nameof(dependency), other, "not a tick dependency bit"),
    };

    /// <summary>
    /// <c>can_stop_full_tick()</c>: the global mask, then the CPU's, the current task's and its process's; the
    /// first scope with any bit set keeps the tick, and its first bit in check order is the reported dependency.
    /// Whether the CPU is nohz_full at all is for the caller (<c>tick_nohz_full_update_tick()</c>) to check.
    /// </summary>
    public static TickStopCheck CanStopFullTick(TickDepSnapshot deps)
    {
        ReadOnlySpan<(TickDep Mask, TickDepScope Scope)> scopes =
        [
            (deps.Global, TickDepScope.Global),
            (deps.Cpu, TickDepScope.Cpu),
            (deps.Task, TickDepScope.Task),
            (deps.Process, TickDepScope.Process),
        ];
        foreach (var (mask, scope) in scopes)
        {
            var first = FirstInCheckOrder(mask);
            if (first != TickDep.None)
            {
                return new TickStopCheck(false, first, scope);
            }
        }

        return new TickStopCheck(true, TickDep.None, null);
    }

    /// <summary>
    /// Set <paramref name="bit"/> in a scope whose mask was <paramref name="previous"/>, as
    /// <c>tick_nohz_dep_set()</c>, <c>tick_nohz_dep_set_cpu()</c>, <c>_task()</c> and <c>_signal()</c> do. The kick is
    /// sent only when the scope's mask was empty before (<c>if (!prev)</c> after <c>atomic_fetch_or</c>): with another
    /// bit already set the tick is running anyway. Whom it kicks:
    /// <list type="bullet">
    /// <item>global, task, process: every online nohz_full CPU (<c>tick_nohz_full_kick_all()</c>) — in 4.7 a
    /// per-task or per-process bit kicks them all, not just where the task runs (§9 R3);</item>
    /// <item>CPU: that CPU if it is nohz_full — locally (an irq_work on itself) when the setter runs there, else
    /// remotely, except from NMI context where the kernel warns and sends nothing.</item>
    /// </list>
    /// </summary>
    /// <param name="scope">Which mask.</param>
    /// <param name="previous">That mask before the call.</param>
    /// <param name="bit">One dependency bit.</param>
    /// <param name="settingCpu">The CPU running the code that sets it.</param>
    /// <param name="targetCpu">For <see cref="TickDepScope.Cpu"/>, the CPU whose mask it is; ignored otherwise.</param>
    /// <param name="nohzFull">The nohz_full CPUs.</param>
    /// <param name="online">The online CPUs.</param>
    /// <param name="inNmi">Whether the setter runs in NMI context (perf does).</param>
    /// <exception cref="ArgumentException"><paramref name="bit"/> is not exactly one dependency bit.</exception>
    public static TickDepSetResult Set(
        TickDepScope scope,
        TickDep previous,
        TickDep bit,
        int settingCpu,
        int targetCpu,
        CpuMask nohzFull,
        CpuMask online,
        bool inNmi = false)
    {
        ArgumentNullException.ThrowIfNull(nohzFull);
        ArgumentNullException.ThrowIfNull(online);
        if (bit == TickDep.None || FirstInCheckOrder(bit) != bit || (bit & (bit - 1)) != 0)
        {
            throw new ArgumentException($"expected one tick dependency bit, got {bit}", nameof(bit));
        }

        var next = previous | bit;
        var none = CpuMask.Empty(nohzFull.NBits);
        if (previous != TickDep.None)
        {
            return new TickDepSetResult(next, none);
        }

        if (scope != TickDepScope.Cpu)
        {
            return new TickDepSetResult(next, nohzFull.And(online));
        }

        var kicks = nohzFull.Test(targetCpu) && (targetCpu == settingCpu || !inNmi);
        return new TickDepSetResult(next, kicks ? none.With(targetCpu) : none);
    }

    /// <summary>
    /// <c>can_stop_full_tick()</c> on a nohz_full CPU as the model holds its masks: the global bits, the CPU's SCHED
    /// bit as <see cref="SchedTick.CanStopTick"/> derives it from the runqueue (<c>sched_update_tick_dependency()</c>),
    /// the current task's POSIX_TIMER bit while it has a CPU timer armed, and its process's bits.
    /// </summary>
    /// <param name="global">The global <c>tick_dep_mask</c>.</param>
    /// <param name="runqueue">The CPU's runqueue, the current task included.</param>
    /// <param name="taskTimerArmed">Whether the current task has a POSIX CPU timer armed.</param>
    /// <param name="process">The current task's process mask (<c>signal-&gt;tick_dep_mask</c>).</param>
    public static TickStopCheck CanStopFullTick(TickDep global, RunqueueCounts runqueue, bool taskTimerArmed, TickDep process)
    {
        var cpu = SchedTick.CanStopTick(runqueue) ? TickDep.None : TickDep.Sched;
        var task = taskTimerArmed ? TickDep.PosixTimer : TickDep.None;
        return CanStopFullTick(new TickDepSnapshot(global, cpu, task, process));
    }

    /// <summary>
    /// The CPUs that setting a task's or a process's bit kicks (<c>tick_dep_set_task()</c>, <c>tick_dep_set_signal()</c>
    /// with a mask that was empty). In 4.7 every online nohz_full CPU (<see cref="Set"/>, §9 R3). With the later
    /// kernels' targeted kick (5.12+), <c>tick_nohz_dep_set_task()</c> calls <c>tick_nohz_kick_task()</c> on the task,
    /// and <c>tick_nohz_dep_set_signal()</c> walks the process's threads (<c>__for_each_thread()</c>) calling it on
    /// each: <c>tick_nohz_kick_task()</c> skips a thread that is not on a runqueue (<c>sched_task_on_rq()</c>: asleep,
    /// it has no CPU time to account and re-reads the bits when it is switched in), and otherwise kicks
    /// <c>task_cpu()</c> if that CPU is online and nohz_full (<c>tick_nohz_full_kick_cpu()</c>).
    /// </summary>
    /// <param name="scope"><see cref="TickDepScope.Task"/> or <see cref="TickDepScope.Process"/>.</param>
    /// <param name="settingCpu">The CPU running the task that sets it.</param>
    /// <param name="threads">
    /// For <see cref="TickDepScope.Process"/>, every live thread of the process (the setter included); for
    /// <see cref="TickDepScope.Task"/>, the task whose bit is set. Used only with <paramref name="targeted"/>.
    /// </param>
    /// <param name="nohzFull">The nohz_full CPUs.</param>
    /// <param name="online">The online CPUs.</param>
    /// <param name="targeted">The later kernels' targeted kick (a model switch).</param>
    public static CpuMask KickTargets(
        TickDepScope scope,
        int settingCpu,
        IEnumerable<ThreadPlacement> threads,
        CpuMask nohzFull,
        CpuMask online,
        bool targeted)
    {
        ArgumentNullException.ThrowIfNull(threads);
        ArgumentNullException.ThrowIfNull(nohzFull);
        ArgumentNullException.ThrowIfNull(online);
        if (!targeted)
        {
            return Set(scope, TickDep.None, TickDep.PosixTimer, settingCpu, settingCpu, nohzFull, online).Kicked;
        }

        var kicked = CpuMask.Empty(nohzFull.NBits);
        foreach (var thread in threads)
        {
            // as tick_nohz_kick_task() → tick_nohz_full_kick_cpu().
            if (thread.OnRunqueue && online.Test(thread.Cpu) && nohzFull.Test(thread.Cpu))
            {
                kicked = kicked.With(thread.Cpu);
            }
        }

        return kicked;
    }

    /// <summary>Clear <paramref name="bit"/> (<c>tick_nohz_dep_clear*()</c>): no kick; the tick stops at a later interrupt exit.</summary>
    public static TickDep Clear(TickDep previous, TickDep bit) => previous & ~bit;
}

/// <summary>Where one thread is, as <c>tick_nohz_kick_task()</c> reads it.</summary>
/// <param name="Cpu"><c>task_cpu()</c>: the CPU it runs or is queued or asleep on.</param>
/// <param name="OnRunqueue"><c>sched_task_on_rq()</c>: running or runnable, not asleep.</param>
public readonly record struct ThreadPlacement(int Cpu, bool OnRunqueue);
