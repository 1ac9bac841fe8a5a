using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Tests.Abi;

public class TickDependenciesTests
{
    private const int NCpus = 8;
    private static readonly CpuMask NohzFull = CpuMask.Range(NCpus, 1, 7);
    private static readonly CpuMask Online = CpuMask.Full(NCpus);

    [Fact]
    public void Tick_can_stop_with_no_dependency_anywhere()
    {
        var c = TickDependencies.CanStopFullTick(default);

        Assert.True(c.CanStop);
        Assert.Equal(TickDep.None, c.Dependency);
        Assert.Null(c.Scope);
        Assert.Equal("NONE", c.TraceName);
    }

    [Theory]
    [InlineData(TickDepScope.Global)]
    [InlineData(TickDepScope.Cpu)]
    [InlineData(TickDepScope.Task)]
    [InlineData(TickDepScope.Process)]
    public void A_bit_in_any_scope_keeps_the_tick(TickDepScope scope)
    {
        var deps = scope switch
        {
            TickDepScope.Global => new TickDepSnapshot(TickDep.PerfEvents, 0, 0, 0),
            TickDepScope.Cpu => new TickDepSnapshot(0, TickDep.PerfEvents, 0, 0),
            TickDepScope.Task => new TickDepSnapshot(0, 0, TickDep.PerfEvents, 0),
            _ => new TickDepSnapshot(0, 0, 0, TickDep.PerfEvents),
        };

        var c = TickDependencies.CanStopFullTick(deps);

        Assert.False(c.CanStop);
        Assert.Equal(TickDep.PerfEvents, c.Dependency);
        Assert.Equal(scope, c.Scope);
    }

    [Fact]
    public void The_global_scope_is_checked_first_and_bits_in_check_order()
    {
        var deps = new TickDepSnapshot(
            Global: TickDep.ClockUnstable | TickDep.Sched,
            Cpu: TickDep.PosixTimer,
            Task: 0,
            Process: 0);

        var c = TickDependencies.CanStopFullTick(deps);

        Assert.Equal(TickDep.Sched, c.Dependency);
        Assert.Equal(TickDepScope.Global, c.Scope);
        Assert.Equal("SCHED", c.TraceName);
    }

    [Theory]
    [InlineData(TickDep.None, "NONE")]
    [InlineData(TickDep.PosixTimer, "POSIX_TIMER")]
    [InlineData(TickDep.PerfEvents, "PERF_EVENTS")]
    [InlineData(TickDep.Sched, "SCHED")]
    [InlineData(TickDep.ClockUnstable, "CLOCK_UNSTABLE")]
    [InlineData(TickDep.ClockUnstable | TickDep.PerfEvents, "PERF_EVENTS")]
    [InlineData(TickDep.ClockUnstable | TickDep.Sched | TickDep.PosixTimer, "POSIX_TIMER")]
    public void Trace_names_follow_check_tick_dependency_priority(TickDep deps, string name) =>
        Assert.Equal(name, TickDependencies.TraceName(deps));

    [Fact]
    public void Global_bit_kicks_every_online_nohz_full_cpu()
    {
        var r = TickDependencies.Set(TickDepScope.Global, TickDep.None, TickDep.ClockUnstable, 0, 0, NohzFull, Online);

        Assert.Equal(TickDep.ClockUnstable, r.NewMask);
        Assert.Equal(NohzFull, r.Kicked);
    }

    [Fact]
    public void Offline_cpus_are_not_kicked()
    {
        var online = CpuMask.Range(NCpus, 0, 4);

        var r = TickDependencies.Set(TickDepScope.Global, TickDep.None, TickDep.PerfEvents, 0, 0, NohzFull, online);

        Assert.Equal(CpuMask.Range(NCpus, 1, 4), r.Kicked);
    }

    [Theory]
    [InlineData(TickDepScope.Task)]
    [InlineData(TickDepScope.Process)]
    public void Per_task_and_per_process_bits_kick_all_nohz_full_cpus_in_4_7(TickDepScope scope)
    {
        var r = TickDependencies.Set(scope, TickDep.None, TickDep.PosixTimer, settingCpu: 0, targetCpu: 5, NohzFull, Online);

        Assert.Equal(NohzFull, r.Kicked);
    }

    [Fact]
    public void Per_cpu_bit_kicks_only_that_cpu()
    {
        var r = TickDependencies.Set(TickDepScope.Cpu, TickDep.None, TickDep.Sched, settingCpu: 0, targetCpu: 3, NohzFull, Online);

        Assert.Equal(CpuMask.Single(NCpus, 3), r.Kicked);
        Assert.True(r.KicksAny);
    }

    [Fact]
    public void Per_cpu_bit_set_locally_kicks_the_own_cpu()
    {
        var r = TickDependencies.Set(TickDepScope.Cpu, TickDep.None, TickDep.PerfEvents, settingCpu: 3, targetCpu: 3, NohzFull, Online, inNmi: true);

        Assert.Equal(CpuMask.Single(NCpus, 3), r.Kicked);
    }

    [Fact]
    public void Per_cpu_bit_set_remotely_from_nmi_kicks_nobody()
    {
        var r = TickDependencies.Set(TickDepScope.Cpu, TickDep.None, TickDep.PerfEvents, settingCpu: 0, targetCpu: 3, NohzFull, Online, inNmi: true);

        Assert.False(r.KicksAny);
        Assert.Equal(TickDep.PerfEvents, r.NewMask);
    }

    [Fact]
    public void Per_cpu_bit_on_a_housekeeping_cpu_kicks_nobody()
    {
        var r = TickDependencies.Set(TickDepScope.Cpu, TickDep.None, TickDep.Sched, settingCpu: 3, targetCpu: 0, NohzFull, Online);

        Assert.False(r.KicksAny);
    }

    [Fact]
    public void Setting_a_bit_in_a_non_empty_mask_kicks_nobody()
    {
        var again = TickDependencies.Set(TickDepScope.Cpu, TickDep.Sched, TickDep.Sched, 0, 3, NohzFull, Online);
        var another = TickDependencies.Set(TickDepScope.Global, TickDep.PerfEvents, TickDep.ClockUnstable, 0, 0, NohzFull, Online);

        Assert.False(again.KicksAny);
        Assert.False(another.KicksAny);
        Assert.Equal(TickDep.PerfEvents | TickDep.ClockUnstable, another.NewMask);
    }

    [Fact]
    public void No_nohz_full_cpus_means_no_kicks()
    {
        var r = TickDependencies.Set(TickDepScope.Global, TickDep.None, TickDep.PerfEvents, 0, 0, CpuMask.Empty(NCpus), Online);

        Assert.False(r.KicksAny);
    }

    [Fact]
    public void Setting_requires_exactly_one_bit()
    {
        Assert.Throws<ArgumentException>(
            () => TickDependencies.Set(TickDepScope.Global, 0, TickDep.Sched | TickDep.PerfEvents, 0, 0, NohzFull, Online));
        Assert.Throws<ArgumentException>(
            () => TickDependencies.Set(TickDepScope.Global, 0, TickDep.None, 0, 0, NohzFull, Online));
    }

    [Fact]
    public void Clearing_a_bit_leaves_the_others()
    {
        Assert.Equal(TickDep.PerfEvents, TickDependencies.Clear(TickDep.PerfEvents | TickDep.Sched, TickDep.Sched));
    }
}
