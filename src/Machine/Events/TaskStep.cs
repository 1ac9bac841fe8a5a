namespace TaskIsolation.Machine.Events;

/// <summary>The kinds of step a task's program takes (a scenario's operations).</summary>
public enum OperationKind
{
    /// <summary>User-mode work: no kernel entry.</summary>
    Compute,

    /// <summary>A plain system call (read, write, getpid, …).</summary>
    Syscall,

    /// <summary><c>prctl()</c>.</summary>
    Prctl,

    /// <summary><c>sched_setaffinity()</c>.</summary>
    SetAffinity,

    /// <summary>First touch of a page: a page fault the task itself takes.</summary>
    TouchPage,

    /// <summary>A misaligned access (trapped on tile only).</summary>
    UnalignedAccess,

    /// <summary><c>mmap()</c>.</summary>
    Mmap,

    /// <summary><c>munmap()</c>.</summary>
    Munmap,

    /// <summary><c>mlock()</c>.</summary>
    Mlock,

    /// <summary><c>timer_settime()</c> on a CPU-time clock.</summary>
    ArmPosixTimer,

    /// <summary><c>nanosleep()</c>.</summary>
    Sleep,

    /// <summary><c>kill()</c>.</summary>
    Kill,

    /// <summary><c>rt_sigaction()</c>.</summary>
    Sigaction,

    /// <summary><c>fork()</c>.</summary>
    Fork,

    /// <summary><c>clone()</c> of a thread.</summary>
    Clone,

    /// <summary><c>wait4()</c>.</summary>
    Wait,

    /// <summary><c>exit_group()</c>.</summary>
    Exit,

    /// <summary>A loop over other steps.</summary>
    Loop,

    /// <summary><c>rt_sigreturn()</c> at the end of a signal handler.</summary>
    Sigreturn,
}

/// <summary>A step of a task's program as events name it: its kind, and for a plain system call its name.</summary>
/// <param name="Kind">The kind of step.</param>
/// <param name="Syscall">A <see cref="OperationKind.Syscall"/> step's syscall name, when given by name.</param>
public sealed record TaskStep(OperationKind Kind, string? Syscall = null)
{
    // One shared instance per kind: a step starts at every program step, and these carry nothing else.
    private static readonly TaskStep[] Shared = [.. Enum.GetValues<OperationKind>().Select(k => new TaskStep(k))];

    /// <summary>The step of <paramref name="kind"/> with no syscall name (a shared instance).</summary>
    public static TaskStep Of(OperationKind kind) => Shared[(int)kind];

    /// <summary>
    /// The step's name, the first word of how it reads in a chain: <c>compute</c>, <c>fork</c>, <c>nanosleep</c>,
    /// <c>write</c> (a syscall's own name, <c>syscall</c> for one given by number).
    /// </summary>
    public string Name => Kind switch
    {
        OperationKind.Compute => "compute",
        OperationKind.Syscall => Syscall ?? "syscall",
        OperationKind.Prctl => "prctl",
        OperationKind.SetAffinity => "sched_setaffinity",
        OperationKind.TouchPage => "touch",
        OperationKind.UnalignedAccess => "unaligned access",
        OperationKind.Mmap => "mmap",
        OperationKind.Munmap => "munmap",
        OperationKind.Mlock => "mlock",
        OperationKind.ArmPosixTimer => "timer_settime",
        OperationKind.Sleep => "nanosleep",
        OperationKind.Kill => "kill",
        OperationKind.Sigaction => "sigaction",
        OperationKind.Fork => "fork",
        OperationKind.Clone => "clone",
        OperationKind.Wait => "wait4",
        OperationKind.Exit => "exit_group",
        OperationKind.Loop => "loop",
        OperationKind.Sigreturn => "rt_sigreturn",
        _ => throw new InvalidOperationException($"unknown operation kind {Kind}"),
    };

    /// <summary>The name.</summary>
    public override string ToString() => Name;
}
