namespace TaskIsolation.Machine.Arch;

/// <summary>
/// The numbers an architecture's ftrace interrupt events print as <c>vector=</c> (docs/model.md §11): the x86 IDT vectors
/// of <c>arch/x86/include/asm/irq_vectors.h</c> in 4.7.
/// </summary>
/// <param name="LocalTimer"><c>LOCAL_TIMER_VECTOR</c> (0xef = 239): the scheduler tick.</param>
/// <param name="Reschedule"><c>RESCHEDULE_VECTOR</c> (0xfd = 253).</param>
/// <param name="CallFunction"><c>CALL_FUNCTION_VECTOR</c> (0xfc = 252): TLB shootdowns and smp_call_function.</param>
/// <param name="IrqWork"><c>IRQ_WORK_VECTOR</c> (0xf6 = 246): the nohz tick-dependency kick.</param>
public sealed record TraceVectors(int LocalTimer, int Reschedule, int CallFunction, int IrqWork)
{
    /// <summary>The x86 vectors: 239, 253, 252, 246.</summary>
    public static TraceVectors X86 { get; } = new(239, 253, 252, 246);
}
