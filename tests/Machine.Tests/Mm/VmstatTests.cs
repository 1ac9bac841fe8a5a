using TaskIsolation.Machine.Mm;

namespace TaskIsolation.Machine.Tests.Mm;

public sealed class VmstatTests
{
    [Fact]
    public void Dirtying_an_idle_cpu_arms_the_work_once()
    {
        var (s, arm) = Vmstat.Dirtied(default);
        Assert.True(arm);
        Assert.False(s.Idle);
        var (again, armAgain) = Vmstat.Dirtied(s);
        Assert.False(armAgain);
        Assert.Equal(s, again);
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
