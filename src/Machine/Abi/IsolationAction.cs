using System.Collections.Immutable;

namespace TaskIsolation.Machine.Abi;

/// <summary>
/// One thing the kernel does when a task's isolation is at stake, in a closed set. A decision returns these in the
/// order the kernel does them, because the order is observable: v13 logs, then clears the flags, then signals
/// (<c>task_isolation_deliver_signal()</c>); v16 clears and signals first and logs after.
/// </summary>
public abstract record IsolationAction
{
    private IsolationAction()
    {
    }

    /// <summary>Print a kernel message.</summary>
    /// <param name="Line">The message.</param>
    public sealed record Log(KernelLogLine Line) : IsolationAction;

    /// <summary>
    /// Clear the task's isolation flags and <c>TIF_TASK_ISOLATION</c> (<c>task_isolation_set_flags(task, 0)</c>;
    /// v16's <c>stop_isolation()</c>, which also resets the state to NORMAL).
    /// </summary>
    public sealed record ClearFlags : IsolationAction
    {
        private ClearFlags()
        {
        }

        /// <summary>The one instance.</summary>
        public static ClearFlags Instance { get; } = new();
    }

    /// <summary>Send <paramref name="Signal"/> to the task (<c>send_sig_info()</c>).</summary>
    /// <param name="Signal">The signal number, never 0.</param>
    public sealed record SendSignal(int Signal) : IsolationAction;

    /// <summary>Print a stack backtrace (<c>dump_stack()</c>).</summary>
    public sealed record DumpStack : IsolationAction
    {
        private DumpStack()
        {
        }

        /// <summary>The one instance.</summary>
        public static DumpStack Instance { get; } = new();

        /// <summary>
        /// The first line <c>dump_stack()</c> prints (<c>dump_stack_print_info()</c>):
        /// <c>CPU: &lt;cpu&gt; PID: &lt;pid&gt; Comm: &lt;comm&gt; Not tainted 4.7.0 #1</c>, naming the CPU it runs on and
        /// the task current there. The release string is the model's kernel, 4.7.0, untainted.
        /// </summary>
        public static string Header(int cpu, TaskIdentity current) =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"CPU: {cpu} PID: {current.Pid} Comm: {current.Comm} Not tainted 4.7.0 #1");
    }
}

/// <summary>
/// The ordered actions of one decision, with value equality over the sequence (an <see cref="ImmutableArray{T}"/>
/// alone compares by reference).
/// </summary>
public sealed record IsolationResponse
{
    /// <summary>A response of the given actions, in order.</summary>
    public IsolationResponse(IEnumerable<IsolationAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        Actions = [.. actions];
    }

    /// <summary>Nothing to do.</summary>
    public static IsolationResponse None { get; } = new([]);

    /// <summary>The actions, in the order the kernel performs them.</summary>
    public ImmutableArray<IsolationAction> Actions { get; }

    /// <summary>True when there is nothing to do.</summary>
    public bool IsEmpty => Actions.IsEmpty;

    /// <summary>The kernel messages, in order.</summary>
    public IEnumerable<KernelLogLine> LogLines => Actions.OfType<IsolationAction.Log>().Select(l => l.Line);

    /// <summary>Whether the task's isolation flags are cleared.</summary>
    public bool ClearsFlags => Actions.OfType<IsolationAction.ClearFlags>().Any();

    /// <summary>The signal sent, or null when none is.</summary>
    public int? SignalSent => Actions.OfType<IsolationAction.SendSignal>().Select(s => (int?)s.Signal).FirstOrDefault();

    /// <summary>Whether a stack backtrace is printed.</summary>
    public bool DumpsStack => Actions.OfType<IsolationAction.DumpStack>().Any();

    /// <inheritdoc />
    public bool Equals(IsolationResponse? other) =>
        other is not null && Actions.SequenceEqual(other.Actions);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var a in Actions)
        {
            h.Add(a);
        }

        return h.ToHashCode();
    }

    /// <summary>The actions, e.g. <c>Log(...), ClearFlags, SendSignal(9)</c>.</summary>
    public override string ToString() => string.Join(", ", Actions.Select(Describe));

    private static string Describe(IsolationAction a) => a switch
    {
        IsolationAction.Log l => $"Log({l.Line.Text})",
        IsolationAction.ClearFlags => "ClearFlags",
        IsolationAction.SendSignal s => $"SendSignal({Signal.Name(s.Signal)})",
        IsolationAction.DumpStack => "DumpStack",
        _ => a.GetType().Name,
    };
}
