using System.Collections.Immutable;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Abi.V13;

/// <summary>What the prctl call did, for reports and tests.</summary>
public enum PrctlOutcome
{
    /// <summary>The flags were stored (any <c>PR_SET_TASK_ISOLATION</c> that returned 0).</summary>
    FlagsSet,

    /// <summary>The flags were stored despite a bad affinity, with a warning (NOSIG mode).</summary>
    FlagsSetWithWarning,

    /// <summary><c>PR_GET_TASK_ISOLATION</c> returned the flags word.</summary>
    FlagsReturned,

    /// <summary>
    /// <c>-EINVAL</c>: the task may run on more than one CPU, or the CPU it runs on is not a task-isolation CPU.
    /// </summary>
    InvalidAffinity,

    /// <summary><c>-EAGAIN</c>: a tick dependency means the tick could not stop right now.</summary>
    TickNotStoppable,

    /// <summary>
    /// <c>-EINVAL</c>: an option this kernel's prctl does not know (the <c>default:</c> case), which includes 48 and 49
    /// when <c>CONFIG_TASK_ISOLATION</c> is off.
    /// </summary>
    UnknownOption,
}

/// <summary>
/// The calling task and its CPU as <c>prctl()</c> sees them. <see cref="CanStopTickNow"/> is the snapshot of
/// <c>can_stop_my_full_tick_now()</c> (see <c>TickDependencies.CanStopFullTick</c>); it only matters for a set
/// with non-zero flags.
/// </summary>
/// <param name="Task">The caller.</param>
/// <param name="Flags">The caller's flags before the call.</param>
/// <param name="Affinity">The caller's allowed CPUs (<c>tsk_cpus_allowed(current)</c>).</param>
/// <param name="Cpu">The CPU the caller runs on (<c>raw_smp_processor_id()</c>).</param>
/// <param name="IsolationMap">The task-isolation CPUs (<c>task_isolation_map</c>).</param>
/// <param name="CanStopTickNow">Whether no tick dependency holds on this CPU for this task right now.</param>
/// <param name="Configured">
/// <c>CONFIG_TASK_ISOLATION=y</c>: the prctl's two cases are compiled in. Without it they are not, and both options
/// fall to <c>default:</c>.
/// </param>
public sealed record PrctlContext(
    TaskIdentity Task,
    IsolationFlags Flags,
    CpuMask Affinity,
    int Cpu,
    CpuMask IsolationMap,
    bool CanStopTickNow,
    bool Configured = true);

/// <summary>The result of one prctl call.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="ReturnValue">The syscall's return value: 0, the flags word, or a negated errno.</param>
/// <param name="Flags">The caller's flags after the call (unchanged unless the flags were set).</param>
/// <param name="Log">Kernel messages printed, in order.</param>
public sealed record PrctlResult(PrctlOutcome Outcome, long ReturnValue, IsolationFlags Flags, ImmutableArray<KernelLogLine> Log)
{
    /// <summary>Whether <c>TIF_TASK_ISOLATION</c> is set afterwards: it follows <c>ENABLE</c>.</summary>
    public bool TifTaskIsolation => Flags.Enable;

    /// <inheritdoc />
    public bool Equals(PrctlResult? other) =>
        other is not null && Outcome == other.Outcome && ReturnValue == other.ReturnValue && Flags == other.Flags
        && Log.SequenceEqual(other.Log);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Outcome, ReturnValue, Flags, Log.Length);
}

/// <summary>
/// The v13 prctl rules (docs/model.md §6): <c>task_isolation_set()</c> in <c>kernel/isolation.c</c> and its two cases in
/// <c>SYSCALL_DEFINE5(prctl)</c> of <c>kernel/sys.c</c>, with the NOSIG relaxation of patches 11 and 12.
/// </summary>
public static class PrctlV13
{
    /// <summary>
    /// The NOSIG warning <c>task_isolation_set()</c> prints instead of failing with <c>-EINVAL</c>; the series'
    /// format, a two-line message: <c>"%s/%d: enabling non-signalling task isolation\nand not bound to a single task
    /// isolation core\n"</c>.
    /// </summary>
    public static string NoSigAffinityWarning(TaskIdentity task) =>
        $"{task}: enabling non-signalling task isolation\nand not bound to a single task isolation core";

    /// <summary>
    /// One prctl call. <c>PR_SET_TASK_ISOLATION</c> → <see cref="Set"/> with <c>arg2</c> as the flags (the kernel
    /// passes it to an <c>unsigned int</c> parameter, so only its low 32 bits count); <c>PR_GET_TASK_ISOLATION</c>
    /// returns the flags word; any other option → <c>-EINVAL</c> (the <c>default:</c> case). v13 ignores arg3–arg5.
    /// Without <c>CONFIG_TASK_ISOLATION</c> the two cases are inside <c>#ifdef CONFIG_TASK_ISOLATION</c> in
    /// <c>SYSCALL_DEFINE5(prctl)</c>, so 48 and 49 are <c>-EINVAL</c> as well, whatever the flags (NOSIG included).
    /// </summary>
    public static PrctlResult Prctl(PrctlCall call, PrctlContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Configured)
        {
            return new(PrctlOutcome.UnknownOption, -Errno.EINVAL, context.Flags, []);
        }

        return call.Option switch
        {
            PrctlOptions.SetTaskIsolation => Set(new IsolationFlags((uint)call.Arg2), context),
            PrctlOptions.GetTaskIsolation => new(PrctlOutcome.FlagsReturned, context.Flags.Word, context.Flags, []),
            _ => new(PrctlOutcome.UnknownOption, -Errno.EINVAL, context.Flags, []),
        };
    }

    /// <summary>
    /// <c>task_isolation_set(flags)</c>. Flags 0 always succeed and turn isolation off. Otherwise: affinity not
    /// exactly one CPU, or the current CPU not in the task-isolation map → <c>-EINVAL</c>, except in NOSIG mode
    /// where it only warns and goes on; then, unless in NOSIG mode, a tick that could not stop right now →
    /// <c>-EAGAIN</c>. On success the flags are stored and <c>TIF_TASK_ISOLATION</c> follows <c>ENABLE</c>. Note the
    /// checks apply to any non-zero word, even one without <c>ENABLE</c>.
    /// </summary>
    public static PrctlResult Set(IsolationFlags flags, PrctlContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (flags.Word == 0)
        {
            return new(PrctlOutcome.FlagsSet, 0, IsolationFlags.None, []);
        }

        var signals = !flags.IsNoSig;
        var log = ImmutableArray<KernelLogLine>.Empty;
        var badAffinity = context.Affinity.Count != 1 || !context.IsolationMap.Test(context.Cpu);
        if (badAffinity)
        {
            if (signals)
            {
                return new(PrctlOutcome.InvalidAffinity, -Errno.EINVAL, context.Flags, []);
            }

            log = [KernelLogLine.Warn(NoSigAffinityWarning(context.Task))];
        }

        if (signals && !context.CanStopTickNow)
        {
            return new(PrctlOutcome.TickNotStoppable, -Errno.EAGAIN, context.Flags, []);
        }

        return new(badAffinity ? PrctlOutcome.FlagsSetWithWarning : PrctlOutcome.FlagsSet, 0, flags, log);
    }

    /// <summary><c>PR_GET_TASK_ISOLATION</c>: the flags word (<c>me-&gt;task_isolation_flags</c>).</summary>
    public static long Get(IsolationFlags flags) => flags.Word;
}
