using System.Globalization;
using TaskIsolation.Machine.Arch;

namespace TaskIsolation.Machine.Abi;

/// <summary>What reached a CPU (docs/model.md §5, §7). Each kind is one message kind of the actor machine.</summary>
public enum InterruptKind
{
    /// <summary>The scheduler tick (local timer, x86 vector 239) while the tick runs.</summary>
    Tick,

    /// <summary>4.7's residual tick: a non-idle nohz_full CPU still ticks at least once a second (§9 R4).</summary>
    ResidualTick,

    /// <summary>The last programmed timer firing after the tick stopped, on a clockevent without oneshot-stopped (§9 R5).</summary>
    StaleTimer,

    /// <summary>An IRQ_WORK IPI (vector 246): the nohz tick-dependency kick.</summary>
    IrqWork,

    /// <summary>A reschedule IPI (vector 253): a wake-up, a migration, a signal.</summary>
    RescheduleIpi,

    /// <summary>A call-function IPI (vector 252): a TLB shootdown or smp_call_function.</summary>
    CallFunctionIpi,

    /// <summary>A timer-broadcast IPI (<c>tick_broadcast()</c>, arm's <c>IPI_TIMER</c>).</summary>
    TimerIpi,

    /// <summary>A device interrupt on an IRQ line, with its number and name.</summary>
    DeviceIrq,

    /// <summary>A non-maskable interrupt: nothing may be signalled from it.</summary>
    Nmi,

    /// <summary>The vmstat worker queued on the CPU: its kworker is woken there by a reschedule IPI.</summary>
    VmstatWork,

    /// <summary>An LRU drain work item queued on the CPU by <c>lru_add_drain_all()</c>: a kworker wake-up there.</summary>
    LruDrainWork,

    /// <summary>A page fault the kernel resolves without a signal (synchronous, but reported the same way).</summary>
    PageFault,
}

/// <summary>
/// One interruption, with what the kernel prints as its type in the isolation messages (<see cref="Reason"/>).
/// Build with the factories; <see cref="DeviceIrq"/> and <see cref="PageFault"/> carry their data.
/// </summary>
public sealed record Interruption
{
    private Interruption(InterruptKind kind, int? irq = null, string? irqName = null, ulong? address = null)
    {
        Kind = kind;
        Irq = irq;
        IrqName = irqName;
        Address = address;
    }

    /// <summary>The kind.</summary>
    public InterruptKind Kind { get; }

    /// <summary>The IRQ number of a <see cref="InterruptKind.DeviceIrq"/>.</summary>
    public int? Irq { get; }

    /// <summary>The IRQ's name (its action's <c>name</c>, as <c>/proc/interrupts</c> shows) for a device IRQ.</summary>
    public string? IrqName { get; }

    /// <summary>The faulting address of a <see cref="InterruptKind.PageFault"/>.</summary>
    public ulong? Address { get; }

    /// <summary>Whether this arrives asynchronously (everything but a page fault).</summary>
    public bool IsAsynchronous => Kind != InterruptKind.PageFault;

    /// <summary>
    /// The type string of the series' reports (docs/model.md §7): <c>irq_work</c>, <c>IPI function</c>,
    /// <c>reschedule IPI</c>, <c>timer IPI</c>, <c>irq</c>, <c>irq &lt;n&gt; (&lt;name&gt;)</c>, <c>NMI</c>,
    /// <c>page fault at 0x&lt;addr&gt;</c>. The strings are the ones the series passes at each hook: irq_work from
    /// <c>irq_work_queue_on()</c>, "IPI function" from <c>smp_call_function*()</c>, "reschedule IPI" from
    /// <c>smp_send_reschedule()</c>, "timer IPI" from <c>tick_broadcast()</c>, "irq" from the x86 interrupt entry
    /// (<c>entering_irq()</c>, which the local timer also takes). A worker queued on the CPU (vmstat, LRU drain)
    /// reaches it as the wake-up of its kworker, so it reads "reschedule IPI"; an NMI reads "NMI" (the model's word:
    /// the series has no NMI hook, it only refuses to signal from NMI context).
    /// </summary>
    public string Reason => Kind switch
    {
        InterruptKind.Tick or InterruptKind.ResidualTick or InterruptKind.StaleTimer => "irq",
        InterruptKind.IrqWork => "irq_work",
        InterruptKind.RescheduleIpi or InterruptKind.VmstatWork or InterruptKind.LruDrainWork => "reschedule IPI",
        InterruptKind.CallFunctionIpi => "IPI function",
        InterruptKind.TimerIpi => "timer IPI",
        InterruptKind.DeviceIrq => string.Create(CultureInfo.InvariantCulture, $"irq {Irq} ({IrqName})"),
        InterruptKind.Nmi => "NMI",
        InterruptKind.PageFault => ArchInfo.PageFaultReason(Address ?? 0),
        _ => throw new InvalidOperationException($"unknown interrupt kind {Kind}"),
    };

    /// <summary>The scheduler tick.</summary>
    public static Interruption Tick { get; } = new(InterruptKind.Tick);

    /// <summary>The residual 1 Hz tick.</summary>
    public static Interruption ResidualTick { get; } = new(InterruptKind.ResidualTick);

    /// <summary>A stale timer expiry after the tick stopped.</summary>
    public static Interruption StaleTimer { get; } = new(InterruptKind.StaleTimer);

    /// <summary>An irq_work IPI.</summary>
    public static Interruption IrqWork { get; } = new(InterruptKind.IrqWork);

    /// <summary>A reschedule IPI.</summary>
    public static Interruption RescheduleIpi { get; } = new(InterruptKind.RescheduleIpi);

    /// <summary>A call-function IPI (TLB shootdown).</summary>
    public static Interruption CallFunctionIpi { get; } = new(InterruptKind.CallFunctionIpi);

    /// <summary>A timer-broadcast IPI.</summary>
    public static Interruption TimerIpi { get; } = new(InterruptKind.TimerIpi);

    /// <summary>An NMI.</summary>
    public static Interruption Nmi { get; } = new(InterruptKind.Nmi);

    /// <summary>The vmstat worker's wake-up.</summary>
    public static Interruption VmstatWork { get; } = new(InterruptKind.VmstatWork);

    /// <summary>An LRU drain worker's wake-up.</summary>
    public static Interruption LruDrainWork { get; } = new(InterruptKind.LruDrainWork);

    /// <summary>Device interrupt <paramref name="irq"/> named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="irq"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    public static Interruption DeviceIrq(int irq, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(irq);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new(InterruptKind.DeviceIrq, irq, name);
    }

    /// <summary>A page fault at <paramref name="address"/>.</summary>
    public static Interruption PageFault(ulong address) => new(InterruptKind.PageFault, address: address);

    /// <summary>
    /// Whether the receiving CPU's own interrupt entry reports this kind to an isolated task (patch 05's irq-entry hook):
    /// local timers, device interrupts and NMIs have no sender to do it. IPIs, irq_work and queued work are reported by
    /// the CPU that sends them, before sending (<c>task_isolation_debug()</c> in the IPI paths).
    /// </summary>
    public static bool ReportedByReceiver(InterruptKind kind) =>
        kind is InterruptKind.Tick or InterruptKind.ResidualTick or InterruptKind.StaleTimer
            or InterruptKind.DeviceIrq or InterruptKind.Nmi;

    /// <summary>The reason string.</summary>
    public override string ToString() => Reason;
}
