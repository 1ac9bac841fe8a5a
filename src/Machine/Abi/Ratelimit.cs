namespace TaskIsolation.Machine.Abi;

/// <summary>
/// The kernel's <c>struct ratelimit_state</c> and <c>___ratelimit()</c> (<c>lib/ratelimit.c</c>) over simulated
/// nanoseconds, immutable: <see cref="Check"/> returns the verdict and the next state. At most
/// <see cref="Burst"/> messages pass per window of <see cref="IntervalNs"/>; the first check opens the window, and a
/// check more than one interval after the window opened starts a new one, reporting how many were suppressed.
/// </summary>
/// <remarks>
/// The kernel compares jiffies (<c>time_is_before_jiffies(begin + interval)</c>, strictly later); the model compares
/// nanoseconds the same way, so a check exactly one interval after the window opened is still inside it.
/// </remarks>
public sealed record RatelimitState
{
    /// <summary>A fresh state (<c>DEFINE_RATELIMIT_STATE(name, interval, burst)</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative interval or burst.</exception>
    public RatelimitState(long intervalNs, int burst)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(intervalNs);
        ArgumentOutOfRangeException.ThrowIfNegative(burst);
        IntervalNs = intervalNs;
        Burst = burst;
    }

    /// <summary>
    /// The limiter of <c>task_isolation_debug_task()</c>: <c>DEFINE_RATELIMIT_STATE(console_output, HZ, 1)</c>, one
    /// message per second (docs/model.md §7).
    /// </summary>
    public static RatelimitState TaskIsolationDebug { get; } = new(1_000_000_000L, 1);

    /// <summary>The window length; 0 disables limiting (every check passes).</summary>
    public long IntervalNs { get; }

    /// <summary>How many messages pass per window; 0 suppresses all.</summary>
    public int Burst { get; }

    /// <summary>When the current window opened, or null before the first check.</summary>
    public long? BeginNs { get; private init; }

    /// <summary>Messages passed in the current window.</summary>
    public int Printed { get; private init; }

    /// <summary>Messages suppressed since the last report.</summary>
    public int Missed { get; private init; }

    /// <summary>
    /// Whether a message at <paramref name="nowNs"/> may print, as <c>__ratelimit()</c>.
    /// </summary>
    public RatelimitVerdict Check(long nowNs)
    {
        if (IntervalNs == 0)
        {
            return new RatelimitVerdict(true, 0, this);
        }

        var begin = BeginNs ?? nowNs;
        var printed = Printed;
        var missed = Missed;
        var reported = 0;
        if (nowNs - begin > IntervalNs)
        {
            reported = missed;
            missed = 0;
            begin = nowNs;
            printed = 0;
        }

        bool allowed;
        if (Burst > printed)
        {
            printed++;
            allowed = true;
        }
        else
        {
            missed++;
            allowed = false;
        }

        return new RatelimitVerdict(allowed, reported, this with { BeginNs = begin, Printed = printed, Missed = missed });
    }
}

/// <summary>The outcome of one <see cref="RatelimitState.Check"/>.</summary>
/// <param name="Allowed">Whether the message prints.</param>
/// <param name="SuppressedReported">
/// When a new window opened with messages suppressed in the old one, how many: the kernel then prints
/// <c>&lt;func&gt;: &lt;n&gt; callbacks suppressed</c> (see <see cref="SuppressedMessage"/>); otherwise 0.
/// </param>
/// <param name="Next">The state after the check.</param>
public readonly record struct RatelimitVerdict(bool Allowed, int SuppressedReported, RatelimitState Next)
{
    /// <summary>
    /// The kernel's report of suppressed messages (<c>printk_deferred(KERN_WARNING "%s: %d callbacks suppressed\n")</c>,
    /// with the function that called <c>__ratelimit</c>), or null when there is none to print.
    /// </summary>
    public KernelLogLine? SuppressedMessage(string function) =>
        SuppressedReported > 0 ? KernelLogLine.Warn($"{function}: {SuppressedReported} callbacks suppressed") : null;
}
