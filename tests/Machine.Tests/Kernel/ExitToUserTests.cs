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
}
