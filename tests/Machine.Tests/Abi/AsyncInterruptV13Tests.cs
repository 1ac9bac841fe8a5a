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

    [Fact]
    public void The_delivery_logs_clears_and_signals_then_prints_the_debug_report_in_the_kernels_order()
    {
        var d = AsyncInterruptV13.Decide(Ipi(Interruption.CallFunctionIpi, debug: true));

        var delivered = AsyncInterruptV13.Deliver(d, () => true);

        Assert.Equal<IsolationAction>(
            [
                new IsolationAction.Log(KernelLogLine.Lost("spin/1234: task_isolation mode lost due to IPI function", Spin, "IPI function")),
                IsolationAction.ClearFlags.Instance,
                new IsolationAction.SendSignal(Signal.SIGKILL),
                new IsolationAction.Log(KernelLogLine.Err("cpu 0: IPI function violating task isolation for spin/1234 on cpu 3")),
                IsolationAction.DumpStack.Instance,
            ],
            delivered.Actions);
    }

    [Fact]
    public void The_delivery_asks_the_rate_limiter_only_for_an_unforced_debug_report_and_drops_the_report_it_refuses()
    {
        var asked = 0;
        bool Refuse()
        {
            asked++;
            return false;
        }

        var plain = AsyncInterruptV13.Decide(Ipi(Interruption.CallFunctionIpi));
        var debug = AsyncInterruptV13.Decide(Ipi(Interruption.CallFunctionIpi, debug: true));
        var forced = AsyncInterruptV13.Decide(Ipi(Interruption.CallFunctionIpi, senderInNmi: true));

        Assert.Equal(plain.Response, AsyncInterruptV13.Deliver(plain, Refuse));
        Assert.Equal(0, asked);
        Assert.Equal(debug.Response, AsyncInterruptV13.Deliver(debug, Refuse));
        Assert.Equal(1, asked);
        Assert.True(AsyncInterruptV13.Deliver(forced, Refuse).DumpsStack);
        Assert.Equal(1, asked);
    }

    [Fact]
    public void The_delivery_does_not_test_the_flags_again_so_two_tests_before_either_clear_both_deliver()
    {
        // R14: two senders test the same task, both before either delivery clears its flags. Each test saw ENABLE, so
        // each delivery logs, clears and signals: nothing in the delivery looks at the flags as they are by then.
        var first = AsyncInterruptV13.Decide(Ipi(Interruption.CallFunctionIpi));
        var second = AsyncInterruptV13.Decide(Ipi(Interruption.IrqWork) with { SenderCpu = 2 });

        var a = AsyncInterruptV13.Deliver(first, () => true);
        var b = AsyncInterruptV13.Deliver(second, () => true);

        Assert.Equal((true, Signal.SIGKILL), (a.ClearsFlags, a.SignalSent));
        Assert.Equal((true, Signal.SIGKILL), (b.ClearsFlags, b.SignalSent));
        Assert.Equal(["spin/1234: task_isolation mode lost due to IPI function", "spin/1234: task_isolation mode lost due to irq_work"], a.LogLines.Concat(b.LogLines).Select(l => l.Text));

        // A test after the first clear finds ENABLE gone: no violation, nothing delivered.
        var late = AsyncInterruptV13.Decide(Ipi(Interruption.IrqWork, IsolationFlags.None) with { SenderCpu = 2 });
        Assert.False(late.Delivers);
        Assert.True(AsyncInterruptV13.Deliver(late, () => true).IsEmpty);
    }

    [Fact]
    public void A_nosig_task_without_the_debug_flag_is_tested_and_left_alone()
    {
        var nosig = AsyncInterruptV13.Decide(Ipi(Interruption.CallFunctionIpi, IsolationFlags.EnabledNoSig));
        var nosigDebug = AsyncInterruptV13.Decide(Ipi(Interruption.CallFunctionIpi, IsolationFlags.EnabledNoSig, debug: true));

        Assert.True(nosig.IsViolation);
        Assert.False(nosig.Delivers);
        Assert.True(nosigDebug.Delivers);
        Assert.False(AsyncInterruptV13.Deliver(nosigDebug, () => true).ClearsFlags);
    }
}
