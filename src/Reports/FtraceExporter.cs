using System.Globalization;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Trace;

namespace TaskIsolation.Reports;

/// <summary>
/// The run as a 4.7 ftrace text trace (docs/model.md §11), one <see cref="FtraceFormatter"/> line per traced event, in
/// time order. Streaming: each event is turned into its lines as it is observed; lines dated before the event that
/// produced them (a work item's start, known at its end) wait in a small buffer until the stream has passed them.
/// <para>Mapping (docs/reports.md has the table): an interrupt taken and its handler's return are the arch's entry and
/// exit tracepoints (<see cref="InterruptTracepoints"/>: x86's vector events, arm64's <c>ipi_entry</c>/<c>ipi_exit</c>
/// and <c>irq_handler_entry</c>/<c>irq_handler_exit</c>), an NMI's return is <c>nmi_handler</c>, a system call is
/// <c>sys_enter</c>/<c>sys_exit</c>, a TLB shootdown sent is the sender's <c>tlb_flush ... remote ipi send</c> and
/// taken the receiver's <c>tlb_flush ... remote shootdown</c>, a tick-stop attempt is <c>tick_stop</c>, a context switch
/// <c>sched_switch</c>, a work item <c>workqueue_execute_start</c>.</para>
/// </summary>
public sealed class FtraceExporter : IRunObserver
{
    /// <summary>The pid the model's kworkers show (they have none of their own in the model): <c>32768 + cpu</c>, above 4.7's default pid_max, so it can never be a task's.</summary>
    public const int KworkerPidBase = 32768;

    private const int NormalPrio = 120;

    /// <summary>How deep handlers nest on one CPU: an IRQ, an NMI inside it, and room to spare.</summary>
    private const int MaxNesting = 8;

    private static readonly TraceFlags IrqsOffInKernel = new(true, false, IrqContext.None, 1);
    private static readonly TraceFlags InSchedule = new(true, false, IrqContext.None, 2);
    private static readonly TraceFlags KworkerContext = new(false, false, IrqContext.None, 0);

    private readonly InterruptTracepoints _tracepoints;
    private readonly ModelTimings _timings;
    private readonly Action<string> _emit;
    private readonly (string Comm, int Pid)[] _current;
    private readonly OpenHandler[] _open;
    private readonly int[] _depth;
    private readonly PendingExit[] _pendingExit;
    private readonly List<int> _pendingCpus = [];
    private readonly HashSet<int> _exited = [];
    private readonly Dictionary<int, string> _lastSyscall = [];
    private readonly PriorityQueue<string, (long Time, long Seq)> _pending = new();
    private long _seq;
    private long _latest;
    private long _lastSendCause = -1;

    /// <summary>
    /// Lines for a machine of <paramref name="nrCpus"/> CPUs of <paramref name="arch"/> (x86_64 when null) go to
    /// <paramref name="emit"/>, without newlines.
    /// </summary>
    public FtraceExporter(int nrCpus, ModelTimings timings, Action<string> emit, ArchInfo? arch = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nrCpus, 1);
        ArgumentNullException.ThrowIfNull(timings);
        ArgumentNullException.ThrowIfNull(emit);
        _timings = timings;
        _emit = emit;
        _tracepoints = new InterruptTracepoints(arch ?? ArchInfo.X86_64);
        _current = new (string, int)[nrCpus];
        _open = new OpenHandler[nrCpus * MaxNesting];
        _depth = new int[nrCpus];
        _pendingExit = new PendingExit[nrCpus];
        for (var i = 0; i < nrCpus; i++)
        {
            _current[i] = (SwapperComm(i), 0);
        }
    }

    /// <summary>Lines emitted so far.</summary>
    public long Lines { get; private set; }

    /// <summary>How long a line may be dated before the event that produces it: the longest work item.</summary>
    private long Window => Math.Max(_timings.VmstatWorkNs, _timings.LruDrainWorkNs) + _timings.ContextSwitchNs;

    /// <summary>
    /// A whole trace file: <see cref="FtraceFormatter.Header"/> (with the line count) then every line of
    /// <paramref name="events"/>, each ending in a newline, with the tracepoints of <paramref name="arch"/> (x86_64 when
    /// null).
    /// </summary>
    public static void WriteTrace(TextWriter writer, IEnumerable<MachineEvent> events, long nowNs, int nrCpus, ModelTimings timings, ArchInfo? arch = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var lines = new List<string>();
        RunObservers.Replay(events, nowNs, new FtraceExporter(nrCpus, timings, lines.Add, arch));
        writer.Write(FtraceFormatter.Header(lines.Count, lines.Count, nrCpus));
        foreach (var l in lines)
        {
            writer.Write(l);
            writer.Write('\n');
        }
    }

    /// <inheritdoc />
    public void Observe(MachineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Cpu < 0 || e.Cpu >= _current.Length)
        {
            return;
        }

        _latest = Math.Max(_latest, e.Time);
        if (_pendingCpus.Count > 0)
        {
            FlushPendingExits(e);
        }

        var cpu = e.Cpu;
        switch (e)
        {
            case InterruptTaken t:
                OnInterrupt(t);
                break;
            case HandlerReturned r:
                OnHandlerReturned(r);
                break;
            case InterruptSent { Source: TlbShootdown } s:
                // native_flush_tlb_others() traces once per flush, whatever the number of targets.
                if (s.Cause != _lastSendCause)
                {
                    _lastSendCause = s.Cause;
                    Add(cpu, s.Time, IrqsOffInKernel, new TraceEvent.TlbFlush(-1, TlbFlushReason.RemoteSendIpi));
                }

                break;
            case TickStopAttempted ts:
                Add(cpu, ts.Time, IrqsOffInKernel, new TraceEvent.TickStop(ts.Success, ts.Success ? TickDep.None : ts.Dependency));
                break;
            case ContextSwitched sw:
                OnSwitch(sw);
                break;
            case WorkExecuted w:
                // The model publishes the work item when it is done; it started its cost earlier.
                var cost = _timings.WorkNs(w.Function);
                Add(cpu, Math.Max(0, w.Time - cost), KworkerContext, new TraceEvent.WorkqueueExecuteStart(WorkStruct(cpu, w.Function), WorkFunctions.Name(w.Function)));
                break;
            case SyscallEntered s:
                _lastSyscall[s.Task.Pid] = s.Name;
                AddFor(s.Task, cpu, s.Time, TraceFlags.TaskContext, new TraceEvent.SysEnter(s.Nr, s.Args));
                break;
            case SyscallExited x:
                AddFor(x.Task, cpu, x.Time, TraceFlags.TaskContext, new TraceEvent.SysExit(x.Nr, x.Ret));
                break;
            case TaskExited x:
                _exited.Add(x.Task.Pid);
                break;
        }

        Release(_latest - Window);
    }

    /// <inheritdoc />
    public void Finish(long nowNs)
    {
        // A handler still running when the trace ends has no exit, as in a trace stopped then.
        for (var i = _pendingCpus.Count - 1; i >= 0; i--)
        {
            WritePendingExit(_pendingCpus[i]);
        }

        _pendingCpus.Clear();
        Release(long.MaxValue);
    }

    /// <summary>The <c>struct work_struct</c> address a work item prints: the model's own, stable per CPU and function.</summary>
    public static ulong WorkStruct(int cpu, WorkFunction function)
    {
        ulong slot = function switch
        {
            WorkFunction.VmstatUpdate => 0x1c0,
            WorkFunction.LruAddDrainPerCpu => 0x2a0,
            _ => 0x300,
        };

        // Per-CPU data of a 4.7 x86_64 box lives at 0xffff88xx_xxxxxxxx; one 256 KiB per-CPU area per CPU.
        return 0xffff88003fc00000UL + ((ulong)cpu * 0x40000UL) + slot;
    }

    private static string SwapperComm(int cpu) => string.Create(CultureInfo.InvariantCulture, $"swapper/{cpu}");

    private void OnInterrupt(InterruptTaken t)
    {
        var trace = _tracepoints.For(t.Source);
        if (trace is null && t.Kind != InterruptKind.Nmi)
        {
            return;
        }

        if (t.Current is { } cur)
        {
            _current[t.Cpu] = (cur.Comm, cur.Pid == 0 ? KworkerPidBase + t.Cpu : cur.Pid);
        }

        var depth = _depth[t.Cpu];
        if (depth < MaxNesting)
        {
            _open[(t.Cpu * MaxNesting) + depth] = new OpenHandler(t.Id, t.Time, trace);
            _depth[t.Cpu] = depth + 1;
        }

        // An NMI traces nothing on entry: nmi_handler comes when its handler returns.
        if (trace is null)
        {
            return;
        }

        Add(t.Cpu, t.Time, trace.Flags, trace.Entry);
        if (t.Source is TlbShootdown)
        {
            Add(t.Cpu, t.Time, trace.Flags, new TraceEvent.TlbFlush(-1, TlbFlushReason.RemoteShootdown));
        }
    }

    private void OnHandlerReturned(HandlerReturned r)
    {
        var cpu = r.Cpu;
        var baseIndex = cpu * MaxNesting;
        for (var i = _depth[cpu] - 1; i >= 0; i--)
        {
            var open = _open[baseIndex + i];
            if (open.TakenId != r.Cause)
            {
                continue;
            }

            // Drop it (and, never expected, anything opened above it) from the CPU's stack.
            _depth[cpu] = i;
            if (open.Trace is null)
            {
                Add(cpu, r.Time, InterruptTracepoints.NmiContext, InterruptTracepoints.NmiHandler(r.Time - open.TakenTime));
            }
            else if (open.Trace.ExitAfterIrqExit)
            {
                // arm64's ipi_exit follows handle_IPI()'s irq_exit(): the tick_stop that irq_exit() traces comes first.
                WritePendingExit(cpu);
                _pendingExit[cpu] = new PendingExit(true, r.Cause, r.Time, open.Trace);
                _pendingCpus.Add(cpu);
            }
            else
            {
                Add(cpu, r.Time, open.Trace.Flags, open.Trace.Exit);
            }

            return;
        }
    }

    /// <summary>
    /// Writes each deferred <c>ipi_exit</c> that <paramref name="e"/> shows to be over: irq_exit()'s tick events carry
    /// the interrupt as their cause and come at once, on the same CPU at the same time; anything else ends it.
    /// </summary>
    private void FlushPendingExits(MachineEvent e)
    {
        for (var i = _pendingCpus.Count - 1; i >= 0; i--)
        {
            var cpu = _pendingCpus[i];
            var p = _pendingExit[cpu];
            var inIrqExit = e.Cpu == cpu && e.Time == p.Time && e.Cause == p.TakenId && e is TickStopAttempted or TickRestarted;
            if (e.Time > p.Time || (e.Cpu == cpu && !inIrqExit))
            {
                WritePendingExit(cpu);
            }
        }
    }

    private void WritePendingExit(int cpu)
    {
        var p = _pendingExit[cpu];
        if (p.Has)
        {
            _pendingExit[cpu] = default;
            Add(cpu, p.Time, p.Trace!.Flags, p.Trace.Exit);
            _pendingCpus.Remove(cpu);
        }
    }

    private void OnSwitch(ContextSwitched sw)
    {
        var cpu = sw.Cpu;
        var (prevComm, prevPid) = sw.Prev is { } p ? (p.Comm, p.Pid == 0 ? KworkerPidBase + cpu : p.Pid) : (SwapperComm(cpu), 0);
        var (nextComm, nextPid) = sw.Next is { } n ? (n.Comm, n.Pid == 0 ? KworkerPidBase + cpu : n.Pid) : (SwapperComm(cpu), 0);

        // prev_state: idle is runnable; a task that exited is TASK_DEAD (x); a kworker done with its item and a task in
        // a sleeping syscall sleep (S); anything else was preempted (R+).
        TaskRunState state = TaskRunState.Running;
        var preempted = false;
        if (sw.Prev is { } prev)
        {
            if (_exited.Remove(prev.Pid) && prev.Pid != 0)
            {
                state = TaskRunState.TaskDead;
            }
            else if (prev.Pid == 0 || _lastSyscall.GetValueOrDefault(prev.Pid) is "nanosleep" or "wait4")
            {
                state = TaskRunState.Interruptible;
            }
            else
            {
                preempted = true;
            }

            _lastSyscall.Remove(prev.Pid);
        }

        // The line is written in the context of the task being switched out.
        _current[cpu] = (prevComm, prevPid);
        Add(cpu, sw.Time, InSchedule, new TraceEvent.SchedSwitch(prevComm, prevPid, NormalPrio, state, preempted, nextComm, nextPid, NormalPrio));
        _current[cpu] = (nextComm, nextPid);
    }

    private void Add(int cpu, long time, TraceFlags flags, TraceEvent ev)
    {
        var (comm, pid) = _current[cpu];
        var line = FtraceFormatter.FormatLine(new TraceRecord(comm, pid, cpu, flags, time, ev));
        _pending.Enqueue(line, (time, _seq++));
    }

    /// <summary>A line in the context of <paramref name="task"/> (a system call's, which only its own task traces).</summary>
    private void AddFor(TaskRef task, int cpu, long time, TraceFlags flags, TraceEvent ev)
    {
        var line = FtraceFormatter.FormatLine(new TraceRecord(task.Comm, task.Pid, cpu, flags, time, ev));
        _pending.Enqueue(line, (time, _seq++));
    }

    /// <summary>A handler running on a CPU: its interrupt, when it was taken, and the tracepoints it prints (null: an NMI).</summary>
    private readonly record struct OpenHandler(long TakenId, long TakenTime, InterruptTrace? Trace);

    /// <summary>An exit written once irq_exit() is over (arm64's <c>ipi_exit</c>).</summary>
    private readonly record struct PendingExit(bool Has, long TakenId, long Time, InterruptTrace? Trace);

    private void Release(long upTo)
    {
        while (_pending.TryPeek(out _, out var key) && key.Time <= upTo)
        {
            _emit(_pending.Dequeue());
            Lines++;
        }
    }
}
