namespace TaskIsolation.Host;

/// <summary>
/// What <c>taskisol</c> returns to the shell: one meaning per code, the same for every command (listed by
/// <c>taskisol --help</c> and in README.md). A script can tell "the model said no" (1) from "you asked wrongly" (2)
/// from "taskisol is broken" (3).
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked, and its answer is yes: every expectation held, nothing was found.</summary>
    public const int Ok = 0;

    /// <summary>
    /// The command ran to its answer, and the answer is no: an expectation of the scenario failed (<c>run</c>), a
    /// violation or liveness failure was found (<c>explore</c>, <c>soak</c>), a reproducer did not reproduce its
    /// finding (<c>replay</c>, <c>minimize</c>).
    /// </summary>
    public const int Failed = 1;

    /// <summary>Bad input: an unknown command or option, a value the model refuses, a file that cannot be read or
    /// written. Reported on stderr, naming what was wrong and where, without a stack trace.</summary>
    public const int BadInput = 2;

    /// <summary>A bug in taskisol: an exception no command expected. Reported on stderr with its stack trace.</summary>
    public const int InternalError = 3;

    /// <summary>
    /// Stopped by Ctrl-C (SIGINT) before it had an answer: 128 + the signal's number, as a shell reports a process a
    /// signal ended (143 for SIGTERM, see <see cref="StoppedBy"/>). <c>explore</c> catches the signal, finishes the
    /// schedules in flight, prints the summary of what ran and ends so (a cluster coordinator after leaving the cluster
    /// and keeping its journal); <c>soak</c> writes its final snapshot and exits 0 or 1, a <c>worker</c> leaves and
    /// exits 0; the other commands are ended by the signal itself, which the shell shows as the same 130 or 143.
    /// </summary>
    public const int Interrupted = 130;

    /// <summary>The codes as the root command's <c>--help</c> lists them.</summary>
    public const string Help = "Exit codes: 0 success, 1 an expectation failed or a finding was found, 2 bad input, 3 internal error.";

    /// <summary>The code of a command stopped by <paramref name="signal"/> before it had an answer: 128 + its number.</summary>
    public static int StoppedBy(System.Runtime.InteropServices.PosixSignal signal) => signal switch
    {
        System.Runtime.InteropServices.PosixSignal.SIGTERM => 128 + 15,
        System.Runtime.InteropServices.PosixSignal.SIGQUIT => 128 + 3,
        System.Runtime.InteropServices.PosixSignal.SIGHUP => 128 + 1,
        _ => Interrupted,
    };

    /// <summary>
    /// A command's description for <c>--help</c>: <paramref name="summary"/>, then what 0 (and 1, for a command that
    /// judges) mean for this command, then 2 and 3, which mean the same everywhere, and anything <paramref name="more"/> adds;
    /// </summary>
    /// <paramref name="example"/> is one command line that shows the command at work.
    public static string Describe(string summary, string ok, string? failed, string example, string? more = null) =>
        $"{summary}.\n\nExit codes: 0 {ok},{(failed is null ? string.Empty : $" 1 {failed},")} 2 bad input, 3 internal error.{(more is null ? string.Empty : " " + more)}\n\nExample: {example}";
}
