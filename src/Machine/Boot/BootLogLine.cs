namespace TaskIsolation.Machine.Boot;

/// <summary>One kernel log message: when (simulated nanoseconds since boot), at which level, and its text.</summary>
/// <param name="TimeNs">Simulated time since boot in nanoseconds.</param>
/// <param name="Level">The printk level.</param>
/// <param name="Message">The text, without the trailing newline.</param>
public sealed record BootLogLine(long TimeNs, KernelLogLevel Level, string Message)
{
    /// <summary>The line as <c>dmesg</c> shows it (<see cref="Dmesg.Format"/>).</summary>
    public override string ToString() => Dmesg.Format(TimeNs, Message);
}
