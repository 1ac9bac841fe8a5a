namespace TaskIsolation.Machine.Abi.V13;

/// <summary>
/// An interruption about to reach, or reaching, a CPU, with what the code reporting it can see (docs/model.md §7).
/// </summary>
/// <param name="Interruption">What it is.</param>
/// <param name="SenderCpu">The CPU sending it; the target CPU itself for a local interrupt.</param>
/// <param name="SenderInNmi">Whether the reporting code runs in NMI context (<c>in_nmi()</c>).</param>
/// <param name="TargetCpu">The CPU interrupted.</param>
/// <param name="TargetIsIsolationCpu">Whether the target is in the task-isolation map (<c>task_isolation_possible(cpu)</c>).</param>
/// <param name="TargetTask">The task current on the target CPU.</param>
/// <param name="TargetFlags">That task's isolation flags.</param>
/// <param name="TargetInUserMode">
/// Whether that task is in user mode. A remote sender reads it from context tracking before it sends
/// (<c>context_tracking_cpu_in_user(cpu)</c>), racily by design (§9 R8): pass what the sender saw.
/// </param>
/// <param name="DebugBootFlag">Whether <c>task_isolation_debug</c> was on the command line.</param>
public sealed record AsyncInterruptContext(
    Interruption Interruption,
    int SenderCpu,
    bool SenderInNmi,
    int TargetCpu,
    bool TargetIsIsolationCpu,
    TaskIdentity TargetTask,
    IsolationFlags TargetFlags,
    bool TargetInUserMode,
    bool DebugBootFlag);

/// <summary>
/// The <c>task_isolation_debug</c> report of a violation: a <c>pr_err</c> line followed by a stack dump, printed
/// after the decision's <see cref="AsyncViolationDecision.Response"/> (the kernel delivers the signal first, see
/// <see cref="AsyncInterruptV13.Deliver"/>). A forced report (from NMI context) always prints; any other goes through
/// the one-per-second rate limiter (<see cref="RatelimitState.TaskIsolationDebug"/>, shared by all CPUs as the kernel's
/// is a static), and prints with its stack dump only if that allows it.
/// </summary>
/// <param name="Line">The line.</param>
/// <param name="Forced">Whether it bypasses the rate limiter (and the boot flag).</param>
public sealed record DebugReport(KernelLogLine Line, bool Forced)
{
    /// <summary>The function whose rate limiter this is, for the "callbacks suppressed" message.</summary>
    public const string RatelimitFunction = "task_isolation_debug_task";
}

/// <summary>The decision for one asynchronous interruption.</summary>
/// <param name="IsViolation">
/// Whether it is an isolation violation: the target is a task-isolation CPU whose current task has isolation
/// enabled and (as seen) is in user mode. The simulator records every violation, whether or not a signal follows.
/// </param>
/// <param name="Reason">The interruption's type string (<see cref="Interruption.Reason"/>).</param>
/// <param name="Response">
/// What happens to the target task: log, clear, signal (<see cref="KernelEntryV13.DeliverSignal"/>) — or nothing, in
/// NOSIG mode and in NMI context.
/// </param>
/// <param name="Debug">The debug report, or null when none is printed whatever the rate limiter says.</param>
public sealed record AsyncViolationDecision(bool IsViolation, string Reason, IsolationResponse Response, DebugReport? Debug)
{
    /// <summary>Whether the target task is signalled.</summary>
    public bool SendsSignal => Response.SignalSent is not null;

    /// <summary>
    /// Whether the report has a delivery step (<see cref="AsyncInterruptV13.Deliver"/>): a violation whose task is
    /// signalled or for which a debug report may print. A NOSIG task without <c>task_isolation_debug</c> is tested
    /// and left alone.
    /// </summary>
    public bool Delivers => IsViolation && (!Response.IsEmpty || Debug is not null);
}

/// <summary>
/// The v13 rule for asynchronous interrupts reaching an isolated task (patch 05 of the series, docs/model.md §7):
/// <c>task_isolation_debug_task()</c> in <c>kernel/isolation.c</c>, reached through <c>task_isolation_debug()</c>
/// (which first checks <c>task_isolation_possible(cpu)</c>).
/// <para>
/// It works in two steps with no lock between them, and the model keeps them apart (§9 R14). The <b>test</b>
/// (<see cref="Decide"/>) reads <c>p-&gt;task_isolation_flags</c> for <c>ENABLE</c>, the target's context-tracking
/// state and the notification signal (<c>task_isolation_sig()</c>). The <b>delivery</b> (<see cref="Deliver"/>) is
/// <c>task_isolation_deliver_signal()</c> — <c>pr_warn()</c>, <c>task_isolation_set_flags(p, 0)</c>,
/// <c>send_sig_info()</c> — then the rate-limited <c>pr_err()</c> and <c>dump_stack()</c>; it does not test the
/// flags again. Another CPU that tests the same task after this one's test and before its
/// <c>task_isolation_set_flags(p, 0)</c> reports it too: two <c>lost due to</c> lines and two signals for one
/// break. One that tests after the clear finds <c>ENABLE</c> gone and does nothing, which is the usual outcome.
/// </para>
/// </summary>
public static class AsyncInterruptV13
{
    /// <summary>
    /// The debug line: <c>cpu &lt;src&gt;: &lt;type&gt; violating task isolation for &lt;comm&gt;/&lt;pid&gt; on cpu &lt;dst&gt;</c>.
    /// </summary>
    public static string DebugLine(int senderCpu, string reason, TaskIdentity target, int targetCpu) =>
        $"cpu {senderCpu}: {reason} violating task isolation for {target} on cpu {targetCpu}";

    /// <summary>
    /// The test of <c>task_isolation_debug_task()</c>: decide one interruption from the flags and context read now.
    /// Not a violation unless the target CPU is a task-isolation CPU and its task has
    /// <c>ENABLE</c> set and is in user mode. For a violation, with a signal to send (not NOSIG): outside NMI context
    /// the task loses isolation (log, clear, signal); in NMI context — a sender in NMI, or an NMI arriving on the
    /// target — nothing can be signalled, so the flags stay and a debug report is forced. Without a forced report,
    /// the <c>task_isolation_debug</c> flag asks for a rate-limited one.
    /// </summary>
    public static AsyncViolationDecision Decide(AsyncInterruptContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var reason = context.Interruption.Reason;
        var violation = context.TargetIsIsolationCpu && context.TargetFlags.Enable && context.TargetInUserMode;
        if (!violation)
        {
            return new(false, reason, IsolationResponse.None, null);
        }

        var inNmi = context.SenderInNmi || context.Interruption.Kind == InterruptKind.Nmi;
        var sig = context.TargetFlags.NotificationSignal;
        var response = IsolationResponse.None;
        var forced = false;
        if (sig != Signal.None)
        {
            if (inNmi)
            {
                forced = true;
            }
            else
            {
                response = KernelEntryV13.DeliverSignal(context.TargetTask, reason, sig);
            }
        }

        DebugReport? debug = null;
        if (forced || context.DebugBootFlag)
        {
            var line = DebugLine(context.SenderCpu, reason, context.TargetTask, context.TargetCpu);
            debug = new DebugReport(KernelLogLine.Err(line), forced);
        }

        return new(true, reason, response, debug);
    }

    /// <summary>
    /// The delivery of <c>task_isolation_debug_task()</c>, after its test (<paramref name="decision"/>), in the kernel's
    /// order: <c>task_isolation_deliver_signal()</c> (log, clear the flags, signal) when the task is signalled, then the
    /// debug report — <c>pr_err()</c> and <c>dump_stack()</c> — when it is forced or <c>task_isolation_debug</c> is on and
    /// <paramref name="ratelimit"/> (<c>__ratelimit(&amp;console_output)</c>, asked only then) lets it print. The flags are
    /// not tested again: whatever another CPU did to them since the test, this delivery happens (§9 R14).
    /// </summary>
    /// <param name="decision">The test's decision.</param>
    /// <param name="ratelimit">The machine-wide rate limiter of the debug line: true when this one may print.</param>
    /// <returns>The actions, in order; none when the test found no violation.</returns>
    public static IsolationResponse Deliver(AsyncViolationDecision decision, Func<bool> ratelimit)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(ratelimit);
        if (!decision.IsViolation)
        {
            return IsolationResponse.None;
        }

        if (decision.Debug is not { } debug || !(debug.Forced || ratelimit()))
        {
            return decision.Response;
        }

        return new IsolationResponse([.. decision.Response.Actions, new IsolationAction.Log(debug.Line), IsolationAction.DumpStack.Instance]);
    }
}
