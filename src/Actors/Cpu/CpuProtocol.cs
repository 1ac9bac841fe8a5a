using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Cpu;

/// <summary>Messages a CPU actor handles.</summary>
internal interface ICpuProtocol : IMachineMessage;

/// <summary>
/// An asynchronous interrupt arriving at a CPU: a tick, an IPI, irq_work, a device interrupt, an NMI. Held while the
/// CPU has interrupts disabled, taken otherwise.
/// </summary>
/// <param name="Cause">The event that raised it (an <see cref="TaskIsolation.Machine.Events.InterruptSent"/> for IPIs).</param>
/// <param name="Source">What raised it and why (its kind follows from it).</param>
/// <param name="FromCpu">The sending CPU, or -1 for a local source.</param>
/// <param name="Payload">What the handler acts on, if anything.</param>
internal sealed record Irq(long Cause, InterruptSource Source, int FromCpu, IrqPayload? Payload = null) : ICpuProtocol
{
    /// <summary>What kind of interrupt.</summary>
    public InterruptKind Kind => Source.Kind;
}

/// <summary>What an interrupt's handler acts on.</summary>
internal abstract record IrqPayload;

/// <summary>A tick from the tick source, with the tick source's programming generation.</summary>
internal sealed record TickPayload(long Generation, bool Residual) : IrqPayload;

/// <summary>A task woken or migrated onto this CPU (<c>ttwu_queue</c> + reschedule IPI).</summary>
internal sealed record EnqueueTaskPayload(TaskStruct Task) : IrqPayload;

/// <summary>A signal for a task on this CPU (<c>signal_wake_up()</c> → <c>kick_process()</c>).</summary>
internal sealed record SignalPayload(int Pid, int Signal, string Reason, bool IsolationBreak = false) : IrqPayload;

/// <summary>Another task changed this task's affinity (<c>sched_setaffinity()</c> → the migration stopper).</summary>
internal sealed record AffinityPayload(int Pid, TaskIsolation.Machine.Cpus.CpuMask Mask) : IrqPayload;

/// <summary>A child of <c>ParentPid</c> exited: wake its <c>wait4</c>.</summary>
internal sealed record ChildExitPayload(int ParentPid, int ChildPid) : IrqPayload;

/// <summary>Work queued on this CPU's kworker by another CPU (<c>queue_work_on()</c>); acknowledged to <c>AckTo</c>.</summary>
internal sealed record WorkPayload(WorkFunction Function, long WorkNs, int AckToCpu, long RequestId) : IrqPayload;

/// <summary>A TLB shootdown of address space <c>Mm</c> (<c>flush_tlb_func</c>), acknowledged to the requester.</summary>
internal sealed record TlbFlushPayload(int Mm, int RequesterCpu, long RequestId) : IrqPayload;

/// <summary>A sleeping task's timer expired (hrtimer on this CPU).</summary>
internal sealed record WakeTimerPayload(int Pid) : IrqPayload;

/// <summary>A device interrupt on line <c>Irq</c> named <c>Name</c>.</summary>
internal sealed record DeviceIrqPayload(int Irq, string Name) : IrqPayload;

/// <summary>A requester's wait ended: the target CPU finished the work or the flush (the csd/flush_work completion).</summary>
internal sealed record Ack(long Cause, long RequestId) : ICpuProtocol;

/// <summary>Self-message: the current timed activity (kernel step, handler, user compute) reached its end.</summary>
internal sealed record StepDone(long Cause, long Generation) : ICpuProtocol;

/// <summary>The vmstat worker's answer to <c>quiet_vmstat_sync()</c> or an update of its state.</summary>
internal sealed record VmstatState(long Cause, bool Idle, long DeferrableDueNs) : ICpuProtocol;

/// <summary>
/// Self-message: the delivery step of a report this CPU's test decided on (<c>task_isolation_debug_task()</c> tests the
/// target's flags, then delivers with no lock held: docs/model.md §9 R14). Separate from the test so that another CPU's
/// test or delivery can come in between, as the schedule decides.
/// </summary>
/// <param name="Cause">The interrupt sent (the report's cause).</param>
/// <param name="Target">The CPU the task was tested on.</param>
/// <param name="Task">The task tested.</param>
/// <param name="Decision">What the test decided.</param>
/// <param name="Latency">The latency of the interrupt reported: the signal's wake-up follows it to the target.</param>
internal sealed record DeliverIsolationReport(long Cause, int Target, TaskIdentity Task, TaskIsolation.Machine.Abi.V13.AsyncViolationDecision Decision, long Latency) : ICpuProtocol;

/// <summary>Boot: put a task on this CPU's runqueue without an IPI (the machine is not running yet).</summary>
internal sealed record BootTask(long Cause, TaskStruct Task) : ICpuProtocol;
