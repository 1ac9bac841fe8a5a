using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.V16;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Tests.Abi;

public class TaskIsolationV16Tests
{
    private const int NCpus = 8;
    private static readonly TaskIdentity Spin = new("spin", 1234);
    private static readonly TaskIdentity Munmapper = new("munmapper", 99);
    private static readonly CpuMask Map = CpuMask.Range(NCpus, 2, 7);
    private static readonly V16Isolation Requested = new(IsolationFlags.Enabled, V16State.Normal);
    private static readonly V16Isolation Isolated = new(IsolationFlags.Enabled, V16State.Isolated);

    private static V16StartContext ReadyOn(int cpu) =>
        new(Requested, CpuMask.Single(NCpus, cpu), cpu, Map, VmstatIdle: true, GlobalClockUnstable: false, CanStopFullTick: true);

    [Fact]
    public void Map_is_isolcpus_and_nohz_full()
    {
        var map = TaskIsolationV16.Map(CpuMask.Range(NCpus, 1, 5), CpuMask.Range(NCpus, 3, 7));

        Assert.Equal(CpuMask.Range(NCpus, 3, 5), map);
    }

    [Theory]
    [InlineData(1UL, 0UL, 0UL)]
    [InlineData(0UL, 1UL, 0UL)]
    [InlineData(0UL, 0UL, 1UL)]
    public void Prctl_with_non_zero_args_3_to_5_fails_with_EINVAL(ulong a3, ulong a4, ulong a5)
    {
        var r = TaskIsolationV16.Prctl(new PrctlCall(48, 1, a3, a4, a5), V16Isolation.Stopped);

        Assert.Equal(-Errno.EINVAL, r.ReturnValue);
        Assert.Equal(V16Isolation.Stopped, r.Isolation);
    }

    [Fact]
    public void Prctl_enable_stores_the_flags_sets_tif_and_quiets_vmstat()
    {
        var r = TaskIsolationV16.Prctl(new PrctlCall(48, 1), V16Isolation.Stopped);

        Assert.Equal(0, r.ReturnValue);
        Assert.Equal(Requested, r.Isolation);
        Assert.True(r.Isolation.TifTaskIsolation);
        Assert.True(r.QuietVmstatSync);
    }

    [Fact]
    public void Prctl_with_zero_flags_returns_zero_and_leaves_tif_clear()
    {
        var r = TaskIsolationV16.Prctl(new PrctlCall(48, 0), V16Isolation.Stopped);

        Assert.Equal(0, r.ReturnValue);
        Assert.False(r.Isolation.TifTaskIsolation);
        Assert.False(r.QuietVmstatSync);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(0UL)]
    public void Without_CONFIG_TASK_ISOLATION_PR_TASK_ISOLATION_is_EINVAL_and_nothing_is_stored(ulong flags)
    {
        var r = TaskIsolationV16.Prctl(new PrctlCall(48, flags), Requested, configured: false);

        Assert.Equal(-Errno.EINVAL, r.ReturnValue);
        Assert.Equal(Requested, r.Isolation);
        Assert.False(r.QuietVmstatSync);
    }

    [Fact]
    public void V16_has_no_get_option()
    {
        Assert.Equal(-Errno.EINVAL, TaskIsolationV16.Prctl(new PrctlCall(49), Requested).ReturnValue);
    }

    [Fact]
    public void Start_isolates_stops_the_tick_and_drains_the_lru()
    {
        var r = TaskIsolationV16.Start(ReadyOn(3));

        Assert.Equal(V16StartOutcome.Isolated, r.Outcome);
        Assert.Equal(Isolated, r.Isolation);
        Assert.Null(r.ReturnValueOverride);
        Assert.True(r.StopsTick);
        Assert.True(r.DrainsLru);
    }

    [Fact]
    public void Start_rechecks_affinity_first_with_EINVAL()
    {
        var moved = ReadyOn(3) with { Affinity = CpuMask.Of(NCpus, 3, 4), VmstatIdle = false, CanStopFullTick = false };

        var r = TaskIsolationV16.Start(moved);

        Assert.Equal(V16StartOutcome.InvalidAffinity, r.Outcome);
        Assert.Equal(-Errno.EINVAL, r.ReturnValueOverride);
        Assert.Equal(V16Isolation.Stopped, r.Isolation);
        Assert.False(r.StopsTick);
    }

    [Fact]
    public void Start_on_a_non_isolation_cpu_fails_with_EINVAL()
    {
        Assert.Equal(-Errno.EINVAL, TaskIsolationV16.Start(ReadyOn(0)).ReturnValueOverride);
    }

    [Fact]
    public void Start_with_vmstat_busy_fails_with_EAGAIN_before_touching_the_tick()
    {
        var r = TaskIsolationV16.Start(ReadyOn(3) with { VmstatIdle = false, GlobalClockUnstable = true });

        Assert.Equal(V16StartOutcome.VmstatBusy, r.Outcome);
        Assert.Equal(-Errno.EAGAIN, r.ReturnValueOverride);
    }

    [Fact]
    public void Start_with_an_unstable_clock_fails_with_EINVAL()
    {
        var r = TaskIsolationV16.Start(ReadyOn(3) with { GlobalClockUnstable = true, CanStopFullTick = false });

        Assert.Equal(V16StartOutcome.ClockUnstable, r.Outcome);
        Assert.Equal(-Errno.EINVAL, r.ReturnValueOverride);
    }

    [Fact]
    public void Start_with_a_tick_dependency_fails_with_EAGAIN()
    {
        var r = TaskIsolationV16.Start(ReadyOn(3) with { CanStopFullTick = false });

        Assert.Equal(V16StartOutcome.TickDependency, r.Outcome);
        Assert.Equal(-Errno.EAGAIN, r.ReturnValueOverride);
        Assert.False(r.DrainsLru);
    }

    [Fact]
    public void Start_in_an_unexpected_state_stops_isolation_without_touching_the_return_value()
    {
        var r = TaskIsolationV16.Start(ReadyOn(3) with { Isolation = Isolated });

        Assert.Equal(V16StartOutcome.UnexpectedState, r.Outcome);
        Assert.Null(r.ReturnValueOverride);
        Assert.Equal(V16Isolation.Stopped, r.Isolation);
    }

    [Fact]
    public void Syscall_while_isolated_clears_signals_then_logs_with_the_cpu()
    {
        var d = TaskIsolationV16.OnSyscall(ArchInfo.X86_64, Isolated, Spin, cpu: 3, nr: 1, prctlOption: 0, debug: false);

        Assert.Equal(KernelEntryOutcome.IsolationLost, d.Outcome);
        Assert.Equal(-Errno.ERESTARTNOINTR, d.ReturnValue);
        Assert.Equal<IsolationAction>(
            [
                IsolationAction.ClearFlags.Instance,
                new IsolationAction.SendSignal(Signal.SIGKILL),
                new IsolationAction.Log(KernelLogLine.Lost("spin/1234 (cpu 3): task_isolation lost due to syscall 1", Spin, "syscall 1")),
            ],
            d.Response.Actions);
    }

    [Fact]
    public void Syscall_signal_is_GET_SIG_without_any_usersig_bit()
    {
        var flags = new IsolationFlags(IsolationFlags.EnableBit | IsolationFlags.SetSig(Signal.SIGUSR1));

        var d = TaskIsolationV16.OnSyscall(ArchInfo.X86_64, new(flags, V16State.Isolated), Spin, 3, 1, 0, debug: true);

        Assert.Equal(Signal.SIGUSR1, d.Response.SignalSent);
        Assert.True(d.Response.DumpsStack);
    }

    [Fact]
    public void Acceptable_syscalls_stop_isolation_quietly()
    {
        var arch = ArchInfo.Arm64;
        foreach (var (nr, option) in new[] { (arch.ExitNr, 0), (arch.ExitGroupNr, 0), (arch.PrctlNr, 48) })
        {
            var d = TaskIsolationV16.OnSyscall(arch, Isolated, Spin, 3, nr, option, debug: false);

            Assert.Equal(KernelEntryOutcome.ExemptStopsIsolation, d.Outcome);
            Assert.True(d.RunsSyscall);
            Assert.Equal<IsolationAction>([IsolationAction.ClearFlags.Instance], d.Response.Actions);
        }
    }

    [Fact]
    public void Prctl_with_another_option_is_not_acceptable_in_v16()
    {
        var d = TaskIsolationV16.OnSyscall(ArchInfo.X86_64, Isolated, Spin, 3, ArchInfo.X86_64.PrctlNr, prctlOption: 15, debug: false);

        Assert.Equal(KernelEntryOutcome.IsolationLost, d.Outcome);
    }

    [Fact]
    public void Remote_break_is_reported_by_the_sender_and_marks_the_task_warned()
    {
        var d = TaskIsolationV16.OnRemote(true, 3, Spin, Isolated, "IPI function", Munmapper, 0, debug: false);

        Assert.True(d.Reported);
        Assert.Equal(V16State.Warned, d.TargetIsolation.State);
        Assert.Equal(IsolationFlags.Enabled, d.TargetIsolation.Flags);
        Assert.Equal(
            "spin/1234 (cpu 3): task_isolation lost due to IPI function by munmapper/99 on cpu 0",
            Assert.Single(d.Response.LogLines).Text);
    }

    [Fact]
    public void Remote_break_is_reported_once()
    {
        var first = TaskIsolationV16.OnRemote(true, 3, Spin, Isolated, "reschedule IPI", Munmapper, 0, false);

        var second = TaskIsolationV16.OnRemote(true, 3, Spin, first.TargetIsolation, "reschedule IPI", Munmapper, 0, false);

        Assert.False(second.Reported);
        Assert.Equal(V16State.Warned, second.TargetIsolation.State);
    }

    [Fact]
    public void Remote_interrupt_of_a_non_isolation_cpu_is_not_reported()
    {
        Assert.False(TaskIsolationV16.OnRemote(false, 1, Spin, Isolated, "irq_work", Munmapper, 0, false).Reported);
    }

    [Fact]
    public void Interrupt_after_a_remote_report_signals_without_a_second_message()
    {
        var warned = Isolated with { State = V16State.Warned };

        var r = TaskIsolationV16.OnInterrupt(warned, Spin, 3, "irq", inNmi: false, debug: false);

        Assert.Equal<IsolationAction>([IsolationAction.ClearFlags.Instance, new IsolationAction.SendSignal(Signal.SIGKILL)], r.Actions);
    }

    [Fact]
    public void Interrupt_of_an_isolated_task_signals_and_warns()
    {
        var r = TaskIsolationV16.OnInterrupt(Isolated, Spin, 3, "page fault at 0x1000", inNmi: false, debug: false);

        Assert.Equal(Signal.SIGKILL, r.SignalSent);
        Assert.Equal("spin/1234 (cpu 3): task_isolation lost due to page fault at 0x1000", Assert.Single(r.LogLines).Text);
    }

    [Fact]
    public void Interrupt_in_nmi_only_reports_and_keeps_isolation()
    {
        var r = TaskIsolationV16.OnInterrupt(Isolated, Spin, 3, "NMI", inNmi: true, debug: false);

        Assert.False(r.ClearsFlags);
        Assert.Null(r.SignalSent);
        Assert.Equal(
            [
                KernelLogLine.Err("spin/1234 (cpu 3): in NMI; not delivering signal"),
                KernelLogLine.Lost("spin/1234 (cpu 3): task_isolation lost due to NMI", Spin, "NMI"),
            ],
            r.LogLines);
    }

    [Fact]
    public void Interrupt_before_isolation_started_is_ignored()
    {
        Assert.True(TaskIsolationV16.OnInterrupt(Requested, Spin, 3, "irq", false, false).IsEmpty);
    }

    [Fact]
    public void Signal_to_an_isolated_task_stops_isolation_and_warns_once()
    {
        var isolated = TaskIsolationV16.OnSignal(Isolated, Spin, 3, debug: false);
        var warned = TaskIsolationV16.OnSignal(Isolated with { State = V16State.Warned }, Spin, 3, debug: false);

        Assert.Equal("spin/1234 (cpu 3): task_isolation lost due to signal", Assert.Single(isolated.LogLines).Text);
        Assert.True(isolated.ClearsFlags);
        Assert.Empty(warned.LogLines);
        Assert.True(warned.ClearsFlags);
    }

    [Fact]
    public void Cpumask_report_names_one_cpu_or_several()
    {
        var one = TaskIsolationV16.OnRemoteMask(
            [new V16RemoteTarget(3, Spin, Isolated)], NCpus, "IPI function", Munmapper, 0, false);
        var several = TaskIsolationV16.OnRemoteMask(
            [new V16RemoteTarget(3, Spin, Isolated), new V16RemoteTarget(4, new TaskIdentity("spin", 1235), Isolated)],
            NCpus,
            "IPI function",
            Munmapper,
            0,
            false);

        Assert.Equal(
            "spin/1234 (cpu 3): task_isolation lost due to IPI function by munmapper/99 on cpu 0",
            Assert.Single(one.Response.LogLines).Text);
        Assert.Equal(
            "spin/1235 etc (cpus 3-4): task_isolation lost due to IPI function by munmapper/99 on cpu 0",
            Assert.Single(several.Response.LogLines).Text);
        Assert.All(several.Targets, t => Assert.Equal(V16State.Warned, t.Isolation.State));
    }

    [Fact]
    public void Cpumask_report_is_lost_when_the_last_target_is_not_isolated_as_in_v16()
    {
        var r = TaskIsolationV16.OnRemoteMask(
            [new V16RemoteTarget(3, Spin, Isolated), new V16RemoteTarget(4, new TaskIdentity("bash", 1), V16Isolation.Stopped)],
            NCpus,
            "IPI function",
            Munmapper,
            0,
            false);

        Assert.True(r.Response.IsEmpty);
        Assert.Equal(V16State.Warned, r.Targets[0].Isolation.State);
        Assert.Equal(V16State.Normal, r.Targets[1].Isolation.State);
    }
}
