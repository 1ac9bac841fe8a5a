using System.Globalization;
using TaskIsolation.Machine.Abi.Tick;

namespace TaskIsolation.Machine.Trace;

/// <summary>
/// One trace event of docs/model.md §11, as its tracepoint's <c>TP_printk</c> formats it. A closed set; each carries the
/// fields its 4.7 tracepoint records.
/// </summary>
public abstract record TraceEvent
{
    private TraceEvent()
    {
    }

    /// <summary>The event name, e.g. <c>local_timer_entry</c>.</summary>
    public abstract string EventName { get; }

    /// <summary>The fields as the tracepoint prints them, e.g. <c>vector=239</c>.</summary>
    public abstract string FormatFields();

    /// <summary><c>&lt;event&gt;: &lt;fields&gt;</c>, as the event part of an ftrace line (sealed, so no event prints as a record).</summary>
    public sealed override string ToString() => $"{EventName}: {FormatFields()}";

    /// <summary>x86 <c>local_timer_entry</c>: <c>vector=%d</c>.</summary>
    /// <param name="Vector">The vector (239 on x86; see <c>ArchInfo.Vectors</c>).</param>
    public sealed record LocalTimerEntry(int Vector = 239) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "local_timer_entry";

        /// <inheritdoc />
        public override string FormatFields() => VectorField(Vector);
    }

    /// <summary>x86 <c>reschedule_entry</c>: <c>vector=%d</c>.</summary>
    /// <param name="Vector">The vector (253 on x86).</param>
    public sealed record RescheduleEntry(int Vector = 253) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "reschedule_entry";

        /// <inheritdoc />
        public override string FormatFields() => VectorField(Vector);
    }

    /// <summary>x86 <c>call_function_entry</c>: <c>vector=%d</c>.</summary>
    /// <param name="Vector">The vector (252 on x86).</param>
    public sealed record CallFunctionEntry(int Vector = 252) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "call_function_entry";

        /// <inheritdoc />
        public override string FormatFields() => VectorField(Vector);
    }

    /// <summary>x86 <c>irq_work_entry</c>: <c>vector=%d</c>.</summary>
    /// <param name="Vector">The vector (246 on x86).</param>
    public sealed record IrqWorkEntry(int Vector = 246) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "irq_work_entry";

        /// <inheritdoc />
        public override string FormatFields() => VectorField(Vector);
    }

    /// <summary>x86 <c>local_timer_exit</c>: <c>vector=%d</c>, traced before <c>irq_exit()</c>.</summary>
    /// <param name="Vector">The vector (239 on x86).</param>
    public sealed record LocalTimerExit(int Vector = 239) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "local_timer_exit";

        /// <inheritdoc />
        public override string FormatFields() => VectorField(Vector);
    }

    /// <summary>x86 <c>reschedule_exit</c>: <c>vector=%d</c>.</summary>
    /// <param name="Vector">The vector (253 on x86).</param>
    public sealed record RescheduleExit(int Vector = 253) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "reschedule_exit";

        /// <inheritdoc />
        public override string FormatFields() => VectorField(Vector);
    }

    /// <summary>x86 <c>call_function_exit</c>: <c>vector=%d</c>.</summary>
    /// <param name="Vector">The vector (252 on x86).</param>
    public sealed record CallFunctionExit(int Vector = 252) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "call_function_exit";

        /// <inheritdoc />
        public override string FormatFields() => VectorField(Vector);
    }

    /// <summary>x86 <c>irq_work_exit</c>: <c>vector=%d</c>.</summary>
    /// <param name="Vector">The vector (246 on x86).</param>
    public sealed record IrqWorkExit(int Vector = 246) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "irq_work_exit";

        /// <inheritdoc />
        public override string FormatFields() => VectorField(Vector);
    }

    /// <summary>
    /// <c>ipi_entry</c> (<c>include/trace/events/ipi.h</c>): <c>(%s)</c>, the IPI's reason string, which arm64's
    /// <c>handle_IPI()</c> passes as <c>ipi_types[ipinr]</c> (see <see cref="Arm64IpiReasons"/>).
    /// </summary>
    /// <param name="Reason">The reason, e.g. <c>Rescheduling interrupts</c>.</param>
    public sealed record IpiEntry(string Reason) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "ipi_entry";

        /// <inheritdoc />
        public override string FormatFields() => $"({Reason})";
    }

    /// <summary><c>ipi_exit</c>: <c>(%s)</c>; on arm64 traced at the end of <c>handle_IPI()</c>, after <c>irq_exit()</c>.</summary>
    /// <param name="Reason">The reason, as its <see cref="IpiEntry"/>.</param>
    public sealed record IpiExit(string Reason) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "ipi_exit";

        /// <inheritdoc />
        public override string FormatFields() => $"({Reason})";
    }

    /// <summary>
    /// <c>irq_handler_exit</c>: <c>irq=%d ret=%s</c>, <c>handled</c> or <c>unhandled</c> (the action's
    /// <c>irqreturn_t</c>).
    /// </summary>
    /// <param name="Irq">The IRQ number.</param>
    /// <param name="Handled">Whether the action returned <c>IRQ_HANDLED</c>.</param>
    public sealed record IrqHandlerExit(int Irq, bool Handled = true) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "irq_handler_exit";

        /// <inheritdoc />
        public override string FormatFields() =>
            string.Create(CultureInfo.InvariantCulture, $"irq={Irq} ret={(Handled ? "handled" : "unhandled")}");
    }

    /// <summary>
    /// <c>sys_enter</c> (<c>include/trace/events/syscalls.h</c>, the <c>raw_syscalls</c> system):
    /// <c>NR %ld (%lx, %lx, %lx, %lx, %lx, %lx)</c>.
    /// </summary>
    /// <param name="Nr">The syscall number on the machine's arch.</param>
    /// <param name="Args">The six argument registers.</param>
    public sealed record SysEnter(int Nr, Events.SyscallArgs Args) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "sys_enter";

        /// <inheritdoc />
        public override string FormatFields() => string.Create(CultureInfo.InvariantCulture, $"NR {Nr} ({Args})");
    }

    /// <summary><c>sys_exit</c> (<c>raw_syscalls</c>): <c>NR %ld = %ld</c>.</summary>
    /// <param name="Nr">The syscall number.</param>
    /// <param name="Ret">Its return value (a negative errno on failure).</param>
    public sealed record SysExit(int Nr, long Ret) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "sys_exit";

        /// <inheritdoc />
        public override string FormatFields() => string.Create(CultureInfo.InvariantCulture, $"NR {Nr} = {Ret}");
    }

    /// <summary><c>irq_handler_entry</c>: <c>irq=%d name=%s</c>.</summary>
    /// <param name="Irq">The IRQ number.</param>
    /// <param name="Name">The handler's name.</param>
    public sealed record IrqHandlerEntry(int Irq, string Name) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "irq_handler_entry";

        /// <inheritdoc />
        public override string FormatFields() => string.Create(CultureInfo.InvariantCulture, $"irq={Irq} name={Name}");
    }

    /// <summary>
    /// <c>nmi_handler</c> (<c>include/trace/events/nmi.h</c>): <c>%ps() delta_ns: %lld handled: %d</c>, recorded when a
    /// registered NMI handler returns, with the time it took.
    /// </summary>
    /// <param name="Handler">The handler's symbol, e.g. <c>perf_event_nmi_handler</c>.</param>
    /// <param name="DeltaNs">How long it ran, in nanoseconds.</param>
    /// <param name="Handled">How many events it handled (0: not its NMI).</param>
    public sealed record NmiHandler(string Handler, long DeltaNs, int Handled) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "nmi_handler";

        /// <inheritdoc />
        public override string FormatFields() =>
            string.Create(CultureInfo.InvariantCulture, $"{Handler}() delta_ns: {DeltaNs} handled: {Handled}");
    }

    /// <summary>
    /// <c>tick_stop</c>: <c>success=%d dependency=%s</c>. On success the dependency is <c>NONE</c>; on failure the one
    /// <c>check_tick_dependency()</c> found first.
    /// </summary>
    /// <param name="Success">Whether the tick stopped.</param>
    /// <param name="Dependency">The blocking dependency (several bits: the first in check order is printed).</param>
    public sealed record TickStop(bool Success, TickDep Dependency) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "tick_stop";

        /// <inheritdoc />
        public override string FormatFields() =>
            $"success={(Success ? 1 : 0)} dependency={TickDependencies.TraceName(Dependency)}";
    }

    /// <summary>
    /// <c>sched_switch</c>:
    /// <c>prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==&gt; next_comm=%s next_pid=%d next_prio=%d</c>.
    /// </summary>
    /// <param name="PrevComm">The outgoing task's comm (the idle task is <c>swapper/&lt;cpu&gt;</c>).</param>
    /// <param name="PrevPid">Its pid.</param>
    /// <param name="PrevPrio">Its kernel priority (120 for nice 0).</param>
    /// <param name="PrevState">Its state; see <see cref="TaskRunState"/>.</param>
    /// <param name="Preempted">Whether it was preempted (4.7 then records RUNNING | TASK_STATE_MAX: <c>R+</c>).</param>
    /// <param name="NextComm">The incoming task's comm.</param>
    /// <param name="NextPid">Its pid.</param>
    /// <param name="NextPrio">Its priority.</param>
    public sealed record SchedSwitch(
        string PrevComm,
        int PrevPid,
        int PrevPrio,
        TaskRunState PrevState,
        bool Preempted,
        string NextComm,
        int NextPid,
        int NextPrio) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "sched_switch";

        /// <inheritdoc />
        public override string FormatFields()
        {
            // A preempted task is recorded as RUNNING whatever its state (__trace_sched_switch_state()).
            var state = Preempted ? "R+" : TaskRunStates.Format(PrevState);
            return string.Create(
                CultureInfo.InvariantCulture,
                $"prev_comm={PrevComm} prev_pid={PrevPid} prev_prio={PrevPrio} prev_state={state} ==> next_comm={NextComm} next_pid={NextPid} next_prio={NextPrio}");
        }
    }

    /// <summary>
    /// <c>workqueue_execute_start</c>: <c>work struct %p: function %pf</c>. 4.7's <c>%p</c> prints the raw pointer as
    /// 16 zero-padded lower-case hex digits (no <c>0x</c>; pointer hashing came in 4.15).
    /// </summary>
    /// <param name="Work">The <c>struct work_struct</c> address.</param>
    /// <param name="Function">The work function's symbol, e.g. <c>vmstat_update</c>.</param>
    public sealed record WorkqueueExecuteStart(ulong Work, string Function) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "workqueue_execute_start";

        /// <inheritdoc />
        public override string FormatFields() =>
            $"work struct {Work.ToString("x16", CultureInfo.InvariantCulture)}: function {Function}";
    }

    /// <summary>x86 <c>tlb_flush</c>: <c>pages:%ld reason:%s (%d)</c>; a full flush is <c>pages:-1</c>.</summary>
    /// <param name="Pages">Pages flushed, -1 for all (<c>TLB_FLUSH_ALL</c>).</param>
    /// <param name="Reason">Why.</param>
    public sealed record TlbFlush(long Pages, TlbFlushReason Reason) : TraceEvent
    {
        /// <inheritdoc />
        public override string EventName => "tlb_flush";

        /// <inheritdoc />
        public override string FormatFields() =>
            string.Create(CultureInfo.InvariantCulture, $"pages:{Pages} reason:{ReasonName(Reason)} ({(int)Reason})");

        private static string ReasonName(TlbFlushReason r) => r switch
        {
            TlbFlushReason.FlushOnTaskSwitch => "flush on task switch",
            TlbFlushReason.RemoteShootdown => "remote shootdown",
            TlbFlushReason.LocalShootdown => "local shootdown",
            TlbFlushReason.LocalMmShootdown => "local mm shootdown",
            TlbFlushReason.RemoteSendIpi => "remote ipi send",
            _ => ((int)r).ToString(CultureInfo.InvariantCulture),
        };
    }

    private static string VectorField(int vector) => string.Create(CultureInfo.InvariantCulture, $"vector={vector}");
}

/// <summary>x86's <c>enum tlb_flush_reason</c> (<c>include/linux/mm_types.h</c>).</summary>
public enum TlbFlushReason
{
    /// <summary><c>TLB_FLUSH_ON_TASK_SWITCH</c>.</summary>
    FlushOnTaskSwitch = 0,

    /// <summary><c>TLB_REMOTE_SHOOTDOWN</c>: flushed in the call-function IPI from another CPU.</summary>
    RemoteShootdown = 1,

    /// <summary><c>TLB_LOCAL_SHOOTDOWN</c>.</summary>
    LocalShootdown = 2,

    /// <summary><c>TLB_LOCAL_MM_SHOOTDOWN</c>.</summary>
    LocalMmShootdown = 3,

    /// <summary><c>TLB_REMOTE_SEND_IPI</c>: the sender, about to send the IPIs.</summary>
    RemoteSendIpi = 4,
}
