namespace TaskIsolation.Machine.Arch;

/// <summary>Which tracepoints an arch's interrupt handlers are traced with (<see cref="ArchInfo.IrqTraceStyle"/>).</summary>
public enum IrqTraceStyle
{
    /// <summary>
    /// x86's <c>arch/x86/include/asm/trace/irq_vectors.h</c>: <c>local_timer_entry</c>/<c>_exit</c>,
    /// <c>reschedule_entry</c>/<c>_exit</c>, <c>call_function_entry</c>/<c>_exit</c>, <c>irq_work_entry</c>/<c>_exit</c>,
    /// each <c>vector=%d</c>,
    /// traced inside the handler (before <c>irq_exit()</c>).
    /// </summary>
    X86Vectors,

    /// <summary>
    /// arm64: <c>handle_IPI()</c> traces <c>ipi_entry</c>/<c>ipi_exit</c> with <c>ipi_types[ipinr]</c> around the whole
    /// IPI (its <c>irq_exit()</c> included); the arch timer is a per-CPU interrupt traced by the generic IRQ layer as
    /// <c>irq_handler_entry</c>/<c>irq_handler_exit</c>.
    /// </summary>
    Arm64Ipi,
}
