using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Machine.Tests.Kernel;

public sealed class ExitToUserTests
{
    [Fact]
    public void With_no_work_flag_the_iret_goes_straight_back() =>
        Assert.False(ExitToUser.HasWork(needResched: false, workQueued: false, signalPending: false, tifTaskIsolation: false));

    [Theory]
    [InlineData(true, false, false, false)]
    [InlineData(false, true, false, false)] // a kworker item needs the CPU to schedule
    [InlineData(false, false, true, false)]
    [InlineData(false, false, false, true)] // TIF_TASK_ISOLATION alone: an isolated task always runs the loop
    public void Any_work_flag_enters_the_loop(bool needResched, bool workQueued, bool signalPending, bool isolated) =>
        Assert.True(ExitToUser.HasWork(needResched, workQueued, signalPending, isolated));

    [Fact]
    public void The_final_check_is_decided_in_advance_only_with_no_flag_no_isolation_and_no_prctl_waiting() =>
        Assert.True(ExitToUser.CheckFindsNothing(needResched: false, workQueued: false, signalPending: false, isolationFlags: 0, prctlInFlight: false));

    [Theory]
    [InlineData(true, false, false, 0u, false)]
    [InlineData(false, true, false, 0u, false)]
    [InlineData(false, false, true, 0u, false)]
    [InlineData(false, false, false, 1u, false)] // isolated: task_isolation_ready() decides at the check
    [InlineData(false, false, false, 2u, false)] // flags without ENABLE: a remote clear of them may still come in
    [InlineData(false, false, false, 0u, true)] // the enabling prctl returns at the check
    public void Anything_the_check_would_act_on_leaves_it_to_run(bool needResched, bool workQueued, bool signalPending, uint flags, bool prctl) =>
        Assert.False(ExitToUser.CheckFindsNothing(needResched, workQueued, signalPending, flags, prctl));
}
