using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.V13;
using TaskIsolation.Machine.Boot;

namespace TaskIsolation.Machine.Tests.Abi;

public class AsyncInterruptV13Tests
{
    private static readonly TaskIdentity Spin = new("spin", 1234);

    private static AsyncInterruptContext Ipi(
        Interruption what,
        IsolationFlags? flags = null,
        bool inUser = true,
        bool isolationCpu = true,
        bool senderInNmi = false,
        bool debug = false) =>
        new(what, SenderCpu: 0, senderInNmi, TargetCpu: 3, isolationCpu, Spin, flags ?? IsolationFlags.Enabled, inUser, debug);

    [Fact]
    public void Tlb_shootdown_ipi_to_isolated_user_task_is_a_violation_and_kills_it()
    {
        var d = AsyncInterruptV13.Decide(Ipi(Interruption.CallFunctionIpi));

        Assert.True(d.IsViolation);
        Assert.Equal("IPI function", d.Reason);
        Assert.True(d.SendsSignal);
        Assert.Equal<IsolationAction>(
            [
                new IsolationAction.Log(KernelLogLine.Lost("spin/1234: task_isolation mode lost due to IPI function", Spin, "IPI function")),
                IsolationAction.ClearFlags.Instance,
                new IsolationAction.SendSignal(Signal.SIGKILL),
            ],
            d.Response.Actions);
        Assert.Null(d.Debug);
    }

    [Fact]
    public void Violation_signal_is_the_users_choice_with_usersig()
    {
        var d = AsyncInterruptV13.Decide(Ipi(Interruption.RescheduleIpi, IsolationFlags.EnabledWithSignal(Signal.SIGUSR1)));

        Assert.Equal(Signal.SIGUSR1, d.Response.SignalSent);
    }

    [Theory]
    [InlineData(InterruptKind.IrqWork, "irq_work")]
    [InlineData(InterruptKind.CallFunctionIpi, "IPI function")]
    [InlineData(InterruptKind.RescheduleIpi, "reschedule IPI")]
    [InlineData(InterruptKind.TimerIpi, "timer IPI")]
    [InlineData(InterruptKind.Tick, "irq")]
    [InlineData(InterruptKind.ResidualTick, "irq")]
    [InlineData(InterruptKind.StaleTimer, "irq")]
    [InlineData(InterruptKind.VmstatWork, "reschedule IPI")]
    [InlineData(InterruptKind.LruDrainWork, "reschedule IPI")]
    [InlineData(InterruptKind.Nmi, "NMI")]
    public void Each_interrupt_kind_has_its_reason(InterruptKind kind, string reason)
    {
        var what = kind switch
        {
            InterruptKind.IrqWork => Interruption.IrqWork,
            InterruptKind.CallFunctionIpi => Interruption.CallFunctionIpi,
            InterruptKind.RescheduleIpi => Interruption.RescheduleIpi,
            InterruptKind.TimerIpi => Interruption.TimerIpi,
            InterruptKind.Tick => Interruption.Tick,
            InterruptKind.ResidualTick => Interruption.ResidualTick,
            InterruptKind.StaleTimer => Interruption.StaleTimer,
            InterruptKind.VmstatWork => Interruption.VmstatWork,
            InterruptKind.LruDrainWork => Interruption.LruDrainWork,
            _ => Interruption.Nmi,
        };

        Assert.Equal(kind, what.Kind);
        Assert.Equal(reason, what.Reason);
    }

    [Fact]
    public void Device_irq_and_page_fault_reasons_carry_their_data()
    {
        Assert.Equal("irq 24 (eth0-rx-0)", Interruption.DeviceIrq(24, "eth0-rx-0").Reason);
        Assert.Equal("page fault at 0xdead000", Interruption.PageFault(0xdead000).Reason);
        Assert.False(Interruption.PageFault(0).IsAsynchronous);
        Assert.True(Interruption.Tick.IsAsynchronous);
    }

    [Fact]
    public void Interrupt_to_a_task_in_the_kernel_is_not_a_violation()
    {
        var d = AsyncInterruptV13.Decide(Ipi(Interruption.RescheduleIpi, inUser: false, debug: true));

        Assert.False(d.IsViolation);
        Assert.True(d.Response.IsEmpty);
        Assert.Null(d.Debug);
    }

    [Fact]
    public void Interrupt_to_a_task_without_isolation_is_not_a_violation()
    {
        Assert.False(AsyncInterruptV13.Decide(Ipi(Interruption.IrqWork, IsolationFlags.None)).IsViolation);
    }

    [Fact]
    public void Interrupt_to_a_cpu_outside_the_isolation_map_is_not_a_violation()
    {
        Assert.False(AsyncInterruptV13.Decide(Ipi(Interruption.IrqWork, isolationCpu: false)).IsViolation);
    }

    [Fact]
    public void Sender_in_nmi_cannot_signal_and_forces_a_dump()
    {
        var d = AsyncInterruptV13.Decide(Ipi(Interruption.IrqWork, senderInNmi: true));

        Assert.True(d.IsViolation);
        Assert.False(d.SendsSignal);
        Assert.False(d.Response.ClearsFlags);
        Assert.NotNull(d.Debug);
        Assert.True(d.Debug.Forced);
        Assert.Equal(KernelLogLevel.Err, d.Debug.Line.Level);
        Assert.Equal("cpu 0: irq_work violating task isolation for spin/1234 on cpu 3", d.Debug.Line.Text);
    }

    [Fact]
    public void Nmi_on_the_isolated_cpu_sends_no_signal_and_dumps()
    {
        var d = AsyncInterruptV13.Decide(Ipi(Interruption.Nmi) with { SenderCpu = 3 });

        Assert.True(d.IsViolation);
        Assert.False(d.SendsSignal);
        Assert.True(d.Debug!.Forced);
        Assert.Equal("cpu 3: NMI violating task isolation for spin/1234 on cpu 3", d.Debug.Line.Text);
    }

    [Fact]
    public void Debug_flag_adds_a_rate_limited_report_after_the_signal()
    {
        var d = AsyncInterruptV13.Decide(Ipi(Interruption.DeviceIrq(24, "eth0"), debug: true));

        Assert.True(d.SendsSignal);
        Assert.NotNull(d.Debug);
        Assert.False(d.Debug.Forced);
        Assert.Equal("cpu 0: irq 24 (eth0) violating task isolation for spin/1234 on cpu 3", d.Debug.Line.Text);
        Assert.Equal("task_isolation_debug_task", DebugReport.RatelimitFunction);
    }

    [Fact]
    public void Nosig_violation_is_recorded_but_neither_signals_nor_clears()
    {
        var d = AsyncInterruptV13.Decide(Ipi(Interruption.RescheduleIpi, IsolationFlags.EnabledNoSig));

        Assert.True(d.IsViolation);
        Assert.True(d.Response.IsEmpty);
        Assert.Null(d.Debug);
    }

    [Fact]
    public void Nosig_violation_from_nmi_is_not_forced_out()
    {
        var d = AsyncInterruptV13.Decide(Ipi(Interruption.IrqWork, IsolationFlags.EnabledNoSig, senderInNmi: true, debug: true));

        Assert.True(d.IsViolation);
        Assert.False(d.Debug!.Forced);
    }
}
