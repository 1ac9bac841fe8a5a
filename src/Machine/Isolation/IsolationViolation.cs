using TaskIsolation.Machine.Events;

namespace TaskIsolation.Machine.Isolation;

/// <summary>What counts as an isolation violation (docs/model.md §7).</summary>
public static class IsolationViolation
{
    /// <summary>
    /// Whether an interrupt from <paramref name="source"/>, taken while the CPU was in <paramref name="state"/>, is an
    /// isolation violation: any asynchronous interrupt that reaches a task with isolation enabled in user mode, as patch
    /// 05's <c>task_isolation_interrupt()</c> and the IPI senders' <c>task_isolation_debug()</c> report it. Two
    /// reschedule IPIs are notifications, not new violations: the wake-up of a signal someone sent the task
    /// (<c>signal_wake_up()</c> → <c>kick_process()</c>, docs/model.md §9 R11: the signal itself ends isolation), and the
    /// kernel's own report of a break the sending CPU already counted.
    /// </summary>
    /// <param name="state">The CPU's state when the interrupt was taken.</param>
    /// <param name="source">What raised the interrupt.</param>
    public static bool IsViolation(CpuState state, InterruptSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return state == CpuState.UserIsolated
            && source is not (SignalWakeup or RescheduleIpi { Reason: RescheduleReason.IsolationReport });
    }
}
