using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Mm;

namespace TaskIsolation.Machine.Tests.Mm;

public sealed class TlbFlushTests
{
    private const int Mm = 101;

    private static KernelMemory Running(params int[] cpus)
    {
        var memory = new KernelMemory(4);
        foreach (var cpu in cpus)
        {
            TlbFlush.SwitchMm(memory, cpu, 0, Mm);
        }

        return memory;
    }

    [Fact]
    public void A_shootdown_interrupts_every_other_cpu_of_the_mm_in_ascending_order()
    {
        Assert.Equal([1, 3], TlbFlush.Targets(flushUsesIpi: true, Running(3, 0, 1), Mm, callerCpu: 0, deferredTlbFlush: false));
    }

    [Fact]
    public void An_arch_that_broadcasts_tlbi_interrupts_no_one()
    {
        Assert.Empty(TlbFlush.Targets(flushUsesIpi: false, Running(0, 1, 3), Mm, callerCpu: 0, deferredTlbFlush: false));
    }

    [Theory]
    [InlineData(false, new[] { 1, 3 })] // 4.7: the isolated CPU in user space is interrupted (R9)
    [InlineData(true, new[] { 1 })] // R9's proposal: it flushes at its next kernel entry instead
    public void Deferral_skips_only_a_cpu_whose_isolated_task_runs_in_user_space(bool deferred, int[] expected)
    {
        var memory = Running(0, 1, 3);
        memory.Cpu(3).Quiesced = true;

        Assert.Equal(expected, TlbFlush.Targets(flushUsesIpi: true, memory, Mm, callerCpu: 0, deferredTlbFlush: deferred));
    }

    [Fact]
    public void Switch_mm_moves_the_cpu_to_the_next_tasks_mm()
    {
        var memory = Running(2);

        TlbFlush.SwitchMm(memory, 2, Mm, 202);

        Assert.Empty(memory.Mm(Mm).Snapshot());
        Assert.Equal([2], memory.Mm(202).Snapshot());
    }

    [Theory]
    [InlineData(0)] // idle or a kworker borrows the mm lazily
    [InlineData(Mm)] // another thread of the same process
    public void Switching_to_a_task_without_its_own_other_mm_keeps_the_bit(int nextMm)
    {
        var memory = Running(2);

        TlbFlush.SwitchMm(memory, 2, Mm, nextMm);

        Assert.Equal([2], memory.Mm(Mm).Snapshot());
    }
}
