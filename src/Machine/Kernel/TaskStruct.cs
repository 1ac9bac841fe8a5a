using System.Collections.Immutable;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;

namespace TaskIsolation.Machine.Kernel;

/// <summary>Scheduling class of a task (what 4.7's <c>sched_can_stop_tick()</c> looks at).</summary>
public enum SchedPolicy
{
    /// <summary>SCHED_NORMAL (CFS).</summary>
    Normal,

    /// <summary>SCHED_FIFO.</summary>
    Fifo,

    /// <summary>SCHED_RR.</summary>
    RoundRobin,

    /// <summary>SCHED_DEADLINE.</summary>
    Deadline,
}

/// <summary>Where a task that is not in user mode will carry on when it next runs.</summary>
public enum ResumeKind
{
    /// <summary>A new task: ask its program for the first step.</summary>
    Start,

    /// <summary>Finish the interrupted user-mode compute (<see cref="TaskStruct.UserRemainingNs"/>).</summary>
    Compute,

    /// <summary>Report <see cref="TaskStruct.PendingResult"/> to the program and take its next step.</summary>
    Result,

    /// <summary>Run the handler of <see cref="TaskStruct.HandlerSignal"/>.</summary>
    Handler,

    /// <summary>The program was asked for its next step and has not answered yet (or its answer is stashed).</summary>
    AwaitingOp,

    /// <summary>
    /// Re-issue <see cref="TaskStruct.RestartOp"/>: a syscall that returned -ERESTARTNOINTR, restarted when the handler
    /// that interrupted it returns (<see cref="SignalDelivery.EnterHandler"/>).
    /// </summary>
    Restart,
}

/// <summary>What a signal handler interrupted, restored by <c>rt_sigreturn</c>.</summary>
public sealed record SignalFrame(ResumeKind Resume, long UserRemainingNs, long PendingResult, Operation? RestartOp);

/// <summary>
/// The kernel's view of a task (<c>task_struct</c>): owned by the CPU whose runqueue holds it and handed on, whole and
/// immutable, when the task migrates. The task's user space (its program) is not here: the model maps the pid to it.
/// </summary>
public sealed record TaskStruct
{
    // Pid and Comm live in the TaskRef events name the task by (see Ref): one field, no copy of them beside it.
    private static readonly TaskRef Unnamed = new(0, "");
    private readonly TaskRef _ref = Unnamed;

    // The rarely written fields live in one shared part (ColdPart): every state change (`with`) copies the task, and
    // the CPU changes its task at every interrupt (its CPU time) and every kernel step.
    private static readonly ColdPart NoCold = new();
    private readonly ColdPart _cold = NoCold;

    /// <summary>The task's rarely written part (identity, placement, signal handling, POSIX timer, signal frames):
    /// one shared copy for every <c>with</c> of the frequently written part, so a state change copies ~100 bytes
    /// rather than ~220. Records compare it by value, so two tasks are equal exactly as before.</summary>
    private sealed record ColdPart
    {
        public int Tgid { get; init; }

        public bool IsKernelThread { get; init; }

        public CpuMask Affinity { get; init; } = null!;

        public SchedPolicy Policy { get; init; } = SchedPolicy.Normal;

        public int Mm { get; init; }

        public ImmutableHashSet<int> CaughtSignals { get; init; } = [];

        public long PosixTimerAtCpuNs { get; init; }

        public int PosixTimerSignal { get; init; }

        public bool PosixTimerPerProcess { get; init; }

        public ImmutableStack<SignalFrame> Frames { get; init; } = [];

        public int HandlerSignal { get; init; }

        public StashedStep? StashedOp { get; init; }

        public Operation? RestartOp { get; init; }

        public ImmutableQueue<int> ExitedChildren { get; init; } = [];

        public Prctl? PrctlInFlight { get; init; }

        public int ParentPid { get; init; }
    }

    /// <summary>Thread id.</summary>
    public required int Pid
    {
        get => _ref.Pid;
        init => _ref = new TaskRef(value, _ref.Comm);
    }

    /// <summary>Thread-group (process) id.</summary>
    public required int Tgid
    {
        get => _cold.Tgid;
        init => _cold = _cold with { Tgid = value };
    }

    /// <summary>Command name.</summary>
    public required string Comm
    {
        get => _ref.Comm;
        init => _ref = new TaskRef(_ref.Pid, value);
    }

    /// <summary>A kernel thread (kworker): it has no user space and never goes through the exit-to-user path.</summary>
    public bool IsKernelThread
    {
        get => _cold.IsKernelThread;
        init => _cold = _cold with { IsKernelThread = value };
    }

    /// <summary>Allowed CPUs (<c>cpus_allowed</c>).</summary>
    public required CpuMask Affinity
    {
        get => _cold.Affinity;
        init => _cold = _cold with { Affinity = value };
    }

    /// <summary>Scheduling policy.</summary>
    public SchedPolicy Policy
    {
        get => _cold.Policy;
        init => _cold = _cold with { Policy = value };
    }

    /// <summary>The address space id (shared by threads), 0 for kernel threads.</summary>
    public int Mm
    {
        get => _cold.Mm;
        init => _cold = _cold with { Mm = value };
    }

    /// <summary><c>task_isolation_flags</c> as set by prctl; TIF_TASK_ISOLATION follows bit 0.</summary>
    public uint IsolationFlags { get; init; }

    /// <summary>Signals generated but not yet delivered, in order.</summary>
    public ImmutableList<PendingSignal> PendingSignals { get; init; } = [];

    /// <summary>Signals with a user handler installed.</summary>
    public ImmutableHashSet<int> CaughtSignals
    {
        get => _cold.CaughtSignals;
        init => _cold = _cold with { CaughtSignals = value };
    }

    /// <summary>POSIX CPU timer armed on this thread: expiry in this task's CPU time, 0 when none.</summary>
    public long PosixTimerAtCpuNs
    {
        get => _cold.PosixTimerAtCpuNs;
        init => _cold = _cold with { PosixTimerAtCpuNs = value };
    }

    /// <summary>The armed timer's signal.</summary>
    public int PosixTimerSignal
    {
        get => _cold.PosixTimerSignal;
        init => _cold = _cold with { PosixTimerSignal = value };
    }

    /// <summary>The armed timer is a process-wide one (it set the per-process POSIX_TIMER tick dependency).</summary>
    public bool PosixTimerPerProcess
    {
        get => _cold.PosixTimerPerProcess;
        init => _cold = _cold with { PosixTimerPerProcess = value };
    }

    /// <summary>CPU time consumed so far (user and kernel), what POSIX CPU timers count.</summary>
    public long CpuTimeNs { get; init; }

    /// <summary>What to do when it next reaches user mode.</summary>
    public ResumeKind Resume { get; init; } = ResumeKind.Start;

    /// <summary>Remaining user compute when interrupted.</summary>
    public long UserRemainingNs { get; init; }

    /// <summary>Result to report to the program.</summary>
    public long PendingResult { get; init; }

    /// <summary>Sequence number of the step the program is answering; replies with another are stale.</summary>
    public long Seq { get; init; }

    /// <summary>Event that started the current kernel path (for causal chains).</summary>
    public long KernelCause { get; init; }

    /// <summary>
    /// The number of the system call it is in, from its <c>sys_enter</c> until its <c>sys_exit</c> (the syscall's return,
    /// before the exit-to-user loop, on whichever CPU it then runs); -1 when it is in none.
    /// </summary>
    public int SyscallNr { get; init; } = -1;

    /// <summary>Virtual time it asked to return to user space (0 when not returning).</summary>
    public long ReturnSince { get; init; }

    /// <summary>Signal frames of running handlers, innermost on top.</summary>
    public ImmutableStack<SignalFrame> Frames
    {
        get => _cold.Frames;
        init => _cold = _cold with { Frames = value };
    }

    /// <summary>The signal whose handler runs next.</summary>
    public int HandlerSignal
    {
        get => _cold.HandlerSignal;
        init => _cold = _cold with { HandlerSignal = value };
    }

    /// <summary>A step the program sent while the task was not in user mode, kept until it is.</summary>
    public StashedStep? StashedOp
    {
        get => _cold.StashedOp;
        init => _cold = _cold with { StashedOp = value };
    }

    /// <summary>
    /// A syscall skipped with -ERESTARTNOINTR (<see cref="SignalDelivery.SkipSyscall"/>), until signal delivery restarts
    /// it or the task goes back to user mode with the error.
    /// </summary>
    public Operation? RestartOp
    {
        get => _cold.RestartOp;
        init => _cold = _cold with { RestartOp = value };
    }

    /// <summary>Children that exited and were not yet reaped by <c>wait4</c>.</summary>
    public ImmutableQueue<int> ExitedChildren
    {
        get => _cold.ExitedChildren;
        init => _cold = _cold with { ExitedChildren = value };
    }

    /// <summary>
    /// v16: the prctl whose return value <c>task_isolation_start()</c> may still replace on the way out (null otherwise).
    /// </summary>
    public Prctl? PrctlInFlight
    {
        get => _cold.PrctlInFlight;
        init => _cold = _cold with { PrctlInFlight = value };
    }

    /// <summary>Parent's pid (0 for boot tasks).</summary>
    public int ParentPid
    {
        get => _cold.ParentPid;
        init => _cold = _cold with { ParentPid = value };
    }

    /// <summary>Whether TIF_TASK_ISOLATION is set.</summary>
    public bool Isolated => (IsolationFlags & 1u) != 0;

    /// <summary>
    /// The name events use. Built when <see cref="Pid"/> or <see cref="Comm"/> is set and shared by every copy made
    /// with <c>with</c>: the CPU names the running task in an event at every interrupt, and a new one each time was a
    /// large share of what a tick allocated. Record equality still holds (a <see cref="TaskRef"/> compares by value).
    /// </summary>
    public TaskRef Ref => _ref;
}

/// <summary>The program's next step, sent while the task was not in user mode and kept until it is.</summary>
/// <param name="Cause">The event the step answers.</param>
/// <param name="Seq">The sequence number of the question it answers.</param>
/// <param name="Op">The step.</param>
public sealed record StashedStep(long Cause, long Seq, Operation Op);

/// <summary>A signal waiting for delivery, with the event that generated it.</summary>
/// <param name="Signal">Signal number.</param>
/// <param name="Cause">The <see cref="SignalSent"/> event.</param>
public readonly record struct PendingSignal(int Signal, long Cause);
