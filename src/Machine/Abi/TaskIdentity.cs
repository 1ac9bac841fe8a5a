namespace TaskIsolation.Machine.Abi;

/// <summary>
/// A task as the kernel names it in messages: <c>comm</c> and <c>pid</c>, printed <c>&lt;comm&gt;/&lt;pid&gt;</c>.
/// </summary>
public readonly record struct TaskIdentity
{
    /// <summary>
    /// <c>TASK_COMM_LEN</c> − 1: the kernel keeps at most 15 characters of a command name
    /// (<c>__set_task_comm()</c> copies with <c>strlcpy</c> into 16 bytes).
    /// </summary>
    public const int MaxCommLength = 15;

    /// <summary>A task; <paramref name="comm"/> is cut to <see cref="MaxCommLength"/> characters as the kernel would.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="comm"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pid"/> is negative.</exception>
    public TaskIdentity(string comm, int pid)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentOutOfRangeException.ThrowIfNegative(pid);
        _comm = comm.Length > MaxCommLength ? comm[..MaxCommLength] : comm;
        Pid = pid;
    }

    private readonly string? _comm;

    /// <summary>The command name (<c>task-&gt;comm</c>); empty for a default value.</summary>
    public string Comm => _comm ?? string.Empty;

    /// <summary>The thread id (<c>task-&gt;pid</c>).</summary>
    public int Pid { get; }

    /// <summary><c>&lt;comm&gt;/&lt;pid&gt;</c>, as in <c>pr_warn("%s/%d: ...", task-&gt;comm, task-&gt;pid)</c>.</summary>
    public override string ToString() => $"{Comm}/{Pid}";
}
