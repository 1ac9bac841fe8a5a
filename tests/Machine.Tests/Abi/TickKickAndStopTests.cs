using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Tests.Abi;

public sealed class TickKickAndStopTests
{
    private const int NCpus = 4;
    private static readonly CpuMask NohzFull = CpuMask.Range(NCpus, 1, 3);
    private static readonly CpuMask Online = CpuMask.Full(NCpus);

    private static readonly ThreadPlacement[] NoThreads = [];

    [Theory]
    [InlineData(TickDepScope.Task)]
    [InlineData(TickDepScope.Process)]
    public void In_4_7_a_task_or_process_bit_kicks_every_nohz_full_cpu(TickDepScope scope)
    {
        Assert.Equal([1, 2, 3], TickDependencies.KickTargets(scope, settingCpu: 2, [new(2, true)], NohzFull, Online, targeted: false));
        Assert.Equal([1, 2, 3], TickDependencies.KickTargets(scope, settingCpu: 0, NoThreads, NohzFull, Online, targeted: false));
    }

    [Theory]
    [InlineData(2, new[] { 2 })]
    [InlineData(0, new int[0])] // a housekeeping CPU needs no kick
    public void The_targeted_kick_of_a_task_bit_reaches_only_the_tasks_cpu_if_it_is_nohz_full(int settingCpu, int[] expected)
    {
        Assert.Equal(expected, TickDependencies.KickTargets(TickDepScope.Task, settingCpu, [new(settingCpu, true)], NohzFull, Online, targeted: true));
    }

    [Fact]
    public void The_targeted_kick_of_a_process_bit_reaches_the_nohz_full_cpu_of_every_queued_thread()
    {
        // as tick_nohz_dep_set_signal(): the setter on housekeeping CPU 0, an isolated sibling on CPU 3, a thread asleep
        // on CPU 2 (tick_nohz_kick_task() skips it) and one queued on CPU 1.
        ThreadPlacement[] threads = [new(0, true), new(3, true), new(2, false), new(1, true)];

        Assert.Equal([1, 3], TickDependencies.KickTargets(TickDepScope.Process, settingCpu: 0, threads, NohzFull, Online, targeted: true));
    }

    [Fact]
    public void The_targeted_kick_skips_an_offline_cpu()
    {
        Assert.Equal([], TickDependencies.KickTargets(TickDepScope.Process, 0, [new(0, true), new(2, true)], NohzFull, Online.Without(2), targeted: true));
    }

    [Fact]
    public void An_offline_nohz_full_cpu_is_not_kicked()
    {
        Assert.Equal([1, 3], TickDependencies.KickTargets(TickDepScope.Process, 1, NoThreads, NohzFull, Online.Without(2), targeted: false));
    }

    [Fact]
    public void One_task_with_no_timer_and_no_bits_lets_the_tick_stop()
    {
        Assert.True(TickDependencies.CanStopFullTick(TickDep.None, new RunqueueCounts(1), taskTimerArmed: false, TickDep.None).CanStop);
    }

    [Fact]
    public void A_second_runnable_task_keeps_the_tick_for_sched()
    {
        var c = TickDependencies.CanStopFullTick(TickDep.None, new RunqueueCounts(2), taskTimerArmed: false, TickDep.None);

        Assert.False(c.CanStop);
        Assert.Equal(TickDep.Sched, c.Dependency);
        Assert.Equal(TickDepScope.Cpu, c.Scope);
    }

    [Fact]
    public void An_armed_cpu_timer_keeps_the_tick_in_the_task_scope_and_global_bits_come_first()
    {
        var task = TickDependencies.CanStopFullTick(TickDep.None, new RunqueueCounts(1), taskTimerArmed: true, TickDep.None);
        Assert.Equal((TickDep.PosixTimer, TickDepScope.Task), (task.Dependency, (TickDepScope)task.Scope!));

        var global = TickDependencies.CanStopFullTick(TickDep.ClockUnstable, new RunqueueCounts(2), taskTimerArmed: true, TickDep.PosixTimer);
        Assert.Equal((TickDep.ClockUnstable, TickDepScope.Global), (global.Dependency, (TickDepScope)global.Scope!));
    }

    [Fact]
    public void A_process_bit_keeps_the_tick_in_the_process_scope()
    {
        var c = TickDependencies.CanStopFullTick(TickDep.None, new RunqueueCounts(1), taskTimerArmed: false, TickDep.PosixTimer);

        Assert.Equal((TickDep.PosixTimer, TickDepScope.Process), (c.Dependency, (TickDepScope)c.Scope!));
    }

    [Theory]
    [InlineData(true, true, 5_000 + SchedTick.MaxDefermentNs)] // 4.7: a busy CPU takes a residual tick a second later
    [InlineData(true, false, long.MaxValue)] // offloaded (4.17+): none
    [InlineData(false, true, long.MaxValue)] // idle: none
    public void A_stopped_tick_next_fires_after_the_maximum_deferment_only_on_a_busy_cpu(bool busy, bool oneHz, long expected)
    {
        Assert.Equal(expected, SchedTick.NextTickAfterStop(busy, oneHz, 5_000));
        Assert.Equal(1_000_000_000L, SchedTick.MaxDefermentNs);
    }
}
