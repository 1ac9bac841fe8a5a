using System.Globalization;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;

namespace TaskIsolation.Machine.Events;

/// <summary>
/// What raised an interrupt and why, as typed data: the model decides on it (the violation rule, the trace exporters,
/// a kworker's work), and <see cref="Text"/> is the only place that turns it into the words traces and causal chains
/// show (<c>TLB shootdown IPI</c>, <c>reschedule IPI (signal 10)</c>, <c>irq 24 (eth0)</c>).
/// </summary>
public abstract record InterruptSource
{
    private protected InterruptSource()
    {
    }

    /// <summary>The interrupt's kind (its vector), implied by the source.</summary>
    public abstract InterruptKind Kind { get; }

    /// <summary>The display text: the one formatter of an interrupt's name (docs/model.md §5).</summary>
    public string Text => this switch
    {
        TimerExpiry { Timer: TimerKind.Tick } => "local timer (tick)",
        TimerExpiry { Timer: TimerKind.ResidualTick } => "residual 1Hz tick",
        TimerExpiry { Timer: TimerKind.StaleTimer } => "stale timer (no oneshot-stopped)",
        TimerExpiry { Timer: TimerKind.Nanosleep } => "hrtimer (nanosleep)",
        TickDependencyKick k => $"{(k.Remote ? "irq_work IPI" : "irq_work")} (tick dependency {TickDependencies.TraceName(k.Dependency)})",
        RescheduleIpi r => $"reschedule IPI ({RescheduleText(r.Reason)})",
        SignalWakeup s => string.Create(CultureInfo.InvariantCulture, $"reschedule IPI (signal {s.Signal})"),
        WorkWakeup w => $"reschedule IPI ({WorkFunctions.Name(w.Function)} work)",
        TlbShootdown => "TLB shootdown IPI",
        DeviceInterrupt d => string.Create(CultureInfo.InvariantCulture, $"irq {d.Irq} ({d.Name})"),
        NonMaskableInterrupt => "NMI",
        _ => throw new InvalidOperationException($"unknown interrupt source {GetType().Name}"),
    };

    /// <summary>The display text.</summary>
    public sealed override string ToString() => Text;

    private static string RescheduleText(RescheduleReason reason) => reason switch
    {
        RescheduleReason.NewTask => "new task",
        RescheduleReason.Migration => "migration",
        RescheduleReason.ChildExit => "child exit",
        RescheduleReason.IsolationReport => "isolation report",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "unknown reschedule reason"),
    };
}

/// <summary>Which local timer fired.</summary>
public enum TimerKind
{
    /// <summary>The periodic scheduler tick.</summary>
    Tick,

    /// <summary>4.7's residual 1 Hz tick of a busy nohz_full CPU.</summary>
    ResidualTick,

    /// <summary>The last programmed timer firing after the tick stopped, on a clockevent without oneshot-stopped.</summary>
    StaleTimer,

    /// <summary>A sleeping task's hrtimer (<c>nanosleep</c>) expired.</summary>
    Nanosleep,
}

/// <summary>A local timer interrupt.</summary>
/// <param name="Timer">Which timer.</param>
public sealed record TimerExpiry(TimerKind Timer) : InterruptSource
{
    /// <summary>The periodic tick.</summary>
    public static TimerExpiry Tick { get; } = new(TimerKind.Tick);

    /// <summary>The residual 1 Hz tick.</summary>
    public static TimerExpiry ResidualTick { get; } = new(TimerKind.ResidualTick);

    /// <summary>A stale timer expiry.</summary>
    public static TimerExpiry StaleTimer { get; } = new(TimerKind.StaleTimer);

    /// <summary>A nanosleep hrtimer.</summary>
    public static TimerExpiry Nanosleep { get; } = new(TimerKind.Nanosleep);

    /// <inheritdoc />
    public override InterruptKind Kind => Timer switch
    {
        TimerKind.ResidualTick => InterruptKind.ResidualTick,
        TimerKind.StaleTimer => InterruptKind.StaleTimer,
        _ => InterruptKind.Tick,
    };
}

/// <summary>
/// The nohz kick of <c>tick_nohz_dep_set*()</c>: an irq_work whose interrupt exit re-evaluates the tick because
/// <paramref name="Dependency"/> was set; <paramref name="Remote"/> when sent to another CPU (an IPI), not queued locally.
/// </summary>
public sealed record TickDependencyKick(TickDep Dependency, bool Remote) : InterruptSource
{
    /// <inheritdoc />
    public override InterruptKind Kind => InterruptKind.IrqWork;
}

/// <summary>Why a reschedule IPI (<c>smp_send_reschedule()</c>) was sent, when it is not a signal's or a work item's.</summary>
public enum RescheduleReason
{
    /// <summary>A new task (fork, clone, boot) put on the CPU's runqueue (<c>wake_up_new_task()</c>).</summary>
    NewTask,

    /// <summary>A task migrated onto the CPU (<c>sched_setaffinity()</c>, the migration stopper).</summary>
    Migration,

    /// <summary>A child exited: its parent's <c>wait4</c> is woken.</summary>
    ChildExit,

    /// <summary>The kernel's own report of an isolation break a remote CPU already counted (v13 patch 05's signal).</summary>
    IsolationReport,
}

/// <summary>A reschedule IPI for <paramref name="Reason"/>.</summary>
public sealed record RescheduleIpi(RescheduleReason Reason) : InterruptSource
{
    /// <inheritdoc />
    public override InterruptKind Kind => InterruptKind.RescheduleIpi;
}

/// <summary>
/// A signal's wake-up: <c>signal_wake_up()</c> → <c>kick_process()</c> sends a reschedule IPI to the CPU the target
/// runs on, so it notices <paramref name="Signal"/>.
/// </summary>
public sealed record SignalWakeup(int Signal) : InterruptSource
{
    /// <inheritdoc />
    public override InterruptKind Kind => InterruptKind.RescheduleIpi;
}

/// <summary>A work item queued on the CPU (<c>queue_work_on()</c>): the wake-up of its kworker there.</summary>
public sealed record WorkWakeup(WorkFunction Function) : InterruptSource
{
    /// <inheritdoc />
    public override InterruptKind Kind => Function == WorkFunction.VmstatUpdate ? InterruptKind.VmstatWork : InterruptKind.LruDrainWork;
}

/// <summary>A TLB shootdown (<c>native_flush_tlb_others()</c>): a call-function IPI running <c>flush_tlb_func</c>.</summary>
public sealed record TlbShootdown : InterruptSource
{
    /// <summary>The one instance.</summary>
    public static TlbShootdown Instance { get; } = new();

    /// <inheritdoc />
    public override InterruptKind Kind => InterruptKind.CallFunctionIpi;
}

/// <summary>A device interrupt on line <paramref name="Irq"/>, whose action is named <paramref name="Name"/> (as <c>/proc/interrupts</c> shows).</summary>
public sealed record DeviceInterrupt(int Irq, string Name) : InterruptSource
{
    /// <inheritdoc />
    public override InterruptKind Kind => InterruptKind.DeviceIrq;
}

/// <summary>An NMI (watchdog, perf counter overflow).</summary>
public sealed record NonMaskableInterrupt : InterruptSource
{
    /// <summary>The one instance.</summary>
    public static NonMaskableInterrupt Instance { get; } = new();

    /// <inheritdoc />
    public override InterruptKind Kind => InterruptKind.Nmi;
}
