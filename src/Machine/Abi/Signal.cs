using System.Collections.Frozen;
using System.Globalization;

namespace TaskIsolation.Machine.Abi;

/// <summary>
/// Linux signal numbers. x86_64, arm64 and tile share these values (x86's <c>asm/signal.h</c> and
/// <c>asm-generic/signal.h</c> agree for 1–31); 32–64 are the real-time signals, which have no fixed names in the
/// kernel. Signal 0 is "no signal": what <c>PR_TASK_ISOLATION_NOSIG</c> selects.
/// </summary>
public static class Signal
{
    /// <summary>No signal (<c>kill(pid, 0)</c>; the NOSIG notification "signal").</summary>
    public const int None = 0;

    /// <summary>Hangup.</summary>
    public const int SIGHUP = 1;

    /// <summary>Interrupt.</summary>
    public const int SIGINT = 2;

    /// <summary>Quit.</summary>
    public const int SIGQUIT = 3;

    /// <summary>Illegal instruction.</summary>
    public const int SIGILL = 4;

    /// <summary>Trace trap.</summary>
    public const int SIGTRAP = 5;

    /// <summary>Abort.</summary>
    public const int SIGABRT = 6;

    /// <summary>Bus error.</summary>
    public const int SIGBUS = 7;

    /// <summary>Floating-point exception.</summary>
    public const int SIGFPE = 8;

    /// <summary>Kill, cannot be caught: the default task-isolation notification.</summary>
    public const int SIGKILL = 9;

    /// <summary>User signal 1: the selftest's catchable notification.</summary>
    public const int SIGUSR1 = 10;

    /// <summary>Segmentation violation.</summary>
    public const int SIGSEGV = 11;

    /// <summary>User signal 2.</summary>
    public const int SIGUSR2 = 12;

    /// <summary>Broken pipe.</summary>
    public const int SIGPIPE = 13;

    /// <summary>Alarm clock.</summary>
    public const int SIGALRM = 14;

    /// <summary>Termination.</summary>
    public const int SIGTERM = 15;

    /// <summary>Stack fault (unused).</summary>
    public const int SIGSTKFLT = 16;

    /// <summary>Child stopped or exited.</summary>
    public const int SIGCHLD = 17;

    /// <summary>Continue.</summary>
    public const int SIGCONT = 18;

    /// <summary>Stop, cannot be caught.</summary>
    public const int SIGSTOP = 19;

    /// <summary>Terminal stop.</summary>
    public const int SIGTSTP = 20;

    /// <summary>Background read from terminal.</summary>
    public const int SIGTTIN = 21;

    /// <summary>Background write to terminal.</summary>
    public const int SIGTTOU = 22;

    /// <summary>Urgent socket condition.</summary>
    public const int SIGURG = 23;

    /// <summary>CPU time limit exceeded.</summary>
    public const int SIGXCPU = 24;

    /// <summary>File size limit exceeded.</summary>
    public const int SIGXFSZ = 25;

    /// <summary>Virtual timer expired.</summary>
    public const int SIGVTALRM = 26;

    /// <summary>Profiling timer expired.</summary>
    public const int SIGPROF = 27;

    /// <summary>Window size change.</summary>
    public const int SIGWINCH = 28;

    /// <summary>I/O possible.</summary>
    public const int SIGIO = 29;

    /// <summary>Power failure.</summary>
    public const int SIGPWR = 30;

    /// <summary>Bad system call.</summary>
    public const int SIGSYS = 31;

    /// <summary>
    /// The first real-time signal in the kernel (<c>SIGRTMIN</c> = 32; glibc reserves two and starts its own at 34).
    /// Below it a signal is standard: at most one of each is pending (<c>legacy_queue()</c>); from it on each is queued.
    /// </summary>
    public const int RtMin = 32;

    /// <summary>The highest signal number (<c>_NSIG</c> = 64).</summary>
    public const int Max = 64;

    private static readonly FrozenDictionary<int, string> Names = new Dictionary<int, string>
    {
        [SIGHUP] = nameof(SIGHUP),
        [SIGINT] = nameof(SIGINT),
        [SIGQUIT] = nameof(SIGQUIT),
        [SIGILL] = nameof(SIGILL),
        [SIGTRAP] = nameof(SIGTRAP),
        [SIGABRT] = nameof(SIGABRT),
        [SIGBUS] = nameof(SIGBUS),
        [SIGFPE] = nameof(SIGFPE),
        [SIGKILL] = nameof(SIGKILL),
        [SIGUSR1] = nameof(SIGUSR1),
        [SIGSEGV] = nameof(SIGSEGV),
        [SIGUSR2] = nameof(SIGUSR2),
        [SIGPIPE] = nameof(SIGPIPE),
        [SIGALRM] = nameof(SIGALRM),
        [SIGTERM] = nameof(SIGTERM),
        [SIGSTKFLT] = nameof(SIGSTKFLT),
        [SIGCHLD] = nameof(SIGCHLD),
        [SIGCONT] = nameof(SIGCONT),
        [SIGSTOP] = nameof(SIGSTOP),
        [SIGTSTP] = nameof(SIGTSTP),
        [SIGTTIN] = nameof(SIGTTIN),
        [SIGTTOU] = nameof(SIGTTOU),
        [SIGURG] = nameof(SIGURG),
        [SIGXCPU] = nameof(SIGXCPU),
        [SIGXFSZ] = nameof(SIGXFSZ),
        [SIGVTALRM] = nameof(SIGVTALRM),
        [SIGPROF] = nameof(SIGPROF),
        [SIGWINCH] = nameof(SIGWINCH),
        [SIGIO] = nameof(SIGIO),
        [SIGPWR] = nameof(SIGPWR),
        [SIGSYS] = nameof(SIGSYS),
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, int> Numbers =
        Names.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="sig"/> is 0 or a real signal number (1–64).</summary>
    public static bool IsValid(int sig) => sig is >= 0 and <= Max;

    /// <summary>
    /// The name of <paramref name="sig"/> for printing: <c>SIGUSR1</c> for 10; the decimal number for 0 and for
    /// the unnamed real-time signals (32–64) and anything out of range.
    /// </summary>
    public static string Name(int sig) =>
        Names.TryGetValue(sig, out var name) ? name : sig.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The number for <c>SIGUSR1</c>, <c>usr1</c> (the <c>SIG</c> prefix is optional, case is ignored), or a
    /// decimal number 0–64.
    /// </summary>
    public static bool TryParse(string? text, out int sig)
    {
        sig = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (Numbers.TryGetValue(text, out sig) || Numbers.TryGetValue("SIG" + text, out sig))
        {
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && IsValid(n))
        {
            sig = n;
            return true;
        }

        return false;
    }

    /// <summary>As <see cref="TryParse"/>, throwing on failure.</summary>
    /// <exception cref="FormatException">Neither a known name nor a number 0–64.</exception>
    public static int Parse(string text) =>
        TryParse(text, out var sig) ? sig : throw new FormatException($"not a signal name or number: '{text}'");
}
