using TaskIsolation.Machine.Mm;

namespace TaskIsolation.Machine.Tests.Mm;

public sealed class VmstatTests
{
    [Fact]
    public void Dirtying_marks_the_diffs_and_arms_nothing()
    {
        var s = Vmstat.Dirtied(default);
        Assert.Equal(new VmstatState(Diffs: true, WorkPending: false), s);
        Assert.False(s.Idle);
        Assert.Equal(new VmstatState(true, true), Vmstat.Dirtied(new VmstatState(false, true)));
    }

    [Fact]
    public void Queueing_the_work_succeeds_only_when_it_is_not_pending_whatever_the_diffs()
    {
        Assert.Equal((new VmstatState(false, true), true), Vmstat.QueueWork(default));
        Assert.Equal((new VmstatState(true, true), true), Vmstat.QueueWork(new VmstatState(true, false)));
        Assert.Equal((new VmstatState(true, true), false), Vmstat.QueueWork(new VmstatState(true, true)));
    }

    [Fact]
    public void Vmstat_update_requeues_only_when_it_folded_something()
    {
        var busy = Vmstat.UpdateRan(new VmstatState(Diffs: true, WorkPending: true));
        Assert.Equal(new VmstatState(false, true), busy);
        var quiet = Vmstat.UpdateRan(busy);
        Assert.True(quiet.Idle);
    }

    [Fact]
    public void Quiet_sync_leaves_the_cpu_idle() => Assert.True(Vmstat.QuietSync().Idle);

    [Theory]
    [InlineData(true, false, false, false, true)]
    [InlineData(true, true, false, false, false)]
    [InlineData(false, false, false, false, false)]
    [InlineData(true, false, true, false, true)]
    [InlineData(true, false, true, true, false)]
    public void Shepherd_queues_work_where_diffs_wait_and_nothing_is_pending(bool diffs, bool pending, bool isolated, bool skip, bool queues) =>
        Assert.Equal(queues, Vmstat.ShepherdQueues(new VmstatState(diffs, pending), isolated, skip));
}
