using Akka.Actor;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
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

        /// <summary>Where the CPU goes when the activity ends (<see cref="Then.Nothing"/> for one that ends only by a message).</summary>
        public Next Then;

        /// <summary>The activities that interrupt handlers running now broke into, innermost on top; each resumes at its handler's exit.</summary>
        public readonly Stack<Saved> Interrupted = new();

        /// <summary>The event the CPU's current path follows from: the cause of the next <see cref="StepDone"/> and what it continues.</summary>
        public long LastCause;

        /// <summary>
        /// The exit loop's pass and its final check timed as one step (<see cref="FoldedCheck"/>), while the CPU is in the
        /// pass; null otherwise.
        /// </summary>
        public FoldedCheck? Fold;
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

        /// <summary>What the running NMI broke into (NMIs do not nest, so one frame is enough): resumed at its iret.</summary>
        public Saved NmiInterrupted;

        /// <summary>Whether interrupts were enabled when the NMI came: its iret restores the flag.</summary>
        public bool NmiIrqsWereOn;

        /// <summary>The interrupted path's cause, restored at the NMI's iret (the NMI is invisible to it).</summary>
        public long NmiLastCause;

        /// <summary>The running NMI's <c>InterruptTaken</c> id, the cause of its return.</summary>
        public long NmiTaken;
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

        /// <summary>The item the kworker runs now, if it runs.</summary>
        public WorkPayload? Running;

        /// <summary>The task the kworker switched away from, as it was then; switched back to when the item is done.</summary>
        public TaskStruct? Preempted;

        /// <summary>Where that task's path goes if it keeps the CPU once the kworker's <c>schedule()</c> is over.</summary>
        public Next ContinuePreempted;
    }

    /// <summary>The requests this CPU waits on: a TLB shootdown's acks, an LRU drain's <c>flush_work()</c>, a vmstat quiet.</summary>
    private sealed class Waits
    {
        /// <summary>
        /// The request the spin loop (<see cref="Activity.KernelWait"/>) waits for. Only the running path starts a wait and
        /// a handler never does, so there is at most one.
        /// </summary>
        public PendingWait? Pending;

        /// <summary>Acks that came while a handler ran over the spin loop, noticed when it resumes.</summary>
        public readonly Queue<Ack> Late = new();

        /// <summary>The last request id this CPU issued.</summary>
        public long LastRequestId;
    }

    /// <summary>An interrupted activity: what it was, in which context, how long it had left, where it goes after.</summary>
    private readonly record struct Saved(Activity Act, CpuState State, long Remaining, Next Then);

    /// <summary>
    /// A pass of the exit loop whose final check is already decided (<see cref="ExitToUser.CheckFindsNothing"/>): the
    /// pass ends at <paramref name="At"/> with a boundary the simulation drops when nothing else happens then
    /// (<see cref="SimCore.Simulation.SendBoundaryAfter"/>), and the check's step, to the <c>iret</c>, already has its
    /// end programmed (<paramref name="Final"/>), ordered as if programmed at <paramref name="At"/>.
    /// </summary>
    private readonly record struct FoldedCheck(long At, SimCore.TimerHandle Final, long Cause);

    /// <summary>A wait for <paramref name="Remaining"/> acks of request <paramref name="RequestId"/>, then <paramref name="Then"/>.</summary>
    private readonly record struct PendingWait(long RequestId, int Remaining, Next Then);

    /// <summary>
    /// Where a kernel path goes when the activity running now ends: a point of that path (<paramref name="What"/>) and
    /// the values it carries on with. This is a value, not a delegate: it is stored in the activity, saved with it by an
    /// interrupt, and dispatched by <see cref="Proceed"/>, so a step allocates nothing and the state says where it leads.
    /// </summary>
    /// <param name="What">The point to go on from.</param>
    /// <param name="Cause">The event the path follows from there.</param>
    /// <param name="Value">A number the point needs: a syscall's result, an exit code, a sleep's length, a signal, a pid.</param>
    /// <param name="Op">The task's operation the point needs (the syscall being run), if any.</param>
    private readonly record struct Next(Then What, long Cause = 0, long Value = 0, Operation? Op = null);

    /// <summary>The points of the CPU's kernel paths a timed activity can end at; <see cref="Proceed"/> goes on from each.</summary>
    private enum Then
    {
        /// <summary>Nowhere: the activity ends only by a message (idle, awaiting the program, a spin-wait).</summary>
        Nothing,

        /// <summary>The interrupt handler's work is done: its effect, then <c>irq_exit()</c>.</summary>
        IrqExit,

        /// <summary>The NMI's handler is done: its iret.</summary>
        NmiExit,

        /// <summary>A stretch of user compute is done: ask the program for its next step.</summary>
        UserComputeDone,

        /// <summary>A task switched in: its return to user mode (<c>prepare_exit_to_usermode()</c>).</summary>
        BeginReturnToUser,

        /// <summary>The exit loop's body with interrupts on: schedule, signals, <c>task_isolation_enter()</c>.</summary>
        ExitLoopWork,

        /// <summary><c>quiet_vmstat_sync()</c> returned inside <c>task_isolation_enter()</c>.</summary>
        VmstatQuieted,

        /// <summary>The exit loop's check with interrupts off: the work flags and <c>task_isolation_ready()</c>.</summary>
        ExitLoopCheck,

        /// <summary>The iret to user mode.</summary>
        EnterUser,

        /// <summary>Nothing left to run: the idle loop.</summary>
        GoIdle,

        /// <summary>The kworker's item has run.</summary>
        KworkerDone,

        /// <summary>The switch back from the kworker is done: <c>schedule()</c> again.</summary>
        KworkerSwitchedBack,

        /// <summary>Syscall entry is done: the syscall's work (<see cref="Next.Op"/>).</summary>
        DoSyscall,

        /// <summary>The syscall's work is done: return <see cref="Next.Value"/> to user mode.</summary>
        SyscallReturn,

        /// <summary>A syscall refused at entry returns <c>-ERESTARTNOINTR</c>.</summary>
        SyscallRestart,

        /// <summary>A page fault or an unaligned access is fixed up: back to the program.</summary>
        FaultFixedUp,

        /// <summary><c>exit_group()</c>'s entry is done: <c>do_exit()</c> with code <see cref="Next.Value"/>.</summary>
        DoExit,

        /// <summary><c>prctl()</c>'s work (<see cref="Next.Op"/>).</summary>
        DoPrctl,

        /// <summary><c>sched_setaffinity()</c> of task <see cref="Next.Value"/>, not the caller.</summary>
        SetAffinityOther,

        /// <summary><c>sched_setaffinity()</c> of the caller.</summary>
        SetAffinitySelf,

        /// <summary><c>munmap()</c>'s local flush is done: the shootdown of the other CPUs.</summary>
        TlbShootdown,

        /// <summary><c>lru_add_drain_all()</c>'s remote drains are done: the rest of <c>mlock()</c>.</summary>
        LruDrained,

        /// <summary><c>nanosleep()</c> for <see cref="Next.Value"/> ns: the task sleeps.</summary>
        Nanosleep,

        /// <summary><c>kill()</c>'s work (<see cref="Next.Op"/>).</summary>
        DoKill,

        /// <summary><c>rt_sigaction()</c> for signal <see cref="Next.Value"/>.</summary>
        DoSigaction,

        /// <summary><c>fork()</c>/<c>clone()</c>'s work (<see cref="Next.Op"/>).</summary>
        DoSpawn,

        /// <summary><c>wait4()</c>'s work.</summary>
        DoWait,

        /// <summary><c>rt_sigreturn()</c>'s work.</summary>
        DoSigreturn,
    }

    /// <summary>A task asleep on this CPU, and whether a child's exit (<c>wait4</c>) is what it waits for.</summary>
    private readonly record struct Sleeper(TaskStruct Task, bool WaitingForChild);
}
