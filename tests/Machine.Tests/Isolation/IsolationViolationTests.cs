using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Isolation;

namespace TaskIsolation.Machine.Tests.Isolation;

/// <summary>Which taken interrupt is an isolation violation (docs/model.md §7).</summary>
public class IsolationViolationTests
{
    public static TheoryData<InterruptSource> Violating => new()
    {
        TimerExpiry.Tick,
        TimerExpiry.ResidualTick,
        TimerExpiry.StaleTimer,
        TimerExpiry.Nanosleep,
        new TickDependencyKick(TickDep.PosixTimer, Remote: true),
        new RescheduleIpi(RescheduleReason.NewTask),
        new RescheduleIpi(RescheduleReason.Migration),
        new RescheduleIpi(RescheduleReason.ChildExit),
        new WorkWakeup(WorkFunction.VmstatUpdate),
        new WorkWakeup(WorkFunction.LruAddDrainPerCpu),
        TlbShootdown.Instance,
        new DeviceInterrupt(24, "eth0"),
        NonMaskableInterrupt.Instance,
    };

    [Theory]
    [MemberData(nameof(Violating))]
    public void An_asynchronous_interrupt_reaching_an_isolated_task_in_user_mode_is_a_violation(InterruptSource source)
    {
        Assert.True(IsolationViolation.IsViolation(CpuState.UserIsolated, source));
    }

    [Theory]
    [InlineData(CpuState.Idle)]
    [InlineData(CpuState.Kernel)]
    [InlineData(CpuState.ReturnEnter)]
    [InlineData(CpuState.ReturnReady)]
    [InlineData(CpuState.User)]
    public void Outside_isolated_user_mode_nothing_is_a_violation(CpuState state)
    {
        Assert.False(IsolationViolation.IsViolation(state, TlbShootdown.Instance));
        Assert.False(IsolationViolation.IsViolation(state, TimerExpiry.Tick));
    }

    [Fact]
    public void A_signal_the_user_sent_is_a_notification_not_a_violation()
    {
        Assert.False(IsolationViolation.IsViolation(CpuState.UserIsolated, new SignalWakeup(Signal.SIGUSR1)));
    }

    [Fact]
    public void The_kernels_own_report_of_a_counted_break_is_not_a_second_violation()
    {
        Assert.False(IsolationViolation.IsViolation(CpuState.UserIsolated, new RescheduleIpi(RescheduleReason.IsolationReport)));
    }
}
