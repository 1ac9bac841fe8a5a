using System.Globalization;
using System.Text;

namespace TaskIsolation.Machine.Trace;

/// <summary>One recorded event with its context: which task, which CPU, which flags, when.</summary>
/// <param name="Comm">The current task's comm.</param>
/// <param name="Pid">Its pid; 0 is the idle task.</param>
/// <param name="Cpu">The CPU.</param>
/// <param name="Flags">The latency-format flags.</param>
/// <param name="TimestampNs">Simulated time since boot, in nanoseconds.</param>
/// <param name="Event">The event.</param>
public sealed record TraceRecord(string Comm, int Pid, int Cpu, TraceFlags Flags, long TimestampNs, TraceEvent Event);

/// <summary>
/// The 4.7 ftrace text format of <c>/sys/kernel/tracing/trace</c> with <c>irq-info</c> on (the default), as
/// <c>trace_print_context()</c> writes it: <c>"%16s-%-5d [%03d] "</c>, the four flag characters,
/// <c>" %5lu.%06lu: "</c>, then <c>&lt;event&gt;: &lt;fields&gt;</c>. Pure: records in, text out.
/// </summary>
public static class FtraceFormatter
{
    /// <summary>
    /// One line, without a newline, e.g.
    /// <c>            spin-1234  [003] d.h1  1234.567890: local_timer_entry: vector=239</c>. The pid-0 task shows
    /// as <c>&lt;idle&gt;</c> (<c>trace_find_cmdline()</c>).
    /// </summary>
    public static string FormatLine(TraceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var comm = record.Pid == 0 ? "<idle>" : record.Comm;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{comm,16}-{record.Pid,-5} [{record.Cpu:D3}] {record.Flags} {FormatTimestamp(record.TimestampNs)}: {record.Event.EventName}: {record.Event.FormatFields()}");
    }

    /// <summary>
    /// <c>%5lu.%06lu</c> of the timestamp in microseconds, which ftrace rounds to the nearest microsecond
    /// (<c>ns2usecs()</c> adds 500 ns before dividing).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative time.</exception>
    public static string FormatTimestamp(long ns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ns);
        var usecs = (ns + 500) / 1000;
        return string.Create(CultureInfo.InvariantCulture, $"{usecs / 1_000_000,5}.{usecs % 1_000_000:D6}");
    }

    /// <summary>
    /// The header 4.7 prints above the events for the <c>nop</c> tracer with <c>irq-info</c> (from
    /// <c>print_trace_header</c>'s <c>print_event_info()</c> and <c>print_func_help_header_irq()</c>), each line ending
    /// in a newline.
    /// </summary>
    public static string Header(long entries, long written, int cpus)
    {
        var sb = new StringBuilder();
        sb.Append("# tracer: nop\n");
        sb.Append("#\n");
        sb.Append(CultureInfo.InvariantCulture, $"# entries-in-buffer/entries-written: {entries}/{written}   #P:{cpus}\n");
        sb.Append("#\n");
        sb.Append("#                              _-----=> irqs-off\n");
        sb.Append("#                             / _----=> need-resched\n");
        sb.Append("#                            | / _---=> hardirq/softirq\n");
        sb.Append("#                            || / _--=> preempt-depth\n");
        sb.Append("#                            ||| /     delay\n");
        sb.Append("#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION\n");
        sb.Append("#              | |       |   ||||       |         |\n");
        return sb.ToString();
    }
}
