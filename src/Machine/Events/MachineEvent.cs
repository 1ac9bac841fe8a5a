namespace TaskIsolation.Machine.Events;

/// <summary>What a CPU was doing when something happened to it (docs/model.md §4, and the coverage states of exploration).</summary>
public enum CpuState
{
    /// <summary>Idle task, no work.</summary>
    Idle,

    /// <summary>In the kernel: syscall, exception, scheduler, kworker.</summary>
    Kernel,

    /// <summary>Return-to-user loop, the <c>task_isolation_enter()</c> part (interrupts on).</summary>
    ReturnEnter,

    /// <summary>Return-to-user loop, past <c>task_isolation_ready()</c> on the way out (interrupts off).</summary>
    ReturnReady,

    /// <summary>User mode, no isolation.</summary>
    User,

    /// <summary>User mode with task isolation enabled: nothing may interrupt it.</summary>
    UserIsolated,
}

/// <summary>A task as events name it: <c>comm/pid</c>.</summary>
/// <param name="Pid">Process id (thread id).</param>
/// <param name="Comm">Command name.</param>
public sealed record TaskRef(int Pid, string Comm)
{
    /// <inheritdoc />
    public override string ToString() => $"{Comm}/{Pid}";
}

/// <summary>
/// Every event of interest on the machine's event stream. <see cref="Id"/> is unique in the run, and
/// <see cref="Cause"/> names the event that led to this one (0 for a root), so any event's causal chain can be walked
/// back to its root.
/// </summary>
/// <param name="Id">Unique, increasing in creation order.</param>
/// <param name="Time">Virtual time in nanoseconds since boot.</param>
/// <param name="Cpu">The CPU it happened on (-1 when none).</param>
/// <param name="Cause">Id of the causing event, 0 for a root.</param>
public abstract record MachineEvent(long Id, long Time, int Cpu, long Cause)
{
    /// <summary>One line, for traces and causal chains: what happened, without time and CPU.</summary>
    public abstract string What { get; }

    /// <summary>The trace line: time, CPU, id, cause and <see cref="What"/>. Stable across runs: determinism is checked on it.</summary>
    public string ToTraceLine() =>
        FormattableString.Invariant($"{Time,14} cpu{Cpu,-3} #{Id} <#{Cause} {GetType().Name} {What}");
}
