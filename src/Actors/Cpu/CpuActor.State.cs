using Akka.Actor;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using SimCore = TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Cpu;

/// <summary>
/// A CPU's private state, one class per concern. Each is a mutable class the actor creates once and changes in place:
/// this is the hot path of every run, and state records replaced with <c>with</c> on every message would copy (or, as
/// reference types, allocate) on each delivery. Nothing here is shared: other CPUs see only <see cref="PerCpuShared"/>.
/// </summary>
internal sealed partial class CpuActor
{
    /// <summary>What kind of timed activity the CPU is in.</summary>
    private enum Activity
    {
        /// <summary>Nothing to run: the idle loop, left by an interrupt or a task arriving.</summary>
        Idle,

        /// <summary>The current task computes in user mode for a known time.</summary>
        User,

        /// <summary>The current task is in user mode and its program has not yet said what it does next.</summary>
        UserAwaitingOp,

        /// <summary>A timed kernel step: syscall work, a context switch, a part of the exit-to-user loop, a kworker item.</summary>
        Kernel,

        /// <summary>Spinning in the kernel, interrupts on, until a request is acknowledged (<c>flush_work()</c>, a csd wait).</summary>
        KernelWait,

        /// <summary>An interrupt or NMI handler.</summary>
        Irq,
    }

    /// <summary>The runqueue (the kernel's <c>struct rq</c>): the task running here, the ones waiting for this CPU, the ones asleep on it.</summary>
    private sealed class RunQueue
    {
        /// <summary>The task running on this CPU (<c>rq-&gt;curr</c>); null when idle or when its task just left.</summary>
        public TaskStruct? Curr;

        /// <summary>Up to when <see cref="Curr"/>'s CPU time is charged: the next charge is the time since.</summary>
        public long CurrSince;

        /// <summary>When <see cref="Curr"/> was switched in: its CFS slice is measured from here.</summary>
        public long SliceStart;

        /// <summary><c>TIF_NEED_RESCHED</c>: call <c>schedule()</c> at the next exit loop or idle exit.</summary>
        public bool NeedResched;

        /// <summary>Runnable tasks waiting for this CPU, in round-robin order.</summary>
        public readonly List<TaskStruct> Runnable = [];

        /// <summary>Tasks asleep on this CPU (<c>nanosleep</c>, <c>wait4</c>) by pid, until a timer, a child's exit or a signal wakes them.</summary>
        public readonly Dictionary<int, Sleeper> Sleeping = [];

        /// <summary>Signals that reached this CPU for a task whose migration here is still in flight: handed over on arrival.</summary>
        public readonly Dictionary<int, List<SignalPayload>> SignalsForArrivals = [];

        /// <summary>The task that left this CPU (exit, sleep, migration), named as the switch's "prev" by the next context switch.</summary>
        public TaskRef? Outgoing;

        /// <summary>The address space that task left loaded, for the next switch's <c>switch_mm()</c>.</summary>
        public int OutgoingMm;

        /// <summary>The CPU the current task is pushed to at its next exit loop (the migration stopper's work), or -1.</summary>
        public int PendingMigration = -1;
    }

    /// <summary>The timed activity running now, and what comes after it.</summary>
    private sealed class Execution
    {
        /// <summary>What runs now.</summary>
        public Activity Act = Activity.Idle;

        /// <summary>
        /// The context this CPU is in (the kernel's context tracking); <see cref="SetState"/> also publishes it to
        /// <see cref="PerCpuShared.State"/>, which an NMI leaves alone.
        /// </summary>
        public CpuState State = CpuState.Idle;

        /// <summary>When the activity ends by itself (<see cref="long.MaxValue"/>: never), so an interrupt can save what remains.</summary>
        public long End = long.MaxValue;

        /// <summary>The activity's number: a <see cref="StepDone"/> of an earlier one is stale and ignored.</summary>
        public long Generation;

        /// <summary>The activity's pending <see cref="StepDone"/>, withdrawn when the activity is superseded.</summary>
        public SimCore.TimerHandle Timer;

        /// <summary>What to run when the activity ends; null for activities that end only by a message.</summary>
        public Action? Then;

        /// <summary>The activities that interrupt handlers running now broke into, innermost on top; each resumes at its handler's exit.</summary>
        public readonly Stack<Saved> Interrupted = new();

        /// <summary>The event the CPU's current path follows from: the cause of the next <see cref="StepDone"/> and what it continues.</summary>
        public long LastCause;
    }

    /// <summary>The interrupt controller's view of this CPU: enabled or not, what waits, what is being handled.</summary>
    private sealed class Interrupts
    {
        /// <summary>Whether maskable interrupts are enabled: off in handlers and in the exit loop's final check.</summary>
        public bool On = true;

        /// <summary>Maskable interrupts that arrived while disabled, taken in order as soon as they are enabled.</summary>
        public readonly Queue<Irq> Held = new();

        /// <summary>
        /// The interrupt whose handler runs now. Interrupts are off while a handler runs, so there is only ever one (an
        /// NMI on top saves and restores the handler's activity, not this).
        /// </summary>
        public Irq? Handling;

        /// <summary>The <see cref="InterruptTaken"/> event of <see cref="Handling"/>: the cause of what its exit does.</summary>
        public long HandlingCause;

        /// <summary>Whether an NMI handler runs now: the CPU blocks further NMIs until its iret.</summary>
        public bool InNmi;

        /// <summary>NMIs that arrived during an NMI, taken after its iret.</summary>
        public readonly Queue<Irq> HeldNmis = new();
    }

    /// <summary>This CPU's tick (<c>tick_sched</c>): running or stopped, and the tick source that raises it.</summary>
    private sealed class TickState
    {
        /// <summary>The tick source actor this CPU programs (periodic, one-shot, shut down).</summary>
        public IActorRef Source = ActorRefs.Nobody;

        /// <summary>Whether the periodic tick is stopped (<c>ts-&gt;tick_stopped</c>); a CPU boots idle, without it.</summary>
        public bool Stopped = true;

        /// <summary>The tick source's programming generation: a tick raised under an older programming never happened.</summary>
        public long Generation;

        /// <summary>Whether the failure to stop the tick was already reported since the last stop (one event per episode).</summary>
        public bool FailureReported;
    }

    /// <summary>Work this CPU owes the kernel: kworker items, the vmstat fold, pages in the LRU pagevecs.</summary>
    private sealed class DeferredWork
    {
        /// <summary>This CPU's vmstat worker, which owns the per-CPU counters and their deferrable timer.</summary>
        public IActorRef Vmstat = ActorRefs.Nobody;

        /// <summary>Work items queued for this CPU's kworker, run at the next <c>schedule()</c>.</summary>
        public readonly Queue<WorkPayload> Queue = new();

        /// <summary>Whether the vmstat worker last said it has nothing to fold (<c>task_isolation_ready()</c>'s vmstat part).</summary>
        public bool VmstatIdle = true;

        /// <summary>When the deferrable vmstat work is due (it runs at the first tick from then), or <see cref="long.MaxValue"/>.</summary>
        public long VmstatDue = long.MaxValue;

        /// <summary>Whether this CPU's LRU pagevecs hold pages (<c>lru_add_drain()</c> empties them).</summary>
        public bool LruNonEmpty;
    }

    /// <summary>The requests this CPU waits on: a TLB shootdown's acks, an LRU drain's <c>flush_work()</c>, a vmstat quiet.</summary>
    private sealed class Waits
    {
        /// <summary>Pending waits by request id.</summary>
        public readonly Dictionary<long, PendingWait> ByRequest = [];

        /// <summary>The request the spin loop (<see cref="Activity.KernelWait"/>) waits for.</summary>
        public long Id;

        /// <summary>Acks that came while a handler ran over the spin loop, noticed when it resumes.</summary>
        public readonly Queue<Ack> Late = new();

        /// <summary>The last request id this CPU issued.</summary>
        public long LastRequestId;
    }

    /// <summary>An interrupted activity: what it was, in which context, how long it had left, what comes after it.</summary>
    private readonly record struct Saved(Activity Act, CpuState State, long Remaining, Action? Then, long WaitId);

    /// <summary>A wait for <paramref name="Remaining"/> acks, then <paramref name="Then"/>.</summary>
    private readonly record struct PendingWait(int Remaining, Action Then);

    /// <summary>A task asleep on this CPU, and whether a child's exit (<c>wait4</c>) is what it waits for.</summary>
    private readonly record struct Sleeper(TaskStruct Task, bool WaitingForChild);
}
