using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Machine.Tests.Kernel;

public sealed class PosixCpuTimersTests
{
    private static readonly TaskStruct Task = new() { Pid = 101, Tgid = 101, Comm = "iso", Affinity = CpuMask.Single(4, 3), CpuTimeNs = 2_000 };

    [Fact]
    public void A_timer_expires_after_that_much_more_cpu_time_of_the_task()
    {
        var armed = PosixCpuTimers.Arm(Task, 1_000, Signal.SIGALRM, perProcess: false);

        Assert.Equal(3_000, armed.PosixTimerAtCpuNs);
        Assert.Equal(Signal.SIGALRM, armed.PosixTimerSignal);
        Assert.False(PosixCpuTimers.Expired(armed with { CpuTimeNs = 2_999 }));
        Assert.True(PosixCpuTimers.Expired(armed with { CpuTimeNs = 3_000 }));
        Assert.False(PosixCpuTimers.Expired(Task with { CpuTimeNs = long.MaxValue })); // nothing armed
    }

    [Fact]
    public void Only_the_first_armed_thread_timer_newly_sets_the_task_dependency()
    {
        Assert.True(PosixCpuTimers.SetsTaskDependency(Task));
        Assert.False(PosixCpuTimers.SetsTaskDependency(PosixCpuTimers.Arm(Task, 1_000, Signal.SIGALRM, perProcess: false)));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)] // check_process_timers(): tick_dep_clear_signal(POSIX_TIMER)
    public void Firing_disarms_and_a_process_timer_clears_the_process_bit(bool perProcess, bool clears)
    {
        var (t, clearsProcess) = PosixCpuTimers.Disarm(PosixCpuTimers.Arm(Task, 1_000, Signal.SIGALRM, perProcess));

        Assert.Equal(clears, clearsProcess);
        Assert.Equal(0, t.PosixTimerAtCpuNs);
        Assert.False(t.PosixTimerPerProcess);
    }

    [Theory]
    [InlineData(true, 1, true)]
    [InlineData(true, 0, false)] // the process holds no bit
    [InlineData(false, 1, false)] // this task armed nothing
    public void A_task_exiting_with_an_armed_timer_clears_its_processs_bit(bool armed, int processDeps, bool clears)
    {
        var t = armed ? PosixCpuTimers.Arm(Task, 1_000, Signal.SIGALRM, perProcess: true) : Task;

        Assert.Equal(clears, PosixCpuTimers.ExitClearsProcessDependency(t, processDeps));
    }
}
