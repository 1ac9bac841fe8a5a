using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Machine.Tests.Kernel;

public sealed class ForkTests
{
    private static readonly TaskStruct Parent = new()
    {
        Pid = 101,
        Tgid = 101,
        Comm = "iso",
        Affinity = CpuMask.Of(4, 2, 3),
        Policy = SchedPolicy.Fifo,
        Mm = 101,
        ParentPid = 1,
        IsolationFlags = IsolationFlags.Enabled.Word,
        CaughtSignals = [Signal.SIGUSR1],
        PendingSignals = [new PendingSignal(Signal.SIGUSR2, 5)],
        PosixTimerAtCpuNs = 1_000,
        PosixTimerSignal = Signal.SIGALRM,
        CpuTimeNs = 500,
    };

    [Fact]
    public void A_forked_child_is_its_own_process_and_does_not_inherit_isolation()
    {
        var child = Fork.CopyProcess(Parent, 102, "child", thread: false);

        Assert.Equal(102, child.Pid);
        Assert.Equal(102, child.Tgid);
        Assert.Equal("child", child.Comm);
        Assert.Equal(102, child.Mm);
        Assert.Equal(101, child.ParentPid);
        Assert.Equal(0u, child.IsolationFlags); // copy_process(): task_isolation_set_flags(p, 0)
        Assert.False(child.Isolated);
    }

    [Fact]
    public void A_thread_shares_the_process_address_space_and_parent()
    {
        var thread = Fork.CopyProcess(Parent, 102, "worker", thread: true);

        Assert.Equal(101, thread.Tgid);
        Assert.Equal(101, thread.Mm);
        Assert.Equal(1, thread.ParentPid);
        Assert.False(thread.Isolated);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_child_inherits_affinity_policy_and_handlers_but_not_signals_or_timers(bool thread)
    {
        var child = Fork.CopyProcess(Parent, 102, "child", thread);

        Assert.Equal(Parent.Affinity, child.Affinity);
        Assert.Equal(SchedPolicy.Fifo, child.Policy);
        Assert.Equal(Parent.CaughtSignals, child.CaughtSignals);
        Assert.Empty(child.PendingSignals);
        Assert.Equal(0, child.PosixTimerAtCpuNs);
        Assert.Equal(0, child.CpuTimeNs);
        Assert.Equal(ResumeKind.Start, child.Resume);
    }

    [Theory]
    [InlineData(3, 3)] // allowed on the parent's CPU: starts there
    [InlineData(0, 2)] // not allowed there: the first CPU it may use
    public void A_new_task_starts_on_its_parents_cpu_when_its_affinity_allows(int parentCpu, int expected)
    {
        Assert.Equal(expected, Fork.FirstCpu(CpuMask.Of(4, 2, 3), parentCpu));
    }
}
