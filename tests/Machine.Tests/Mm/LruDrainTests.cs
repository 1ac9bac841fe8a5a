using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Mm;

namespace TaskIsolation.Machine.Tests.Mm;

public sealed class LruDrainTests
{
    private static KernelMemory WithBatches(params int[] nonEmpty)
    {
        var memory = new KernelMemory(4);
        foreach (var cpu in nonEmpty)
        {
            memory.Cpu(cpu).LruNonEmpty = true;
        }

        return memory;
    }

    [Fact]
    public void V13_queues_the_drain_on_every_cpu_whose_batches_look_non_empty_the_callers_own_included()
    {
        var memory = WithBatches(0, 2, 3);
        memory.Cpu(3).Quiesced = true;
        memory.Cpu(3).RefuseNewWork(); // v13 has no such flag to look at

        Assert.Equal([0, 2, 3], LruDrain.AddDrainAllTargets(memory, callerCpu: 0, noNewDeferredWork: false));
    }

    [Fact]
    public void No_cpu_with_empty_batches_is_interrupted()
    {
        Assert.Empty(LruDrain.AddDrainAllTargets(WithBatches(), callerCpu: 1, noNewDeferredWork: false));
    }

    [Fact]
    public void Each_queued_remote_item_stays_counted_on_its_target_and_the_others_are_taken_back()
    {
        var memory = WithBatches(0, 2);

        LruDrain.AddDrainAllTargets(memory, callerCpu: 0, noNewDeferredWork: true);

        Assert.Equal(0, memory.Cpu(0).QueuedWork); // the caller's own item runs locally, uncounted
        Assert.Equal(0, memory.Cpu(1).QueuedWork);
        Assert.Equal(1, memory.Cpu(2).QueuedWork);
        Assert.Equal(0, memory.Cpu(3).QueuedWork);
    }

    [Fact]
    public void R7_mitigation_skips_a_cpu_that_refuses_new_work_and_takes_its_item_back()
    {
        var memory = WithBatches(2, 3);
        memory.Cpu(3).Quiesced = true;
        memory.Cpu(3).RefuseNewWork();

        Assert.Equal([2], LruDrain.AddDrainAllTargets(memory, callerCpu: 0, noNewDeferredWork: true));
        Assert.Equal(0, memory.Cpu(3).QueuedWork);
    }

    [Fact]
    public void A_cpu_that_left_user_space_takes_drain_work_again()
    {
        var memory = WithBatches(3);
        memory.Cpu(3).Quiesced = true;
        memory.Cpu(3).RefuseNewWork();
        memory.Cpu(3).Quiesced = false; // any kernel entry lowers the flag

        Assert.Equal([3], LruDrain.AddDrainAllTargets(memory, callerCpu: 0, noNewDeferredWork: true));
    }
}
