using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Machine.Trace;

/// <summary>
/// The reason strings arm64's <c>handle_IPI()</c> passes to <c>trace_ipi_entry()</c>/<c>trace_ipi_exit()</c>:
/// <c>ipi_types[]</c> of <c>arch/arm64/kernel/smp.c</c> in 4.7.
/// </summary>
public static class Arm64IpiReasons
{
    /// <summary><c>IPI_RESCHEDULE</c>: <c>smp_send_reschedule()</c>.</summary>
    public const string Reschedule = "Rescheduling interrupts";

    /// <summary><c>IPI_CALL_FUNC</c>: <c>smp_call_function*()</c>, single-CPU calls included (the remote nohz kick).</summary>
    public const string CallFunction = "Function call interrupts";

    /// <summary><c>IPI_CPU_STOP</c>.</summary>
    public const string CpuStop = "CPU stop interrupts";

    /// <summary><c>IPI_TIMER</c>: <c>tick_broadcast()</c>.</summary>
    public const string Timer = "Timer broadcast interrupts";

    /// <summary><c>IPI_IRQ_WORK</c>: <c>arch_irq_work_raise()</c>, an irq_work raised on the CPU itself.</summary>
    public const string IrqWork = "IRQ work interrupts";

    /// <summary><c>IPI_WAKEUP</c>.</summary>
    public const string Wakeup = "CPU wake-up interrupts";
}

/// <summary>
/// How one interrupt's handler shows in the ftrace text: its entry and exit events, the flags they are recorded with,
/// and whether the exit comes after <c>irq_exit()</c> (so after the <c>tick_stop</c> it may trace) or before it.
/// </summary>
/// <param name="Entry">The entry event (<c>*_entry</c>).</param>
/// <param name="Exit">The matching exit event (<c>*_exit</c>).</param>
/// <param name="Flags">The latency flags of both lines.</param>
/// <param name="ExitAfterIrqExit">arm64's <c>ipi_exit</c>: traced after the IPI's <c>irq_exit()</c>.</param>
public sealed record InterruptTrace(TraceEvent Entry, TraceEvent Exit, TraceFlags Flags, bool ExitAfterIrqExit);

/// <summary>
/// The rule of which tracepoints an arch's kernel fires for each interrupt the model takes (docs/reports.md): x86's
/// <c>irq_vectors</c> events (<c>smp_trace_apic_timer_interrupt()</c> and its siblings trace entry and exit around the
/// handler, inside <c>irq_enter()</c>/<c>irq_exit()</c>), arm64's <c>ipi_entry</c>/<c>ipi_exit</c> around
/// <c>handle_IPI()</c> and the generic <c>irq_handler_entry</c>/<c>irq_handler_exit</c> of
/// <c>__handle_irq_event_percpu()</c> for its arch timer and any device interrupt; tile prints x86's vector events by the
/// model's convention. NMIs have no entry/exit pair on any arch: x86's <c>nmi_handler</c> is one line when the handler
/// returns (<see cref="NmiHandler"/>). One instance per arch; the events of fixed interrupts are built once.
/// </summary>
public sealed class InterruptTracepoints
{
    private static readonly TraceFlags InIpiHandler = new(true, false, IrqContext.None, 1);
    private static readonly TraceFlags NmiFlags = new(true, false, IrqContext.Nmi, 1);

    private readonly ArchInfo _arch;
    private readonly InterruptTrace _timer;
    private readonly InterruptTrace _reschedule;
    private readonly InterruptTrace _callFunction;
    private readonly InterruptTrace _irqWork;
    private readonly Dictionary<(int Irq, string Name), InterruptTrace> _devices = [];

    /// <summary>The tracepoints of <paramref name="arch"/>.</summary>
    public InterruptTracepoints(ArchInfo arch)
    {
        ArgumentNullException.ThrowIfNull(arch);
        _arch = arch;
        if (arch.IrqTraceStyle == IrqTraceStyle.Arm64Ipi)
        {
            _timer = Device(arch.TimerIrq, arch.TimerIrqName ?? "arch_timer");
            _reschedule = Ipi(Arm64IpiReasons.Reschedule);
            _callFunction = Ipi(Arm64IpiReasons.CallFunction);
            _irqWork = Ipi(Arm64IpiReasons.IrqWork);
            TimerBroadcast = Ipi(Arm64IpiReasons.Timer);
        }
        else
        {
            var v = arch.Vectors;
            var f = TraceFlags.HardIrqHandler;
            _timer = new(new TraceEvent.LocalTimerEntry(v.LocalTimer), new TraceEvent.LocalTimerExit(v.LocalTimer), f, false);
            _reschedule = new(new TraceEvent.RescheduleEntry(v.Reschedule), new TraceEvent.RescheduleExit(v.Reschedule), f, false);
            _callFunction = new(new TraceEvent.CallFunctionEntry(v.CallFunction), new TraceEvent.CallFunctionExit(v.CallFunction), f, false);
            _irqWork = new(new TraceEvent.IrqWorkEntry(v.IrqWork), new TraceEvent.IrqWorkExit(v.IrqWork), f, false);

            // x86's broadcast sends LOCAL_TIMER_VECTOR: the receiver runs its local timer handler.
            TimerBroadcast = _timer;
        }
    }

    /// <summary>The flags of an NMI's <c>nmi_handler</c> line: <c>d.z1</c>.</summary>
    public static TraceFlags NmiContext => NmiFlags;

    /// <summary>A timer-broadcast IPI's events (arm64's <c>IPI_TIMER</c>, x86's local timer vector).</summary>
    private InterruptTrace TimerBroadcast { get; }

    /// <summary>
    /// The <c>nmi_handler</c> line of an NMI that ran <paramref name="deltaNs"/>: x86's perf NMI handler
    /// (<c>perf_event_nmi_handler</c>), printed on every arch (4.7's arm64 and tile have no NMI; the model's NMI source
    /// shows as x86's).
    /// </summary>
    public static TraceEvent NmiHandler(long deltaNs) => new TraceEvent.NmiHandler("perf_event_nmi_handler", deltaNs, 1);

    /// <summary>The entry and exit of the handler of <paramref name="source"/>; null for an NMI (see <see cref="NmiHandler"/>).</summary>
    public InterruptTrace? For(InterruptSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source switch
        {
            DeviceInterrupt d => DeviceTrace(d.Irq, d.Name),
            // 4.7's tick_nohz_full_kick_all(): smp_call_function_many() to the other nohz_full CPUs.
            TickDependencyKick { Remote: true } => _callFunction,
            _ => source.Kind switch
            {
                InterruptKind.Tick or InterruptKind.ResidualTick or InterruptKind.StaleTimer => _timer,
                InterruptKind.TimerIpi => TimerBroadcast,
                InterruptKind.RescheduleIpi or InterruptKind.VmstatWork or InterruptKind.LruDrainWork => _reschedule,
                InterruptKind.CallFunctionIpi => _callFunction,
                InterruptKind.IrqWork => _irqWork,
                _ => null,
            },
        };
    }

    private static InterruptTrace Ipi(string reason) => new(new TraceEvent.IpiEntry(reason), new TraceEvent.IpiExit(reason), InIpiHandler, true);

    private static InterruptTrace Device(int irq, string name) =>
        new(new TraceEvent.IrqHandlerEntry(irq, name), new TraceEvent.IrqHandlerExit(irq, true), TraceFlags.HardIrqHandler, false);

    private InterruptTrace DeviceTrace(int irq, string name)
    {
        if (!_devices.TryGetValue((irq, name), out var t))
        {
            t = Device(irq, name);
            _devices[(irq, name)] = t;
        }

        return t;
    }

    /// <inheritdoc />
    public override string ToString() => $"interrupt tracepoints of {_arch.Name}";
}
