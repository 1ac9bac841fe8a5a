namespace TaskIsolation.Machine.Abi;

/// <summary>How a synchronous kernel entry of an isolated task was judged.</summary>
public enum KernelEntryOutcome
{
    /// <summary><c>TIF_TASK_ISOLATION</c> is clear: nothing to check.</summary>
    NotIsolated,

    /// <summary>An exempt syscall (v13: <c>prctl</c>, <c>exit</c>, <c>exit_group</c>): it runs, isolation stays.</summary>
    Exempt,

    /// <summary>
    /// v16 only: an acceptable syscall (<c>exit</c>, <c>exit_group</c>, <c>prctl(PR_TASK_ISOLATION)</c>) runs, and
    /// isolation stops quietly.
    /// </summary>
    ExemptStopsIsolation,

    /// <summary>NOSIG mode: the entry proceeds and the task stays isolated, with no message.</summary>
    AllowedNoSig,

    /// <summary>
    /// Isolation is lost: the kernel reports it and signals the task; a syscall is skipped, returning
    /// <c>-ERESTARTNOINTR</c>.
    /// </summary>
    IsolationLost,
}

/// <summary>The decision for one synchronous kernel entry (a syscall, a quiet exception).</summary>
/// <param name="Outcome">How the entry was judged.</param>
/// <param name="Response">What the kernel does about the task's isolation, in order.</param>
/// <param name="IsSyscall">Whether the entry is a syscall (only a syscall can be skipped).</param>
public sealed record KernelEntryDecision(KernelEntryOutcome Outcome, IsolationResponse Response, bool IsSyscall)
{
    /// <summary>Whether the syscall runs: false only for a syscall that cost the task its isolation.</summary>
    public bool RunsSyscall => !(IsSyscall && Outcome == KernelEntryOutcome.IsolationLost);

    /// <summary>
    /// The skipped syscall's return value, <c>-ERESTARTNOINTR</c> (<c>syscall_set_return_value()</c>), so that with a
    /// caught signal the call runs again after the handler; null when the syscall runs.
    /// </summary>
    public long? ReturnValue => RunsSyscall ? null : -Errno.ERESTARTNOINTR;
}
