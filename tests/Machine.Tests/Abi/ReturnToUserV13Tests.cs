using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.V13;

namespace TaskIsolation.Machine.Tests.Abi;

public class ReturnToUserV13Tests
{
    [Fact]
    public void Ready_when_lru_empty_vmstat_idle_and_tick_stopped()
    {
        Assert.True(ReturnToUserV13.Ready(lruBatchesEmpty: true, vmstatIdle: true, tickStopped: true));
    }

    [Theory]
    [InlineData(false, true, true)]
    [InlineData(true, false, true)]
    [InlineData(true, true, false)]
    public void Not_ready_when_any_condition_fails(bool lruEmpty, bool vmstatIdle, bool tickStopped) =>
        Assert.False(ReturnToUserV13.Ready(lruEmpty, vmstatIdle, tickStopped));

    [Fact]
    public void Vmstat_is_idle_only_with_no_work_pending_and_no_diffs()
    {
        Assert.True(ReturnToUserV13.VmstatIdle(workPending: false, hasDiffs: false));
        Assert.False(ReturnToUserV13.VmstatIdle(workPending: true, hasDiffs: false));
        Assert.False(ReturnToUserV13.VmstatIdle(workPending: false, hasDiffs: true));
    }

    [Fact]
    public void Blockers_name_every_failing_condition()
    {
        var stuck = new ReadinessSnapshot(LruBatchesEmpty: false, VmstatWorkPending: true, VmstatHasDiffs: true, TickStopped: false);

        Assert.Equal(
            ReadinessBlockers.LruBatches | ReadinessBlockers.VmstatWorkPending | ReadinessBlockers.VmstatDiffs | ReadinessBlockers.TickRunning,
            ReturnToUserV13.Blockers(stuck));
        Assert.False(ReturnToUserV13.Ready(stuck));
        Assert.True(ReturnToUserV13.Ready(new ReadinessSnapshot(true, false, false, true)));
    }

    [Fact]
    public void Enter_drains_lru_and_quiets_vmstat_every_time()
    {
        var a = ReturnToUserV13.Enter(tickStopped: true);

        Assert.True(a.DrainLru);
        Assert.True(a.QuietVmstatSync);
        Assert.False(a.SetNeedResched);
    }

    [Fact]
    public void Enter_requests_a_reschedule_while_the_tick_runs()
    {
        Assert.True(ReturnToUserV13.Enter(tickStopped: false).SetNeedResched);
    }

    [Theory]
    [InlineData(9_999_999, 10_000_000, false)]
    [InlineData(10_000_000, 10_000_000, true)]
    [InlineData(long.MaxValue, 0, false)]
    public void A_bounded_wait_expires_at_its_bound_and_a_zero_bound_never(long waited, long bound, bool expired)
    {
        Assert.Equal(expired, ReturnToUserV13.WaitExpired(waited, bound));
    }

    [Fact]
    public void Giving_up_a_signalled_task_logs_clears_and_signals_naming_what_blocked_it()
    {
        var r = ReturnToUserV13.GiveUp(new TaskIdentity("iso", 101), new IsolationFlags(IsolationFlags.EnableBit), ReadinessBlockers.TickRunning | ReadinessBlockers.VmstatDiffs);

        var log = Assert.IsType<IsolationAction.Log>(r.Actions[0]);
        Assert.Equal("iso/101: task_isolation mode lost due to return to user blocked by tick, vmstat", log.Line.Text);
        Assert.IsType<IsolationAction.ClearFlags>(r.Actions[1]);
        Assert.Equal(Signal.SIGKILL, r.SignalSent);
    }

    [Fact]
    public void Giving_up_a_nosig_task_logs_and_clears_without_a_signal()
    {
        var r = ReturnToUserV13.GiveUp(new TaskIdentity("iso", 101), IsolationFlags.EnabledNoSig, ReadinessBlockers.LruBatches);

        Assert.Equal(2, r.Actions.Length);
        Assert.Null(r.SignalSent);
        Assert.EndsWith("return to user blocked by lru", Assert.IsType<IsolationAction.Log>(r.Actions[0]).Line.Text, StringComparison.Ordinal);
    }
}
