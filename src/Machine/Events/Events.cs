using System.Globalization;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;

namespace TaskIsolation.Machine.Events;

/// <summary>
/// A task's program step began: the usual root of a causal chain (<c>task hk/101 on cpu 0: munmap</c>).
/// <see cref="Step"/> is what kind of step it is (decide on it); <see cref="Operation"/> is how it reads in a chain
/// (<c>compute 2ms</c>, <c>fork(child)</c>), for display only.
/// </summary>
public sealed record OperationStarted(long Id, long Time, int Cpu, long Cause, TaskRef Task, TaskStep Step, string Operation)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"task {Task} on cpu {Cpu}: {Operation}";
}

/// <summary>A CPU sent an interrupt (IPI, irq_work, work queued remotely) to another CPU.</summary>
public sealed record InterruptSent(long Id, long Time, int Cpu, long Cause, InterruptSource Source, int TargetCpu)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>The interrupt's kind, from its <see cref="Source"/>.</summary>
    public InterruptKind Kind => Source.Kind;

    /// <summary>How traces and chains name the interrupt (display only: decide on <see cref="Source"/>).</summary>
    public string Detail => Source.Text;

    /// <inheritdoc />
    public override string What => $"{Detail} → cpu {TargetCpu}";
}

/// <summary>
/// An interrupt was taken by <see cref="MachineEvent.Cpu"/> (its handler starts now). <see cref="State"/> and
/// <see cref="Current"/> are the ground truth at that instant: the violation monitor judges by them.
/// </summary>
public sealed record InterruptTaken(long Id, long Time, int Cpu, long Cause, InterruptSource Source, CpuState State, TaskRef? Current, bool Held)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>The interrupt's kind, from its <see cref="Source"/>.</summary>
    public InterruptKind Kind => Source.Kind;

    /// <summary>How traces and chains name the interrupt (display only: decide on <see cref="Source"/>).</summary>
    public string Detail => Source.Text;

    /// <inheritdoc />
    public override string What =>
        $"{Detail} taken in {State.ToString().ToLowerInvariant()}{(Current is null ? string.Empty : " by " + Current)}{(Held ? " (held while irqs were off)" : string.Empty)}";
}

/// <summary>An interrupt arrived while interrupts were disabled and is held until they are enabled again.</summary>
public sealed record InterruptHeld(long Id, long Time, int Cpu, long Cause, InterruptSource Source)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>The interrupt's kind, from its <see cref="Source"/>.</summary>
    public InterruptKind Kind => Source.Kind;

    /// <summary>How traces and chains name the interrupt (display only: decide on <see cref="Source"/>).</summary>
    public string Detail => Source.Text;

    /// <inheritdoc />
    public override string What => $"{Detail} held: interrupts disabled";
}

/// <summary>
/// The scheduler tick stopped (<c>tick_stop: success=1</c>) or could not (<c>success=0</c> with the
/// <see cref="Dependency"/> that kept it; <see cref="TickDep.None"/> on success).
/// </summary>
public sealed record TickStopAttempted(long Id, long Time, int Cpu, long Cause, bool Success, TickDep Dependency, long NextEventNs)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => Success
        ? string.Create(CultureInfo.InvariantCulture, $"tick_stop: success=1 dependency=NONE next={(NextEventNs == long.MaxValue ? "none" : NextEventNs.ToString(CultureInfo.InvariantCulture))}")
        : $"tick_stop: success=0 dependency={TickDependencies.TraceName(Dependency)}";
}

/// <summary>
/// The tick was restarted on a CPU whose tick was stopped: <see cref="Dependency"/> is the dependency that now keeps it
/// (<c>tick_nohz_full_update_tick()</c>), or <see cref="TickDep.None"/> when the CPU left idle
/// (<c>tick_nohz_idle_exit()</c>).
/// </summary>
public sealed record TickRestarted(long Id, long Time, int Cpu, long Cause, TickDep Dependency)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>Whether the restart is the idle exit's rather than a dependency's.</summary>
    public bool IdleExit => Dependency == TickDep.None;

    /// <summary>The reason as traces show it: <c>idle exit</c> or the dependency's trace name (display only).</summary>
    public string Reason => IdleExit ? "idle exit" : TickDependencies.TraceName(Dependency);

    /// <inheritdoc />
    public override string What => $"tick restarted: {Reason}";
}

/// <summary>
/// A task entered the kernel by a system call (<c>sys_enter</c>): its number on the machine's arch, its name, and the six
/// argument registers as far as the model knows them (<see cref="SyscallArgs"/>).
/// </summary>
public sealed record SyscallEntered(long Id, long Time, int Cpu, long Cause, TaskRef Task, int Nr, string Name, SyscallArgs Args = default)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"{Task}: syscall {Nr} ({Name})";
}

/// <summary>
/// A system call returned (<c>sys_exit</c>, traced by <c>syscall_trace_exit()</c> / <c>syscall_slow_exit_work()</c>
/// before the exit-to-user loop): <see cref="Ret"/> is the value the task gets, e.g. <c>-513</c> (<c>-ERESTARTNOINTR</c>)
/// for a syscall that task isolation skipped. <c>exit</c> and <c>exit_group</c> never return, so they have none.
/// </summary>
public sealed record SyscallExited(long Id, long Time, int Cpu, long Cause, TaskRef Task, int Nr, long Ret)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => string.Create(CultureInfo.InvariantCulture, $"{Task}: syscall {Nr} returned {Ret}");
}

/// <summary>
/// An interrupt's handler returned (<see cref="MachineEvent.Cause"/> is its <see cref="InterruptTaken"/>): the point
/// where x86 traces <c>*_exit</c> and the generic IRQ layer <c>irq_handler_exit</c>, before <c>irq_exit()</c> makes its
/// nohz tick decisions. An NMI's is its return (<c>iret</c>). Its time minus the taken time is how long the handler ran,
/// an NMI that interrupted it included.
/// </summary>
public sealed record HandlerReturned(long Id, long Time, int Cpu, long Cause, InterruptSource Source)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>The interrupt's kind, from its <see cref="Source"/>.</summary>
    public InterruptKind Kind => Source.Kind;

    /// <inheritdoc />
    public override string What => $"{Source.Text} handler returned";
}

/// <summary>A <c>prctl()</c> returned.</summary>
public sealed record PrctlReturned(long Id, long Time, int Cpu, long Cause, TaskRef Task, int Option, ulong Arg, long Result)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => string.Create(CultureInfo.InvariantCulture, $"{Task}: prctl({Option}, 0x{Arg:x}) = {Result}");
}

/// <summary>A task got back to user space.</summary>
public sealed record ReturnedToUser(long Id, long Time, int Cpu, long Cause, TaskRef Task, bool Isolated, long WaitedNs)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => string.Create(CultureInfo.InvariantCulture, $"{Task} returned to user{(Isolated ? " isolated" : string.Empty)} after {WaitedNs} ns in the kernel");
}

/// <summary>A task asked to return to user space (the return-to-user loop began): the liveness monitor's hot state.</summary>
public sealed record ReturnToUserBegan(long Id, long Time, int Cpu, long Cause, TaskRef Task)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"{Task} returning to user";
}

/// <summary>A signal was generated for a task (queued; delivered on its next return to user).</summary>
public sealed record SignalSent(long Id, long Time, int Cpu, long Cause, TaskRef Task, int Signal, SignalReason Reason)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"signal {Signal} to {Task}: {Reason}";
}

/// <summary>
/// A signal sent to a task that ignores it by default was discarded at once (<c>sig_ignored()</c>; the kernel's
/// <c>signal_generate</c> tracepoint with <c>TRACE_SIGNAL_IGNORED</c>): nothing is pending, nobody is woken, and the
/// task's isolation is untouched.
/// </summary>
public sealed record SignalDiscarded(long Id, long Time, int Cpu, long Cause, TaskRef Task, int Signal, SignalReason Reason)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"signal {Signal} to {Task} discarded (ignored by default): {Reason}";
}

/// <summary>A signal was delivered (<c>get_signal()</c>): isolation flags are cleared here.</summary>
public sealed record SignalDelivered(long Id, long Time, int Cpu, long Cause, TaskRef Task, int Signal, SignalAction Action)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"signal {Signal} delivered to {Task}: {SignalActions.Name(Action)}";
}

/// <summary>A task ended: by <c>exit</c> (<see cref="Signal"/> 0) or killed by a signal.</summary>
public sealed record TaskExited(long Id, long Time, int Cpu, long Cause, TaskRef Task, int Code, int Signal)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => Signal == 0 ? $"{Task} exited with {Code}" : $"{Task} killed by signal {Signal}";
}

/// <summary>A task was created (boot, fork or thread).</summary>
public sealed record TaskCreated(long Id, long Time, int Cpu, long Cause, TaskRef Task, int ParentPid, bool Thread)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"{Task} created{(ParentPid == 0 ? string.Empty : $" by {ParentPid}")}{(Thread ? " (thread)" : string.Empty)}";
}

/// <summary>A context switch (<c>sched_switch</c>).</summary>
public sealed record ContextSwitched(long Id, long Time, int Cpu, long Cause, TaskRef? Prev, TaskRef? Next)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"sched_switch {(Prev?.ToString() ?? "swapper")} ==> {(Next?.ToString() ?? "swapper")}";
}

/// <summary>A work item ran in a kworker (<c>workqueue_execute_start</c>).</summary>
public sealed record WorkExecuted(long Id, long Time, int Cpu, long Cause, WorkFunction Function)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"kworker/{Cpu}: {WorkFunctions.Name(Function)}";
}

/// <summary>A kernel log message (dmesg): its text without the timestamp, and what it reports, typed.</summary>
public sealed record KernelLogged(long Id, long Time, int Cpu, long Cause, KernelLogLine Line)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>The message text as dmesg shows it, without the timestamp (display only: decide on <see cref="Line"/>'s typed fields).</summary>
    public string Text => Line.Text;

    /// <inheritdoc />
    public override string What => $"dmesg: {Text}";
}

/// <summary>A task moved to another CPU.</summary>
public sealed record TaskMigrated(long Id, long Time, int Cpu, long Cause, TaskRef Task, int ToCpu)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"{Task} migrates cpu {Cpu} → cpu {ToCpu}";
}

/// <summary>A device raised interrupt <see cref="Irq"/> (<see cref="Name"/>) towards <see cref="MachineEvent.Cpu"/>: a root cause.</summary>
public sealed record DeviceIrqRaised(long Id, long Time, int Cpu, long Cause, int Irq, string Name)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => string.Create(CultureInfo.InvariantCulture, $"device raises irq {Irq} ({Name}) → cpu {Cpu}");
}

/// <summary>An NMI source (watchdog, perf counter) raised an NMI on <see cref="MachineEvent.Cpu"/>: a root cause.</summary>
public sealed record NmiRaised(long Id, long Time, int Cpu, long Cause)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"NMI source raises NMI → cpu {Cpu}";
}
