using System.Globalization;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Abi.V16;

/// <summary>
/// v16's per-task isolation state (<c>task_isolation_state</c>). NORMAL with <c>TIF_TASK_ISOLATION</c> set means the
/// task is still on its way back from the prctl.
/// </summary>
public enum V16State
{
    /// <summary><c>STATE_NORMAL</c>: not isolated.</summary>
    Normal,

    /// <summary><c>STATE_ISOLATED</c>: in user space, isolated.</summary>
    Isolated,

    /// <summary><c>STATE_WARNED</c>: isolated, but a remote CPU already reported that it is interrupting the task.</summary>
    Warned,
}

/// <summary>A task's v16 isolation: its flags word and state. <c>TIF_TASK_ISOLATION</c> follows <c>ENABLE</c>.</summary>
/// <param name="Flags">The flags word (v16 keeps an <c>unsigned short</c>).</param>
/// <param name="State">The state.</param>
public readonly record struct V16Isolation(IsolationFlags Flags, V16State State)
{
    /// <summary>Not isolated, flags 0: what <c>stop_isolation()</c> leaves.</summary>
    public static V16Isolation Stopped => new(IsolationFlags.None, V16State.Normal);

    /// <summary>Whether <c>TIF_TASK_ISOLATION</c> is set.</summary>
    public bool TifTaskIsolation => Flags.Enable;
}

/// <summary>The v16 prctl result.</summary>
/// <param name="ReturnValue">The value the prctl returns now; <see cref="TaskIsolationV16.Start"/> may still replace it.</param>
/// <param name="Isolation">The task's isolation afterwards.</param>
/// <param name="QuietVmstatSync">
/// Whether the request shut the vmstat worker down at once (<c>quiet_vmstat_sync()</c>, with interrupts enabled).
/// </param>
public readonly record struct V16PrctlResult(long ReturnValue, V16Isolation Isolation, bool QuietVmstatSync);

/// <summary>What <c>task_isolation_start()</c> sees on the way out of the prctl, with interrupts disabled.</summary>
/// <param name="Isolation">The task's isolation.</param>
/// <param name="Affinity">The task's allowed CPUs — possibly changed by another task since the prctl (§9 R13).</param>
/// <param name="Cpu">The CPU it runs on.</param>
/// <param name="IsolationMap">The task-isolation map (<see cref="TaskIsolationV16.Map"/>).</param>
/// <param name="VmstatIdle">Whether vmstat is idle on this CPU (<c>vmstat_idle()</c>).</param>
/// <param name="GlobalClockUnstable">Whether the global mask holds <c>CLOCK_UNSTABLE</c>.</param>
/// <param name="CanStopFullTick">Whether <c>can_stop_full_tick()</c> holds on this CPU for this task.</param>
public readonly record struct V16StartContext(
    V16Isolation Isolation,
    CpuMask Affinity,
    int Cpu,
    CpuMask IsolationMap,
    bool VmstatIdle,
    bool GlobalClockUnstable,
    bool CanStopFullTick);

/// <summary>Which of <c>task_isolation_start()</c>'s steps decided the outcome.</summary>
public enum V16StartOutcome
{
    /// <summary>Isolated: the tick was stopped and the LRU drained.</summary>
    Isolated,

    /// <summary>Called in a state other than NORMAL: a kernel entry that did not stop isolation; it is stopped now.</summary>
    UnexpectedState,

    /// <summary><c>-EINVAL</c>: not bound to exactly one task-isolation CPU.</summary>
    InvalidAffinity,

    /// <summary><c>-EAGAIN</c>: the vmstat worker is not idle.</summary>
    VmstatBusy,

    /// <summary><c>-EINVAL</c> from <c>try_stop_full_tick()</c>: the clock is unstable, a permanent condition.</summary>
    ClockUnstable,

    /// <summary><c>-EAGAIN</c> from <c>try_stop_full_tick()</c>: a tick dependency holds.</summary>
    TickDependency,
}

/// <summary>The result of <c>task_isolation_start()</c>.</summary>
/// <param name="Outcome">Which step decided.</param>
/// <param name="Isolation">The task's isolation afterwards.</param>
/// <param name="ReturnValueOverride">The errno the prctl now returns instead, or null to leave it.</param>
/// <param name="StopsTick">Whether the tick is stopped here (<c>tick_nohz_stop_sched_tick()</c>).</param>
/// <param name="DrainsLru">Whether the LRU pagevecs are drained here.</param>
public readonly record struct V16StartResult(
    V16StartOutcome Outcome,
    V16Isolation Isolation,
    long? ReturnValueOverride,
    bool StopsTick,
    bool DrainsLru);

/// <summary>The decision for a remote CPU about to interrupt an isolation CPU.</summary>
/// <param name="TargetIsolation">The target task's isolation afterwards (WARNED when reported).</param>
/// <param name="Response">The report, or nothing.</param>
public sealed record V16RemoteDecision(V16Isolation TargetIsolation, IsolationResponse Response)
{
    /// <summary>Whether this call reported the break (the first report of it).</summary>
    public bool Reported => !Response.IsEmpty;
}

/// <summary>One CPU of a cpumask report: the CPU and the task current there.</summary>
/// <param name="Cpu">The CPU.</param>
/// <param name="Task">Its current task.</param>
/// <param name="Isolation">That task's isolation.</param>
public readonly record struct V16RemoteTarget(int Cpu, TaskIdentity Task, V16Isolation Isolation);

/// <summary>The decision for a remote CPU about to interrupt the CPUs of a mask.</summary>
/// <param name="Targets">The targets with their isolation afterwards, in the order given.</param>
/// <param name="Response">The one-line report, or nothing.</param>
public sealed record V16RemoteMaskDecision(IReadOnlyList<V16RemoteTarget> Targets, IsolationResponse Response);

/// <summary>
/// The v16 variant (Nov 2017, docs/model.md §10): <c>kernel/isolation.c</c> of <c>[PATCH v16 06/13] task_isolation:
/// userspace hard isolation from kernel</c> and <c>try_stop_full_tick()</c> of its tick patch. Its messages all
/// read <c>&lt;comm&gt;/&lt;pid&gt; (cpu &lt;n&gt;): task_isolation lost due to &lt;reason&gt;</c>, the remote form adding
/// <c> by &lt;comm&gt;/&lt;pid&gt; on cpu &lt;m&gt;</c>.
/// </summary>
public static class TaskIsolationV16
{
    /// <summary>
    /// The task-isolation map (<c>task_isolation_init()</c>): the CPUs both isolated from the scheduler and
    /// nohz_full. There is no <c>task_isolation=</c> boot argument.
    /// </summary>
    public static CpuMask Map(CpuMask isolcpus, CpuMask nohzFull)
    {
        ArgumentNullException.ThrowIfNull(isolcpus);
        return isolcpus.And(nohzFull);
    }

    /// <summary>
    /// The notification signal (<c>send_isolation_signal()</c>): <c>GET_SIG(flags)</c>, or <c>SIGKILL</c> when that
    /// is 0. v16 has no USERSIG bit and no NOSIG mode.
    /// </summary>
    public static int SignalFor(IsolationFlags flags) => flags.SignalField != 0 ? flags.SignalField : Signal.SIGKILL;

    /// <summary>
    /// One prctl call. <c>PR_TASK_ISOLATION</c> with any of arg3–arg5 non-zero → <c>-EINVAL</c>; otherwise
    /// <c>task_isolation_request(arg2)</c>: store the flags (v16 keeps 16 bits), and if <c>ENABLE</c> is set, set
    /// <c>TIF_TASK_ISOLATION</c> and quiet vmstat now; return 0 — <see cref="Start"/> may change that on the way
    /// out. Any other option (there is no get in v16) → <c>-EINVAL</c>; so is <c>PR_TASK_ISOLATION</c> itself without
    /// <c>CONFIG_TASK_ISOLATION</c> (<paramref name="configured"/> false), whose case is compiled out of
    /// <c>SYSCALL_DEFINE5(prctl)</c>.
    /// </summary>
    public static V16PrctlResult Prctl(PrctlCall call, V16Isolation current, bool configured = true)
    {
        if (!configured || call.Option != PrctlOptions.TaskIsolation || call.Arg3 != 0 || call.Arg4 != 0 || call.Arg5 != 0)
        {
            return new(-Errno.EINVAL, current, QuietVmstatSync: false);
        }

        var flags = new IsolationFlags((ushort)call.Arg2);
        return new(0, new V16Isolation(flags, V16State.Normal), QuietVmstatSync: flags.Enable);
    }

    /// <summary>
    /// <c>task_isolation_start()</c>, the one check on the way out of the prctl, in order: state must be NORMAL
    /// (else stop isolation, return value untouched); affinity exactly one task-isolation CPU (else
    /// <c>-EINVAL</c>); vmstat idle (else <c>-EAGAIN</c>); <c>try_stop_full_tick()</c> — global CLOCK_UNSTABLE →
    /// <c>-EINVAL</c>, a dependency → <c>-EAGAIN</c>, else stop the tick; then drain the LRU and become ISOLATED.
    /// Every failure stops isolation (flags 0, NORMAL).
    /// </summary>
    public static V16StartResult Start(V16StartContext context)
    {
        ArgumentNullException.ThrowIfNull(context.Affinity);
        ArgumentNullException.ThrowIfNull(context.IsolationMap);
        if (context.Isolation.State != V16State.Normal)
        {
            return new(V16StartOutcome.UnexpectedState, V16Isolation.Stopped, null, false, false);
        }

        if (context.Affinity.Count != 1 || !context.IsolationMap.Test(context.Cpu))
        {
            return Fail(V16StartOutcome.InvalidAffinity, Errno.EINVAL);
        }

        if (!context.VmstatIdle)
        {
            return Fail(V16StartOutcome.VmstatBusy, Errno.EAGAIN);
        }

        if (context.GlobalClockUnstable)
        {
            return Fail(V16StartOutcome.ClockUnstable, Errno.EINVAL);
        }

        if (!context.CanStopFullTick)
        {
            return Fail(V16StartOutcome.TickDependency, Errno.EAGAIN);
        }

        return new(
            V16StartOutcome.Isolated,
            context.Isolation with { State = V16State.Isolated },
            null,
            StopsTick: true,
            DrainsLru: true);

        static V16StartResult Fail(V16StartOutcome outcome, int errno) =>
            new(outcome, V16Isolation.Stopped, -errno, StopsTick: false, DrainsLru: false);
    }

    /// <summary>
    /// <c>is_acceptable_syscall()</c>: <c>exit</c>, <c>exit_group</c>, and <c>prctl</c> only with option
    /// <c>PR_TASK_ISOLATION</c> (v13 exempted every prctl).
    /// </summary>
    public static bool IsAcceptableSyscall(ArchInfo arch, int nr, int prctlOption)
    {
        ArgumentNullException.ThrowIfNull(arch);
        return nr == arch.ExitNr || nr == arch.ExitGroupNr
            || (nr == arch.PrctlNr && prctlOption == PrctlOptions.TaskIsolation);
    }

    /// <summary>
    /// <c>task_isolation_syscall(nr)</c>, called when <c>TIF_TASK_ISOLATION</c> is set. Acceptable → isolation stops
    /// quietly and the call runs. Otherwise: stop isolation and signal first, then log
    /// <c>&lt;comm&gt;/&lt;pid&gt; (cpu &lt;n&gt;): task_isolation lost due to syscall &lt;nr&gt;</c> (stopping first keeps
    /// the printk's own interrupts from being reported), dump the stack with <c>task_isolation_debug</c>, and skip
    /// the call with <c>-ERESTARTNOINTR</c>.
    /// </summary>
    /// <param name="arch">The architecture (syscall numbers).</param>
    /// <param name="isolation">The task's isolation.</param>
    /// <param name="task">The task.</param>
    /// <param name="cpu">The CPU it runs on.</param>
    /// <param name="nr">The syscall number.</param>
    /// <param name="prctlOption">The first argument, which matters only for <c>prctl</c>.</param>
    /// <param name="debug">Whether <c>task_isolation_debug</c> is on.</param>
    public static KernelEntryDecision OnSyscall(
        ArchInfo arch, V16Isolation isolation, TaskIdentity task, int cpu, int nr, int prctlOption, bool debug)
    {
        ArgumentNullException.ThrowIfNull(arch);
        if (!isolation.TifTaskIsolation)
        {
            return new(KernelEntryOutcome.NotIsolated, IsolationResponse.None, IsSyscall: true);
        }

        if (IsAcceptableSyscall(arch, nr, prctlOption))
        {
            return new(KernelEntryOutcome.ExemptStopsIsolation, new([IsolationAction.ClearFlags.Instance]), IsSyscall: true);
        }

        var reason = string.Create(CultureInfo.InvariantCulture, $"syscall {nr}");
        var actions = new List<IsolationAction>
        {
            IsolationAction.ClearFlags.Instance,
            new IsolationAction.SendSignal(SignalFor(isolation.Flags)),
            new IsolationAction.Log(KernelLogLine.Lost(LostMessage(task, cpu, reason), task, reason)),
        };
        if (debug)
        {
            actions.Add(IsolationAction.DumpStack.Instance);
        }

        return new(KernelEntryOutcome.IsolationLost, new(actions), IsSyscall: true);
    }

    /// <summary>
    /// <c>_task_isolation_interrupt(fmt, ...)</c>: an exception or interrupt taken on the isolated task's own CPU.
    /// NORMAL (still returning from the prctl) → nothing. Otherwise: in NMI only <c>pr_err</c>
    /// <c>... (cpu &lt;n&gt;): in NMI; not delivering signal</c> and isolation stays; else stop isolation and signal.
    /// Then the "lost due to &lt;reason&gt;" warning — unless the task was WARNED, i.e. a remote CPU already reported
    /// this break.
    /// </summary>
    public static IsolationResponse OnInterrupt(
        V16Isolation isolation, TaskIdentity task, int cpu, string reason, bool inNmi, bool debug)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        if (!isolation.TifTaskIsolation || isolation.State == V16State.Normal)
        {
            return IsolationResponse.None;
        }

        var actions = new List<IsolationAction>();
        if (inNmi)
        {
            actions.Add(new IsolationAction.Log(KernelLogLine.Err(
                string.Create(CultureInfo.InvariantCulture, $"{task} (cpu {cpu}): in NMI; not delivering signal"))));
        }
        else
        {
            actions.Add(IsolationAction.ClearFlags.Instance);
            actions.Add(new IsolationAction.SendSignal(SignalFor(isolation.Flags)));
        }

        if (isolation.State == V16State.Isolated)
        {
            actions.Add(new IsolationAction.Log(KernelLogLine.Lost(LostMessage(task, cpu, reason), task, reason)));
            if (debug)
            {
                actions.Add(IsolationAction.DumpStack.Instance);
            }
        }

        return new(actions);
    }

    /// <summary>
    /// <c>_task_isolation_signal(task)</c>: a signal is being sent to the task; isolation stops and, if it was
    /// ISOLATED (not already reported), <c>... (cpu &lt;n&gt;): task_isolation lost due to signal</c> is logged, with
    /// <paramref name="cpu"/> the task's CPU.
    /// </summary>
    public static IsolationResponse OnSignal(V16Isolation isolation, TaskIdentity task, int cpu, bool debug)
    {
        if (!isolation.TifTaskIsolation)
        {
            return IsolationResponse.None;
        }

        var actions = new List<IsolationAction> { IsolationAction.ClearFlags.Instance };
        if (isolation.State == V16State.Isolated)
        {
            actions.Add(new IsolationAction.Log(KernelLogLine.Lost(LostMessage(task, cpu, "signal"), task, "signal")));
            if (debug)
            {
                actions.Add(IsolationAction.DumpStack.Instance);
            }
        }

        return new(actions);
    }

    /// <summary>
    /// <c>task_isolation_remote(cpu, reason)</c>: the sender, about to interrupt <paramref name="targetCpu"/>, reports
    /// it once. Only for a task-isolation CPU whose current task is ISOLATED (a WARNED one was already reported): the
    /// task becomes WARNED and the sender logs
    /// <c>&lt;comm&gt;/&lt;pid&gt; (cpu &lt;n&gt;): task_isolation lost due to &lt;reason&gt; by &lt;comm&gt;/&lt;pid&gt; on cpu &lt;m&gt;</c>.
    /// The target's flags stay: it loses isolation when the interrupt arrives (<see cref="OnInterrupt"/>).
    /// </summary>
    public static V16RemoteDecision OnRemote(
        bool targetIsIsolationCpu,
        int targetCpu,
        TaskIdentity targetTask,
        V16Isolation targetIsolation,
        string reason,
        TaskIdentity sender,
        int senderCpu,
        bool debug)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        if (!targetIsIsolationCpu || targetIsolation.State != V16State.Isolated)
        {
            return new(targetIsolation, IsolationResponse.None);
        }

        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"{targetTask} (cpu {targetCpu}): task_isolation lost due to {reason} by {sender} on cpu {senderCpu}");
        return new(targetIsolation with { State = V16State.Warned }, Report(KernelLogLine.Lost(line, targetTask, reason), debug));
    }

    /// <summary>
    /// <c>task_isolation_remote_cpumask(mask, reason)</c>: every ISOLATED target becomes WARNED, and one line covers
    /// them: <c>&lt;comm&gt;/&lt;pid&gt; (cpu &lt;n&gt;): ...</c> for one CPU, <c>&lt;comm&gt;/&lt;pid&gt; etc (cpus &lt;list&gt;): ...</c>
    /// for several, naming the task of the last. Pass the targets in ascending CPU order, for the CPUs of the mask
    /// that are task-isolation CPUs, without the sender's own. As in v16, the task named is whatever the
    /// <em>last</em> target yielded, so when the last target is not ISOLATED no line is printed even though earlier
    /// targets were marked WARNED — the kernel's quirk, kept.
    /// </summary>
    public static V16RemoteMaskDecision OnRemoteMask(
        IReadOnlyList<V16RemoteTarget> targets, int nbits, string reason, TaskIdentity sender, int senderCpu, bool debug)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        var after = new List<V16RemoteTarget>(targets.Count);
        var warned = new CpuMask.Builder(nbits);
        TaskIdentity? last = null;
        foreach (var t in targets)
        {
            if (t.Isolation.State == V16State.Isolated)
            {
                warned.Set(t.Cpu);
                last = t.Task;
                after.Add(t with { Isolation = t.Isolation with { State = V16State.Warned } });
            }
            else
            {
                last = null;
                after.Add(t);
            }
        }

        if (last is not { } p)
        {
            return new(after, IsolationResponse.None);
        }

        var mask = warned.ToMask();
        var where = mask.Count == 1 ? "(cpu" : "etc (cpus";
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"{p} {where} {mask.ToList()}): task_isolation lost due to {reason} by {sender} on cpu {senderCpu}");
        return new(after, Report(KernelLogLine.Lost(line, p, reason), debug));
    }

    /// <summary>The local form of the message: <c>&lt;comm&gt;/&lt;pid&gt; (cpu &lt;n&gt;): task_isolation lost due to &lt;reason&gt;</c>.</summary>
    public static string LostMessage(TaskIdentity task, int cpu, string reason) =>
        string.Create(CultureInfo.InvariantCulture, $"{task} (cpu {cpu}): task_isolation lost due to {reason}");

    private static IsolationResponse Report(KernelLogLine line, bool debug) =>
        debug
            ? new([new IsolationAction.Log(line), IsolationAction.DumpStack.Instance])
            : new([new IsolationAction.Log(line)]);
}
