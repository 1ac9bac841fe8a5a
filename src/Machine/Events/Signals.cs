namespace TaskIsolation.Machine.Events;

/// <summary>Who or what generated a signal.</summary>
public enum SignalOrigin
{
    /// <summary>Another task's <c>kill()</c>.</summary>
    Kill,

    /// <summary>Task isolation's notification signal (a break of isolation).</summary>
    TaskIsolation,

    /// <summary>An expired POSIX CPU timer (<c>run_posix_cpu_timers()</c>).</summary>
    PosixTimerExpired,

    /// <summary><c>rt_sigreturn</c> found no frame to return to (<c>force_sig(SIGSEGV)</c>).</summary>
    BadFrame,
}

/// <summary>Why a signal was generated: its origin, and for a <c>kill()</c> the sender.</summary>
/// <param name="Origin">Who or what generated it.</param>
/// <param name="Sender">The task that called <c>kill()</c>, for <see cref="SignalOrigin.Kill"/>.</param>
public sealed record SignalReason(SignalOrigin Origin, TaskRef? Sender = null)
{
    /// <summary>Task isolation's signal.</summary>
    public static SignalReason TaskIsolation { get; } = new(SignalOrigin.TaskIsolation);

    /// <summary>A POSIX CPU timer's signal.</summary>
    public static SignalReason PosixTimerExpired { get; } = new(SignalOrigin.PosixTimerExpired);

    /// <summary>A bad signal frame's SIGSEGV.</summary>
    public static SignalReason BadFrame { get; } = new(SignalOrigin.BadFrame);

    /// <summary>A <c>kill()</c> by <paramref name="sender"/>.</summary>
    public static SignalReason KillFrom(TaskRef sender) => new(SignalOrigin.Kill, sender);

    /// <summary>The display text: <c>kill from hk/101</c>, <c>task isolation</c>, <c>POSIX CPU timer expired</c>, <c>bad frame</c>.</summary>
    public string Text => Origin switch
    {
        SignalOrigin.Kill => $"kill from {Sender}",
        SignalOrigin.TaskIsolation => "task isolation",
        SignalOrigin.PosixTimerExpired => "POSIX CPU timer expired",
        SignalOrigin.BadFrame => "bad frame",
        _ => throw new InvalidOperationException($"unknown signal origin {Origin}"),
    };

    /// <summary>The display text.</summary>
    public override string ToString() => Text;
}

/// <summary>What <c>get_signal()</c> did with a delivered signal.</summary>
public enum SignalAction
{
    /// <summary>Ran the task's handler (a signal frame was pushed).</summary>
    Handler,

    /// <summary>Dropped it: its default action is to ignore it.</summary>
    Ignored,

    /// <summary>Killed the task: its default action terminates.</summary>
    Terminate,
}

/// <summary>The display names of <see cref="SignalAction"/>s.</summary>
public static class SignalActions
{
    /// <summary><c>handler</c>, <c>ignored</c>, <c>terminate</c>.</summary>
    public static string Name(SignalAction action) => action switch
    {
        SignalAction.Handler => "handler",
        SignalAction.Ignored => "ignored",
        SignalAction.Terminate => "terminate",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, "unknown signal action"),
    };
}
