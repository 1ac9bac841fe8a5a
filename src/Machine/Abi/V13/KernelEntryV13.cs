using System.Globalization;
using TaskIsolation.Machine.Arch;

namespace TaskIsolation.Machine.Abi.V13;

/// <summary>
/// The v13 rules for an isolated task entering the kernel synchronously (docs/model.md §6):
/// <c>task_isolation_syscall()</c>, <c>_task_isolation_quiet_exception()</c> and
/// <c>task_isolation_deliver_signal()</c> in <c>kernel/isolation.c</c>, plus the flag resets of
/// <c>kernel/signal.c</c> and <c>kernel/fork.c</c>.
/// </summary>
public static class KernelEntryV13
{
    /// <summary>
    /// The message <c>task_isolation_deliver_signal()</c> prints: <c>&lt;comm&gt;/&lt;pid&gt;: task_isolation mode lost
    /// due to &lt;reason&gt;</c>.
    /// </summary>
    public static string LostMessage(TaskIdentity task, string reason) =>
        $"{task}: task_isolation mode lost due to {reason}";

    /// <summary>
    /// <c>task_isolation_deliver_signal(task, reason, sig)</c>: log, then clear the flags (so nothing reports the
    /// task again, and a handler may re-enable isolation), then send the signal — in that order. The signal is
    /// whatever <c>task_isolation_sig()</c> gave, never validated (<c>task_isolation_set()</c> stores any
    /// <c>SET_SIG(n)</c>): for 65–127 <c>send_sig_info()</c> fails and nothing arrives
    /// (<see cref="Kernel.SignalDelivery.Generates"/>), but the log and the clearing have happened.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="signal"/> is not 1–127, the numbers <c>PR_TASK_ISOLATION_GET_SIG()</c> (or SIGKILL) can give.
    /// </exception>
    public static IsolationResponse DeliverSignal(TaskIdentity task, string reason, int signal)
    {
        if (signal is < 1 or > 0x7f)
        {
            throw new ArgumentOutOfRangeException(nameof(signal), signal, "a notification signal is 1-127 (GET_SIG of the flags)");
        }

        return new IsolationResponse(
        [
            new IsolationAction.Log(KernelLogLine.Lost(LostMessage(task, reason), task, reason)),
            IsolationAction.ClearFlags.Instance,
            new IsolationAction.SendSignal(signal),
        ]);
    }

    /// <summary>
    /// Whether syscall <paramref name="nr"/> is exempt on <paramref name="arch"/>: <c>prctl</c> (any option, so the
    /// task can turn isolation off), <c>exit</c> and <c>exit_group</c> (so it can exit without a pointless signal).
    /// </summary>
    public static bool IsExemptSyscall(ArchInfo arch, int nr)
    {
        ArgumentNullException.ThrowIfNull(arch);
        return nr == arch.PrctlNr || nr == arch.ExitNr || nr == arch.ExitGroupNr;
    }

    /// <summary>
    /// <c>task_isolation_syscall(nr)</c>, checked on syscall entry just before seccomp. Not isolated → nothing.
    /// Exempt → runs. NOSIG mode → runs, isolation stays. Otherwise the task loses isolation with reason
    /// <c>syscall &lt;nr&gt;</c> (log, clear, signal) and the syscall is skipped with <c>-ERESTARTNOINTR</c>.
    /// </summary>
    public static KernelEntryDecision OnSyscall(ArchInfo arch, IsolationFlags flags, TaskIdentity task, int nr)
    {
        ArgumentNullException.ThrowIfNull(arch);
        if (!flags.Enable)
        {
            return new(KernelEntryOutcome.NotIsolated, IsolationResponse.None, IsSyscall: true);
        }

        if (IsExemptSyscall(arch, nr))
        {
            return new(KernelEntryOutcome.Exempt, IsolationResponse.None, IsSyscall: true);
        }

        var sig = flags.NotificationSignal;
        if (sig == Signal.None)
        {
            return new(KernelEntryOutcome.AllowedNoSig, IsolationResponse.None, IsSyscall: true);
        }

        var reason = string.Create(CultureInfo.InvariantCulture, $"syscall {nr}");
        return new(KernelEntryOutcome.IsolationLost, DeliverSignal(task, reason, sig), IsSyscall: true);
    }

    /// <summary>
    /// <c>task_isolation_quiet_exception(fmt, ...)</c>: an exception that the kernel resolves without signalling the
    /// task (a page fault on a present-but-not-yet-mapped page, tile's unaligned JIT fixup). Same rule as a syscall
    /// with <paramref name="reason"/> as the reason; nothing is skipped.
    /// </summary>
    public static KernelEntryDecision OnQuietException(IsolationFlags flags, TaskIdentity task, string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        if (!flags.Enable)
        {
            return new(KernelEntryOutcome.NotIsolated, IsolationResponse.None, IsSyscall: false);
        }

        var sig = flags.NotificationSignal;
        return sig == Signal.None
            ? new(KernelEntryOutcome.AllowedNoSig, IsolationResponse.None, IsSyscall: false)
            : new(KernelEntryOutcome.IsolationLost, DeliverSignal(task, reason, sig), IsSyscall: false);
    }

    /// <summary>A quiet page fault at <paramref name="address"/>: reason <c>page fault at 0x&lt;addr&gt;</c>.</summary>
    public static KernelEntryDecision OnPageFault(IsolationFlags flags, TaskIdentity task, ulong address) =>
        OnQuietException(flags, task, ArchInfo.PageFaultReason(address));

    /// <summary>
    /// A silent unaligned-access fixup at user <paramref name="pc"/>, on an architecture that has one (tile).
    /// </summary>
    /// <exception cref="InvalidOperationException">The architecture fixes no unaligned accesses silently.</exception>
    public static KernelEntryDecision OnUnalignedFixup(ArchInfo arch, IsolationFlags flags, TaskIdentity task, ulong pc)
    {
        ArgumentNullException.ThrowIfNull(arch);
        var reason = arch.UnalignedFixupReason(pc)
            ?? throw new InvalidOperationException($"{arch.Name} has no silent unaligned-access fixup");
        return OnQuietException(flags, task, reason);
    }

    /// <summary>
    /// The flags after any signal is delivered to the task (<c>get_signal()</c> in <c>kernel/signal.c</c> calls
    /// <c>task_isolation_set_flags(current, 0)</c>): none. A handler may enable isolation again.
    /// </summary>
    public static IsolationFlags FlagsAfterSignalDelivery => IsolationFlags.None;

    /// <summary>A forked child's flags (<c>copy_process()</c> in <c>kernel/fork.c</c>): none.</summary>
    public static IsolationFlags ForkChildFlags => IsolationFlags.None;
}
