namespace TaskIsolation.Machine.Arch;

/// <summary>
/// The numbers an architecture's ftrace interrupt events print as <c>vector=</c> (docs/model.md §11): the x86 IDT vectors
/// of <c>arch/x86/include/asm/irq_vectors.h</c> in 4.7.
/// </summary>
/// <param name="LocalTimer"><c>LOCAL_TIMER_VECTOR</c> (0xef = 239): the scheduler tick.</param>
/// <param name="Reschedule"><c>RESCHEDULE_VECTOR</c> (0xfd = 253).</param>
/// <param name="CallFunction">
/// <c>CALL_FUNCTION_VECTOR</c> (0xfc = 252): TLB shootdowns and <c>smp_call_function_many()</c>, such as 4.7's
/// <c>tick_nohz_full_kick_all()</c> of the other nohz_full CPUs.
/// </param>
/// <param name="IrqWork"><c>IRQ_WORK_VECTOR</c> (0xf6 = 246): an irq_work raised on the CPU itself.</param>
public sealed record TraceVectors(int LocalTimer, int Reschedule, int CallFunction, int IrqWork)
{
    /// <summary>The x86 vectors: 239, 253, 252, 246.</summary>
    public static TraceVectors X86 { get; } = new(239, 253, 252, 246);
}
