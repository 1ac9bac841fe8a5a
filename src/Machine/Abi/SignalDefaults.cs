namespace TaskIsolation.Machine.Abi;

/// <summary>What a signal does when the task has no handler for it (<c>sig_kernel_ignore()</c> in 4.7).</summary>
public static class SignalDefaults
{
    /// <summary>
    /// Whether the default action is to ignore the signal: SIGCHLD, SIGURG and SIGWINCH. SIGCONT also
    /// continues a stopped task, which the model has no notion of, so it is ignored too. Every other signal of the
    /// model terminates the task (the stop signals are out of scope).
    /// </summary>
    public static bool Ignores(int signal) => signal is Signal.SIGCHLD or Signal.SIGURG or Signal.SIGCONT or Signal.SIGWINCH;
}
