using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Machine.Mm;

/// <summary>
/// TLB shootdowns and the address-space CPU mask they follow (<c>arch/x86/mm/tlb.c</c>): which CPUs a flush interrupts,
/// and how a context switch moves a CPU in and out of <c>mm_cpumask()</c> (docs/model.md §9 R9).
/// </summary>
public static class TlbFlush
{
    /// <summary>
    /// <c>flush_tlb_mm_range()</c> → <c>native_flush_tlb_others()</c>: after the local flush, a call-function IPI to
    /// every other CPU in the mm's cpumask (x86, tile), ascending. arm64 broadcasts a TLBI instead and interrupts no one.
    /// With R9's proposed deferral, a CPU whose isolated task runs in user space (<see cref="PerCpuShared.Quiesced"/>, read
    /// racily) is skipped: it flushes at its next kernel entry.
    /// </summary>
    /// <param name="flushUsesIpi">Whether the architecture flushes remote TLBs by IPI.</param>
    /// <param name="memory">The racily shared kernel memory.</param>
    /// <param name="mm">The address space.</param>
    /// <param name="callerCpu">The CPU flushing.</param>
    /// <param name="deferredTlbFlush">R9's proposal (<see cref="ModelSwitches.DeferredTlbFlush"/>).</param>
    public static List<int> Targets(bool flushUsesIpi, KernelMemory memory, int mm, int callerCpu, bool deferredTlbFlush)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var targets = new List<int>();
        if (!flushUsesIpi)
        {
            return targets;
        }

        foreach (var cpu in memory.Mm(mm).Snapshot())
        {
            if (cpu != callerCpu && !(deferredTlbFlush && memory.Cpu(cpu).Quiesced))
            {
                targets.Add(cpu);
            }
        }

        return targets;
    }

    /// <summary>
    /// <c>context_switch()</c> → <c>switch_mm()</c> (4.7 x86): a CPU leaves the previous address space's cpumask only
    /// when the next task has another one, and joins the next task's. A task with no mm of its own (0, a kernel thread)
    /// borrows the previous one lazily (<c>enter_lazy_tlb()</c>), so the CPU keeps its bit; so does the model's idle and
    /// kworker, which the caller does not switch to at all (it passes the mm it left with the next real task).
    /// </summary>
    /// <param name="memory">The racily shared kernel memory.</param>
    /// <param name="cpu">The CPU switching.</param>
    /// <param name="prevMm">The address space of the task switched out (0: none).</param>
    /// <param name="nextMm">The address space of the task switched in (0: none).</param>
    public static void SwitchMm(KernelMemory memory, int cpu, int prevMm, int nextMm)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (nextMm == 0)
        {
            return;
        }

        if (prevMm != 0 && prevMm != nextMm)
        {
            memory.Mm(prevMm).Remove(cpu);
        }

        memory.Mm(nextMm).Add(cpu);
    }
}
