using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Abi.V13;
using TaskIsolation.Machine.Abi.V16;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Machine.Tests.Events;

/// <summary>The typed fields of the events, and the one formatter of each that makes their display text.</summary>
public class TypedEventTests
{
    private static readonly TaskIdentity Spin = new("spin", 1234);

    public static TheoryData<InterruptSource, InterruptKind, string> Sources => new()
    {
        { TimerExpiry.Tick, InterruptKind.Tick, "local timer (tick)" },
        { TimerExpiry.ResidualTick, InterruptKind.ResidualTick, "residual 1Hz tick" },
        { TimerExpiry.StaleTimer, InterruptKind.StaleTimer, "stale timer (no oneshot-stopped)" },
        { TimerExpiry.Nanosleep, InterruptKind.Tick, "hrtimer (nanosleep)" },
        { new TickDependencyKick(TickDep.PosixTimer, Remote: true), InterruptKind.IrqWork, "irq_work IPI (tick dependency POSIX_TIMER)" },
        { new TickDependencyKick(TickDep.Sched, Remote: false), InterruptKind.IrqWork, "irq_work (tick dependency SCHED)" },
        { new RescheduleIpi(RescheduleReason.NewTask), InterruptKind.RescheduleIpi, "reschedule IPI (new task)" },
        { new RescheduleIpi(RescheduleReason.Migration), InterruptKind.RescheduleIpi, "reschedule IPI (migration)" },
        { new RescheduleIpi(RescheduleReason.ChildExit), InterruptKind.RescheduleIpi, "reschedule IPI (child exit)" },
        { new RescheduleIpi(RescheduleReason.IsolationReport), InterruptKind.RescheduleIpi, "reschedule IPI (isolation report)" },
        { new SignalWakeup(Signal.SIGUSR1), InterruptKind.RescheduleIpi, "reschedule IPI (signal 10)" },
        { new WorkWakeup(WorkFunction.VmstatUpdate), InterruptKind.VmstatWork, "reschedule IPI (vmstat_update work)" },
        { new WorkWakeup(WorkFunction.LruAddDrainPerCpu), InterruptKind.LruDrainWork, "reschedule IPI (lru_add_drain_per_cpu work)" },
        { TlbShootdown.Instance, InterruptKind.CallFunctionIpi, "TLB shootdown IPI" },
        { new DeviceInterrupt(24, "eth0"), InterruptKind.DeviceIrq, "irq 24 (eth0)" },
        { NonMaskableInterrupt.Instance, InterruptKind.Nmi, "NMI" },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void Every_interrupt_source_implies_its_kind_and_reads_as_traces_show_it(InterruptSource source, InterruptKind kind, string text)
    {
        Assert.Equal(kind, source.Kind);
        Assert.Equal(text, source.Text);
        Assert.Equal(text, source.ToString());
    }

    [Fact]
    public void Interrupt_events_take_kind_and_detail_from_their_source()
    {
        var taken = new InterruptTaken(4, 301, 3, 2, new SignalWakeup(Signal.SIGUSR1), CpuState.UserIsolated, new TaskRef(102, "iso"), Held: false);
        var sent = new InterruptSent(2, 90, 0, 1, TlbShootdown.Instance, 3);

        Assert.Equal(InterruptKind.RescheduleIpi, taken.Kind);
        Assert.Equal("reschedule IPI (signal 10) taken in userisolated by iso/102", taken.What);
        Assert.Equal("TLB shootdown IPI → cpu 3", sent.What);
        Assert.Equal(new SignalWakeup(Signal.SIGUSR1), taken.Source);
    }

    [Theory]
    [InlineData(WorkFunction.VmstatUpdate, "vmstat_update")]
    [InlineData(WorkFunction.LruAddDrainPerCpu, "lru_add_drain_per_cpu")]
    public void Work_functions_print_their_kernel_symbol(WorkFunction function, string symbol)
    {
        Assert.Equal(symbol, WorkFunctions.Name(function));
        Assert.Equal($"kworker/2: {symbol}", new WorkExecuted(1, 0, 2, 0, function).What);
    }

    [Fact]
    public void Tick_events_carry_the_dependency_and_print_its_trace_name()
    {
        Assert.Equal("tick_stop: success=0 dependency=POSIX_TIMER", new TickStopAttempted(1, 0, 3, 0, false, TickDep.PosixTimer, 0).What);
        Assert.Equal("tick restarted: SCHED", new TickRestarted(1, 0, 3, 0, TickDep.Sched).What);
        var idle = new TickRestarted(1, 0, 3, 0, TickDep.None);
        Assert.True(idle.IdleExit);
        Assert.Equal("tick restarted: idle exit", idle.What);
    }

    [Fact]
    public void Signal_reasons_and_actions_are_typed_and_read_as_before()
    {
        var sender = new TaskRef(101, "hk");
        Assert.Equal("kill from hk/101", SignalReason.KillFrom(sender).Text);
        Assert.Equal(sender, SignalReason.KillFrom(sender).Sender);
        Assert.Equal("task isolation", SignalReason.TaskIsolation.Text);
        Assert.Equal("POSIX CPU timer expired", SignalReason.PosixTimerExpired.Text);
        Assert.Equal("bad frame", SignalReason.BadFrame.Text);
        Assert.Equal("signal 9 to iso/102: task isolation", new SignalSent(1, 0, 3, 0, new TaskRef(102, "iso"), Signal.SIGKILL, SignalReason.TaskIsolation).What);
        Assert.Equal("signal 10 delivered to iso/102: handler", new SignalDelivered(1, 0, 3, 0, new TaskRef(102, "iso"), Signal.SIGUSR1, SignalAction.Handler).What);
        Assert.Equal(["handler", "ignored", "terminate"], Enum.GetValues<SignalAction>().Select(SignalActions.Name));
    }

    [Theory]
    [InlineData(OperationKind.Compute, null, "compute")]
    [InlineData(OperationKind.Syscall, "write", "write")]
    [InlineData(OperationKind.Syscall, null, "syscall")]
    [InlineData(OperationKind.Fork, null, "fork")]
    [InlineData(OperationKind.Clone, null, "clone")]
    [InlineData(OperationKind.Sleep, null, "nanosleep")]
    [InlineData(OperationKind.UnalignedAccess, null, "unaligned access")]
    public void A_step_is_named_by_its_kind_or_its_syscall(OperationKind kind, string? syscall, string name)
    {
        Assert.Equal(name, new TaskStep(kind, syscall).Name);
    }

    [Fact]
    public void Every_operation_kind_has_a_name_and_a_shared_step()
    {
        foreach (var kind in Enum.GetValues<OperationKind>())
        {
            Assert.False(string.IsNullOrEmpty(TaskStep.Of(kind).Name));
            Assert.Same(TaskStep.Of(kind), TaskStep.Of(kind));
            Assert.Equal(new TaskStep(kind), TaskStep.Of(kind));
        }
    }

    [Fact]
    public void Every_loss_line_says_who_lost_isolation_and_why_typed()
    {
        var v13 = Assert.Single(KernelEntryV13.DeliverSignal(Spin, "syscall 1", Signal.SIGKILL).LogLines);
        var v16 = Assert.Single(TaskIsolationV16.OnSignal(new V16Isolation(IsolationFlags.Enabled, V16State.Isolated), Spin, 3, debug: false).LogLines);
        var remote = Assert.Single(TaskIsolationV16.OnRemote(
            true, 3, Spin, new V16Isolation(IsolationFlags.Enabled, V16State.Isolated), "IPI function", new TaskIdentity("munmapper", 99), 0, debug: false).Response.LogLines);

        Assert.Equal(new IsolationLoss(Spin, "syscall 1"), v13.Loss);
        Assert.Equal(new IsolationLoss(Spin, "signal"), v16.Loss);
        Assert.Equal(new IsolationLoss(Spin, "IPI function"), remote.Loss);
        Assert.Equal("spin/1234 (cpu 3): task_isolation lost due to IPI function by munmapper/99 on cpu 0", remote.Text);
        Assert.Null(KernelLogLine.Warn("spin/1234: task_isolation mode lost due to syscall 1").Loss);
    }

    [Fact]
    public void A_loss_line_for_several_cpus_names_the_last_target()
    {
        var isolated = new V16Isolation(IsolationFlags.Enabled, V16State.Isolated);
        var other = new TaskIdentity("other", 77);
        var d = TaskIsolationV16.OnRemoteMask(
            [new V16RemoteTarget(2, Spin, isolated), new V16RemoteTarget(3, other, isolated)], 8, "IPI function", new TaskIdentity("munmapper", 99), 0, debug: false);

        var line = Assert.Single(d.Response.LogLines);
        Assert.Equal(new IsolationLoss(other, "IPI function"), line.Loss);
        Assert.StartsWith("other/77 etc (cpus 2-3)", line.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_log_event_shows_its_line_text()
    {
        var e = new KernelLogged(1, 0, 3, 0, KernelLogLine.Lost("spin/1234 (cpu 3): task_isolation lost due to signal", Spin, "signal"));

        Assert.Equal("dmesg: spin/1234 (cpu 3): task_isolation lost due to signal", e.What);
        Assert.Equal("signal", e.Line.Loss!.Reason);
    }
}
