using TaskIsolation.Machine.Abi.Tick;

namespace TaskIsolation.Machine.Tests.Abi;

public class SchedTickTests
{
    [Theory]
    [InlineData(0, 0, 0, 0, true)]
    [InlineData(1, 0, 0, 0, true)]
    [InlineData(2, 0, 0, 0, false)]
    [InlineData(0, 0, 0, 1, false)]
    [InlineData(1, 0, 1, 0, true)]
    [InlineData(0, 0, 2, 0, false)]
    [InlineData(3, 1, 0, 0, true)]
    [InlineData(0, 2, 0, 0, true)]
    [InlineData(0, 1, 2, 0, false)]
    [InlineData(0, 1, 1, 0, true)]
    public void Sched_can_stop_tick_follows_the_policy_counts(int normal, int fifo, int rr, int deadline, bool canStop) =>
        Assert.Equal(canStop, SchedTick.CanStopTick(new RunqueueCounts(normal, fifo, rr, deadline)));

    [Fact]
    public void A_second_runnable_normal_task_sets_the_sched_bit_on_a_nohz_full_cpu()
    {
        Assert.Equal(SchedDepUpdate.Set, SchedTick.Update(new RunqueueCounts(2), cpuIsNohzFull: true));
        Assert.Equal(SchedDepUpdate.Clear, SchedTick.Update(new RunqueueCounts(1), cpuIsNohzFull: true));
        Assert.Equal(SchedDepUpdate.None, SchedTick.Update(new RunqueueCounts(2), cpuIsNohzFull: false));
    }

    [Fact]
    public void Nr_running_counts_every_class()
    {
        Assert.Equal(10, new RunqueueCounts(1, 2, 3, 4).NrRunning);
    }
}
