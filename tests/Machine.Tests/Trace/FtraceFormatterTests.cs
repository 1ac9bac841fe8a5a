using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Machine.Trace;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Machine.Tests.Trace;

public class FtraceFormatterTests
{
    private const long At = 1_234_567_890_000L; // 1234.567890 s

    private static TraceRecord On(int cpu, TraceFlags flags, TraceEvent e, string comm = "spin", int pid = 1234, long ts = At) =>
        new(comm, pid, cpu, flags, ts, e);

    [Fact]
    public void Local_timer_line_matches_4_7_ftrace_exactly()
    {
        var line = FtraceFormatter.FormatLine(On(3, TraceFlags.HardIrqHandler, new TraceEvent.LocalTimerEntry()));

        Assert.Equal("            spin-1234  [003] d.h1  1234.567890: local_timer_entry: vector=239", line);
    }

    [Fact]
    public void Comm_is_right_aligned_in_16_and_pid_left_aligned_in_5()
    {
        var line = FtraceFormatter.FormatLine(
            On(12, TraceFlags.TaskContext, new TraceEvent.IrqWorkEntry(), comm: "kworker/12:1", pid: 98765));

        Assert.StartsWith("    kworker/12:1-98765 [012] .... ", line, StringComparison.Ordinal);
    }

    [Fact]
    public void The_idle_task_shows_as_idle()
    {
        var line = FtraceFormatter.FormatLine(
            On(2, new TraceFlags(true, false, IrqContext.HardIrq, 1), new TraceEvent.RescheduleEntry(), comm: "swapper/2", pid: 0, ts: 5_000_000_000));

        Assert.Equal("          <idle>-0     [002] d.h1     5.000000: reschedule_entry: vector=253", line);
    }

    [Fact]
    public void Cpu_numbers_past_999_keep_all_their_digits()
    {
        var line = FtraceFormatter.FormatLine(On(1023, TraceFlags.TaskContext, new TraceEvent.CallFunctionEntry()));

        Assert.Contains(" [1023] .... ", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0L, "    0.000000")]
    [InlineData(499L, "    0.000000")]
    [InlineData(500L, "    0.000001")]
    [InlineData(1_000_000_500L, "    1.000001")]
    [InlineData(999_999_999_499L, "  999.999999")]
    [InlineData(999_999_999_500L, " 1000.000000")]
    [InlineData(123_456_000_000_000L, "123456.000000")]
    public void Timestamps_round_to_the_microsecond_as_ns2usecs(long ns, string expected) =>
        Assert.Equal(expected, FtraceFormatter.FormatTimestamp(ns));

    [Theory]
    [InlineData(false, false, IrqContext.None, 0, "....")]
    [InlineData(true, false, IrqContext.None, 0, "d...")]
    [InlineData(false, true, IrqContext.None, 0, ".N..")]
    [InlineData(true, true, IrqContext.HardIrq, 1, "dNh1")]
    [InlineData(false, false, IrqContext.SoftIrq, 2, "..s2")]
    [InlineData(true, false, IrqContext.HardIrqInSoftIrq, 3, "d.H3")]
    [InlineData(true, false, IrqContext.Nmi, 1, "d.z1")]
    [InlineData(true, false, IrqContext.NmiInHardIrq, 2, "d.Z2")]
    [InlineData(false, false, IrqContext.None, 10, "...a")]
    [InlineData(false, false, IrqContext.None, 256, "....")]
    public void Flags_print_as_four_latency_characters(bool irqsOff, bool needResched, IrqContext ctx, int preempt, string expected) =>
        Assert.Equal(expected, new TraceFlags(irqsOff, needResched, ctx, preempt).ToString());

    [Fact]
    public void Exit_and_raw_syscall_events_print_as_their_tracepoints()
    {
        Assert.Equal("local_timer_exit: vector=239", new TraceEvent.LocalTimerExit(239).ToString());
        Assert.Equal("reschedule_exit: vector=253", new TraceEvent.RescheduleExit(253).ToString());
        Assert.Equal("call_function_exit: vector=252", new TraceEvent.CallFunctionExit(252).ToString());
        Assert.Equal("irq_work_exit: vector=246", new TraceEvent.IrqWorkExit(246).ToString());
        Assert.Equal("irq_handler_exit: irq=3 ret=handled", new TraceEvent.IrqHandlerExit(3).ToString());
        Assert.Equal("irq_handler_exit: irq=24 ret=unhandled", new TraceEvent.IrqHandlerExit(24, false).ToString());
        Assert.Equal("ipi_entry: (Rescheduling interrupts)", new TraceEvent.IpiEntry(Arm64IpiReasons.Reschedule).ToString());
        Assert.Equal("ipi_exit: (Timer broadcast interrupts)", new TraceEvent.IpiExit(Arm64IpiReasons.Timer).ToString());
        Assert.Equal(
            "sys_enter: NR 157 (30, 1, 0, 0, 0, 0)",
            new TraceEvent.SysEnter(157, SyscallArgs.For(new Prctl(48, 1), "prctl")).ToString());
        Assert.Equal(
            "sys_enter: NR 9 (0, 1000, 3, 22, ffffffffffffffff, 0)",
            new TraceEvent.SysEnter(9, SyscallArgs.For(new Mmap(4096), "mmap")).ToString());
        Assert.Equal("sys_exit: NR 1 = -513", new TraceEvent.SysExit(1, -513).ToString());
        Assert.Equal("sys_exit: NR 39 = 101", new TraceEvent.SysExit(39, 101).ToString());
    }

    [Theory]
    [InlineData(ArchKind.X86_64, "local_timer_entry: vector=239", "local_timer_exit: vector=239", "d.h1", false)]
    [InlineData(ArchKind.Tile, "local_timer_entry: vector=239", "local_timer_exit: vector=239", "d.h1", false)]
    [InlineData(ArchKind.Arm64, "irq_handler_entry: irq=3 name=arch_timer", "irq_handler_exit: irq=3 ret=handled", "d.h1", false)]
    public void The_tick_is_each_archs_timer_interrupt(ArchKind arch, string entry, string exit, string flags, bool afterIrqExit)
    {
        var t = new InterruptTracepoints(ArchInfo.For(arch)).For(TimerExpiry.Tick)!;
        Assert.Equal((entry, exit, flags, afterIrqExit), (t.Entry.ToString(), t.Exit.ToString(), t.Flags.ToString(), t.ExitAfterIrqExit));
    }

    [Fact]
    public void Arm64_ipis_are_ipi_entry_with_the_ipi_types_reason_and_exit_after_irq_exit()
    {
        var tp = new InterruptTracepoints(ArchInfo.Arm64);
        string Reason(InterruptSource s) => tp.For(s)!.Entry.ToString();
        Assert.Equal("ipi_entry: (Rescheduling interrupts)", Reason(new RescheduleIpi(RescheduleReason.Migration)));
        Assert.Equal("ipi_entry: (Rescheduling interrupts)", Reason(new SignalWakeup(10)));
        Assert.Equal("ipi_entry: (Rescheduling interrupts)", Reason(new WorkWakeup(WorkFunction.VmstatUpdate)));
        Assert.Equal("ipi_entry: (Function call interrupts)", Reason(TlbShootdown.Instance));
        Assert.Equal("ipi_entry: (Function call interrupts)", Reason(new TickDependencyKick(TickDep.PosixTimer, Remote: true)));
        Assert.Equal("ipi_entry: (IRQ work interrupts)", Reason(new TickDependencyKick(TickDep.Sched, Remote: false)));
        Assert.Equal("irq_handler_entry: irq=24 name=eth0", Reason(new DeviceInterrupt(24, "eth0")));
        var ipi = tp.For(new SignalWakeup(10))!;
        Assert.True(ipi.ExitAfterIrqExit);
        Assert.Equal("ipi_exit: (Rescheduling interrupts)", ipi.Exit.ToString());
        Assert.Equal("d..1", ipi.Flags.ToString());
        Assert.Null(tp.For(NonMaskableInterrupt.Instance));
    }

    [Fact]
    public void X86_interrupts_are_its_vector_events_exited_before_irq_exit()
    {
        var tp = new InterruptTracepoints(ArchInfo.X86_64);
        (string, string, bool) Pair(InterruptSource s) => (tp.For(s)!.Entry.ToString(), tp.For(s)!.Exit.ToString(), tp.For(s)!.ExitAfterIrqExit);
        Assert.Equal(("reschedule_entry: vector=253", "reschedule_exit: vector=253", false), Pair(new SignalWakeup(10)));
        Assert.Equal(("call_function_entry: vector=252", "call_function_exit: vector=252", false), Pair(TlbShootdown.Instance));
        Assert.Equal(("call_function_entry: vector=252", "call_function_exit: vector=252", false), Pair(new TickDependencyKick(TickDep.PosixTimer, Remote: true)));
        Assert.Equal(("irq_work_entry: vector=246", "irq_work_exit: vector=246", false), Pair(new TickDependencyKick(TickDep.Sched, Remote: false)));
        Assert.Equal(("irq_handler_entry: irq=24 name=eth0", "irq_handler_exit: irq=24 ret=handled", false), Pair(new DeviceInterrupt(24, "eth0")));
        Assert.Equal(
            "nmi_handler: perf_event_nmi_handler() delta_ns: 1000 handled: 1",
            InterruptTracepoints.NmiHandler(1000).ToString());
    }

    [Fact]
    public void Event_fields_match_the_tracepoints()
    {
        var v = ArchInfo.X86_64.Vectors;
        Assert.Equal("local_timer_entry: vector=239", new TraceEvent.LocalTimerEntry(v.LocalTimer).ToString());
        Assert.Equal("reschedule_entry: vector=253", new TraceEvent.RescheduleEntry(v.Reschedule).ToString());
        Assert.Equal("call_function_entry: vector=252", new TraceEvent.CallFunctionEntry(v.CallFunction).ToString());
        Assert.Equal("irq_work_entry: vector=246", new TraceEvent.IrqWorkEntry(v.IrqWork).ToString());
        Assert.Equal("irq_handler_entry: irq=24 name=eth0-rx-0", new TraceEvent.IrqHandlerEntry(24, "eth0-rx-0").ToString());
        Assert.Equal("tick_stop: success=1 dependency=NONE", new TraceEvent.TickStop(true, TickDep.None).ToString());
        Assert.Equal("tick_stop: success=0 dependency=SCHED", new TraceEvent.TickStop(false, TickDep.Sched).ToString());
        Assert.Equal(
            "tick_stop: success=0 dependency=POSIX_TIMER",
            new TraceEvent.TickStop(false, TickDep.PosixTimer | TickDep.ClockUnstable).ToString());
        Assert.Equal(
            "workqueue_execute_start: work struct ffff88003fd8e6a0: function vmstat_update",
            new TraceEvent.WorkqueueExecuteStart(0xffff88003fd8e6a0, "vmstat_update").ToString());
        Assert.Equal(
            "workqueue_execute_start: work struct 00000000000abcde: function lru_add_drain_per_cpu",
            new TraceEvent.WorkqueueExecuteStart(0xabcde, "lru_add_drain_per_cpu").ToString());
        Assert.Equal("tlb_flush: pages:-1 reason:remote shootdown (1)", new TraceEvent.TlbFlush(-1, TlbFlushReason.RemoteShootdown).ToString());
        Assert.Equal("tlb_flush: pages:1 reason:local shootdown (2)", new TraceEvent.TlbFlush(1, TlbFlushReason.LocalShootdown).ToString());
        Assert.Equal(
            "nmi_handler: perf_event_nmi_handler() delta_ns: 1000 handled: 1",
            new TraceEvent.NmiHandler("perf_event_nmi_handler", 1000, 1).ToString());
    }

    [Fact]
    public void Sched_switch_prints_a_preempted_task_as_R_plus()
    {
        var e = new TraceEvent.SchedSwitch("spin", 1234, 120, TaskRunState.Running, Preempted: true, "kworker/3:1", 57, 120);

        Assert.Equal(
            "sched_switch: prev_comm=spin prev_pid=1234 prev_prio=120 prev_state=R+ ==> next_comm=kworker/3:1 next_pid=57 next_prio=120",
            e.ToString());
    }

    [Theory]
    [InlineData(TaskRunState.Running, "R")]
    [InlineData(TaskRunState.Interruptible, "S")]
    [InlineData(TaskRunState.Uninterruptible, "D")]
    [InlineData(TaskRunState.Uninterruptible | TaskRunState.WakeKill, "D|K")]
    [InlineData(TaskRunState.Dead, "X")]
    [InlineData((TaskRunState)(1 | 4096), "S")]
    public void Sched_switch_prev_state_decodes_the_state_bits(TaskRunState state, string expected)
    {
        var e = new TraceEvent.SchedSwitch("kworker/3:1", 57, 120, state, Preempted: false, "swapper/3", 0, 120);

        Assert.Contains($" prev_state={expected} ==> ", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_full_sched_switch_line()
    {
        var e = new TraceEvent.SchedSwitch("kworker/3:1", 57, 120, TaskRunState.Interruptible, false, "swapper/3", 0, 120);

        var line = FtraceFormatter.FormatLine(On(3, new TraceFlags(true, false, IrqContext.None, 0), e, comm: "kworker/3:1", pid: 57, ts: 2_000_004_000));

        Assert.Equal(
            "     kworker/3:1-57    [003] d...     2.000004: sched_switch: prev_comm=kworker/3:1 prev_pid=57 prev_prio=120 prev_state=S ==> next_comm=swapper/3 next_pid=0 next_prio=120",
            line);
    }

    [Fact]
    public void Header_is_the_4_7_irq_info_header()
    {
        var h = FtraceFormatter.Header(2, 2, 8);

        Assert.Equal(
            "# tracer: nop\n" +
            "#\n" +
            "# entries-in-buffer/entries-written: 2/2   #P:8\n" +
            "#\n" +
            "#                              _-----=> irqs-off\n" +
            "#                             / _----=> need-resched\n" +
            "#                            | / _---=> hardirq/softirq\n" +
            "#                            || / _--=> preempt-depth\n" +
            "#                            ||| /     delay\n" +
            "#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION\n" +
            "#              | |       |   ||||       |         |\n",
            h);
    }

    [Fact]
    public void Header_columns_line_up_with_event_lines()
    {
        var header = FtraceFormatter.Header(1, 1, 4).Split('\n');
        var columns = header[^3];
        var line = FtraceFormatter.FormatLine(On(3, TraceFlags.HardIrqHandler, new TraceEvent.LocalTimerEntry()));

        Assert.Equal(columns.IndexOf("CPU#", StringComparison.Ordinal), line.IndexOf('[', StringComparison.Ordinal));
        Assert.Equal(columns.IndexOf("||||", StringComparison.Ordinal), line.IndexOf("d.h1", StringComparison.Ordinal));
    }
}
