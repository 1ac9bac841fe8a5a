using System.Globalization;

namespace TaskIsolation.Machine.Trace;

/// <summary>The interrupt context an event was recorded in (the third latency-format character).</summary>
public enum IrqContext
{
    /// <summary>Task context: <c>.</c>.</summary>
    None,

    /// <summary>Softirq: <c>s</c>.</summary>
    SoftIrq,

    /// <summary>Hardirq: <c>h</c>.</summary>
    HardIrq,

    /// <summary>Hardirq that interrupted a softirq: <c>H</c>.</summary>
    HardIrqInSoftIrq,

    /// <summary>NMI: <c>z</c>.</summary>
    Nmi,

    /// <summary>NMI that interrupted a hardirq: <c>Z</c>.</summary>
    NmiInHardIrq,
}

/// <summary>
/// The four latency-format characters ftrace prints after the CPU (<c>trace_print_lat_fmt()</c> in
/// <c>kernel/trace/trace_output.c</c>): irqs-off <c>d</c>/<c>.</c>, need-resched <c>N</c>/<c>.</c>, irq context
/// (<c>h</c>, <c>s</c>, <c>H</c>, <c>z</c>, <c>Z</c>, <c>.</c>), preempt depth.
/// </summary>
/// <param name="IrqsOff">Interrupts were disabled.</param>
/// <param name="NeedResched">
/// Need-resched was set. 4.7 prints <c>N</c> when both TIF_NEED_RESCHED and the preempt-count bit are set (the usual
/// case on x86, where setting one folds into the other), <c>n</c>/<c>p</c> for one alone; the model has one bit.
/// </param>
/// <param name="Context">The interrupt context.</param>
/// <param name="PreemptCount">The preempt count; the entry keeps its low byte, printed in hex, <c>.</c> for 0.</param>
public readonly record struct TraceFlags(bool IrqsOff, bool NeedResched, IrqContext Context, int PreemptCount)
{
    /// <summary>Task context, interrupts on, nothing pending: <c>....</c>.</summary>
    public static TraceFlags TaskContext => default;

    /// <summary>A hardirq handler's usual flags: interrupts off, in hardirq, preempt count 1 (<c>d.h1</c>).</summary>
    public static TraceFlags HardIrqHandler => new(true, false, IrqContext.HardIrq, 1);

    /// <summary>The four characters, e.g. <c>d.h1</c>.</summary>
    public override string ToString()
    {
        var ctx = Context switch
        {
            IrqContext.None => '.',
            IrqContext.SoftIrq => 's',
            IrqContext.HardIrq => 'h',
            IrqContext.HardIrqInSoftIrq => 'H',
            IrqContext.Nmi => 'z',
            IrqContext.NmiInHardIrq => 'Z',
            _ => '?',
        };
        var pc = PreemptCount & 0xff;
        var depth = pc == 0 ? "." : pc.ToString("x", CultureInfo.InvariantCulture);
        return $"{(IrqsOff ? 'd' : '.')}{(NeedResched ? 'N' : '.')}{ctx}{depth}";
    }
}
