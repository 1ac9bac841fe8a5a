using TaskIsolation.Machine.Boot;

namespace TaskIsolation.Machine.Abi;

/// <summary>
/// One message the kernel prints, without the trailing newline of its format string. A message may itself span
/// lines (an embedded <c>\n</c>); dmesg then shows each line with the same timestamp.
/// </summary>
/// <param name="Level">The printk level.</param>
/// <param name="Text">The formatted text.</param>
public sealed record KernelLogLine(KernelLogLevel Level, string Text)
{
    /// <summary>What the line reports when it is a task's loss of isolation (<c>... lost due to &lt;reason&gt;</c>), else null.</summary>
    public IsolationLoss? Loss { get; init; }

    /// <summary>
    /// The <c>pr_warn</c> that a task lost isolation: <paramref name="text"/> as the variant prints it, and what it
    /// says, typed (<paramref name="task"/> is the task the line names first).
    /// </summary>
    public static KernelLogLine Lost(string text, TaskIdentity task, string reason) =>
        new(KernelLogLevel.Warning, text) { Loss = new IsolationLoss(task, reason) };

    /// <summary>A <c>pr_warn</c> message.</summary>
    public static KernelLogLine Warn(string text) => new(KernelLogLevel.Warning, text);

    /// <summary>A <c>pr_err</c> message.</summary>
    public static KernelLogLine Err(string text) => new(KernelLogLevel.Err, text);

    /// <summary>
    /// The message as <c>dmesg</c> shows it when printed at <paramref name="ns"/> since boot: one
    /// <see cref="Dmesg.Format"/> line per line of the text, all with the same timestamp, as
    /// <c>msg_print_text()</c> prefixes every line of a record.
    /// </summary>
    public IReadOnlyList<string> ToDmesgLines(long ns) => [.. Text.Split('\n').Select(l => Dmesg.Format(ns, l))];

    /// <summary>The text.</summary>
    public override string ToString() => Text;
}

/// <summary>A task's loss of isolation as the kernel reports it.</summary>
/// <param name="Task">The task the message names (for v16's line covering several CPUs, the last target's).</param>
/// <param name="Reason">The reason the kernel passes (<c>signal</c>, <c>syscall 39</c>, <c>irq</c>, …), as it prints it.</param>
public sealed record IsolationLoss(TaskIdentity Task, string Reason);
