using System.Globalization;

namespace TaskIsolation.Machine.Abi;

/// <summary>
/// A task's isolation flags word, as passed to and returned by the prctl (<c>task-&gt;task_isolation_flags</c>).
/// Bit 0 enables isolation, bit 1 asks for a user-chosen signal, bits 8–14 hold that signal (docs/model.md §6).
/// </summary>
/// <param name="Word">The raw word.</param>
public readonly record struct IsolationFlags(uint Word)
{
    /// <summary><c>PR_TASK_ISOLATION_ENABLE</c> (1 &lt;&lt; 0).</summary>
    public const uint EnableBit = 1u << 0;

    /// <summary><c>PR_TASK_ISOLATION_USERSIG</c> (1 &lt;&lt; 1), added by patch 11 of the v13 series.</summary>
    public const uint UserSigBit = 1u << 1;

    /// <summary>
    /// <c>PR_TASK_ISOLATION_NOSIG</c> = <c>USERSIG | SET_SIG(0)</c>: "notify me with signal 0", i.e. never signal;
    /// the kernel then only warns and keeps the task isolated (patch 12).
    /// </summary>
    public const uint NoSigBits = UserSigBit;

    /// <summary>No flags: isolation off.</summary>
    public static IsolationFlags None => default;

    /// <summary><c>PR_TASK_ISOLATION_ENABLE</c> alone: isolation on, SIGKILL on a violation.</summary>
    public static IsolationFlags Enabled => new(EnableBit);

    /// <summary><c>ENABLE | NOSIG</c>: isolation on, never signalled.</summary>
    public static IsolationFlags EnabledNoSig => new(EnableBit | NoSigBits);

    /// <summary><c>ENABLE | USERSIG | SET_SIG(sig)</c>: isolation on, notified with <paramref name="sig"/>.</summary>
    public static IsolationFlags EnabledWithSignal(int sig) => new(EnableBit | UserSigBit | SetSig(sig));

    /// <summary><c>PR_TASK_ISOLATION_SET_SIG(sig)</c> = <c>(sig &amp; 0x7f) &lt;&lt; 8</c>.</summary>
    public static uint SetSig(int sig) => (uint)(sig & 0x7f) << 8;

    /// <summary><c>PR_TASK_ISOLATION_GET_SIG(bits)</c> = <c>(bits &gt;&gt; 8) &amp; 0x7f</c>.</summary>
    public static int GetSig(uint word) => (int)((word >> 8) & 0x7f);

    /// <summary>Whether <c>ENABLE</c> is set; the thread flag <c>TIF_TASK_ISOLATION</c> follows it.</summary>
    public bool Enable => (Word & EnableBit) != 0;

    /// <summary>Whether <c>USERSIG</c> is set.</summary>
    public bool UserSig => (Word & UserSigBit) != 0;

    /// <summary>The signal field, <c>GET_SIG(flags)</c>, whether or not <c>USERSIG</c> is set.</summary>
    public int SignalField => GetSig(Word);

    /// <summary>
    /// The v13 notification signal: <c>GET_SIG(flags)</c> with <c>USERSIG</c>, else <c>SIGKILL</c>
    /// (<c>task_isolation_sig()</c> in <c>kernel/isolation.c</c>). 0 means NOSIG mode.
    /// </summary>
    public int NotificationSignal => UserSig ? SignalField : Signal.SIGKILL;

    /// <summary>NOSIG mode: the v13 notification signal is 0, so violations warn but never signal.</summary>
    public bool IsNoSig => NotificationSignal == Signal.None;

    /// <summary>
    /// The word as its C spelling, e.g. <c>ENABLE|USERSIG|SET_SIG(SIGUSR1)</c>, <c>ENABLE|NOSIG</c>, <c>0</c>;
    /// unknown bits are appended in hex.
    /// </summary>
    public override string ToString()
    {
        if (Word == 0)
        {
            return "0";
        }

        var parts = new List<string>(4);
        if (Enable)
        {
            parts.Add("ENABLE");
        }

        if (UserSig && SignalField == 0)
        {
            parts.Add("NOSIG");
        }
        else
        {
            if (UserSig)
            {
                parts.Add("USERSIG");
            }

            if (SignalField != 0)
            {
                parts.Add($"SET_SIG({Signal.Name(SignalField)})");
            }
        }

        var rest = Word & ~(EnableBit | UserSigBit | SetSig(0x7f));
        if (rest != 0)
        {
            parts.Add("0x" + rest.ToString("x", CultureInfo.InvariantCulture));
        }

        return string.Join('|', parts);
    }
}
