using System.Text.Json;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Reports;

/// <summary>
/// The run as Chrome trace-event JSON that opens in Perfetto (ui.perfetto.dev, docs/model.md §11), written as the events
/// arrive. The file holds one object with only the keys Perfetto knows, <c>traceEvents</c> and
/// <c>displayTimeUnit</c>; <c>ts</c> and <c>dur</c> are microseconds (fractions keep the nanoseconds).
/// <list type="bullet">
/// <item>One track per CPU: process 1 (<c>machine</c>), thread <c>cpu + 1</c> named <c>cpu N</c>.</item>
/// <item>On a CPU track, an <c>X</c> slice per task's stay on the CPU (from the switch in to the switch out), an
/// <c>X</c> slice per interrupt handler nested inside it (from its <see cref="InterruptTaken"/> to its
/// <see cref="HandlerReturned"/>), and one per work item inside its kworker's.</item>
/// <item>One track per task: process 2 (<c>tasks</c>), thread = the task's pid (a kworker's <c>32768 + cpu</c>, as in
/// the ftrace text) named <c>comm/pid</c>, with an <c>X</c> slice per system call (<c>sys_enter</c> to
/// <c>sys_exit</c>), the handlers of the interrupts it took nested inside (so whether an interrupt came in the kernel or
/// in user mode shows on the task's own track), and instants for its switches in and out, signals, migrations, exit and
/// findings.</item>
/// <item>Counter tracks (<c>C</c>) in process 1: <c>tick cpu N</c> (<c>running</c>: 1 while the CPU's tick runs, 0 while
/// it is stopped) and <c>noise cpu N</c> (<c>noise_ns</c>: the CPU's cumulative noise as <see cref="NoiseAccountant"/>
/// counts it for the noise table, stepping up when each single noise ends).</item>
/// <item>A flow from each IPI's sender to its receiver: a zero-length <c>X</c> slice on the sender's track with
/// <c>bind_id</c> and <c>flow_out</c>, the receiver's handler slice with the same <c>bind_id</c> and
/// <c>flow_in</c>. A send is written when its receiver takes it, so every flow written has both ends; one never taken
/// is written at the end without a flow.</item>
/// <item>Instants (<c>i</c>, thread scope) on the CPU tracks for violations (<c>VIOLATION ...</c> with the chain in
/// <c>args</c>), liveness failures, system calls, prctl results, signals and kernel log lines.</item>
/// </list>
/// </summary>
public sealed class ChromeTraceWriter : IRunObserver, IDisposable
{
    /// <summary>The top-level keys this writer emits; Perfetto drops everything after an unknown one.</summary>
    public static readonly IReadOnlySet<string> TopLevelKeys = new HashSet<string>(StringComparer.Ordinal) { "traceEvents", "displayTimeUnit" };

    /// <summary>The process of the CPU and counter tracks.</summary>
    public const int MachinePid = 1;

    /// <summary>The process of the task tracks; each task is a thread of it, its tid the task's pid.</summary>
    public const int TasksPid = 2;

    private const int Pid = MachinePid;
    private const int MaxPendingSends = 65_536;
    private const int MaxNesting = 8;

    private readonly Utf8JsonWriter _json;
    private readonly ModelTimings _timings;
    private readonly (TaskRef? Task, long Since)[] _onCpu;
    private readonly Dictionary<long, InterruptSent> _sendsById = [];
    private readonly Dictionary<(long Cause, int Target), InterruptSent> _sendsByCause = [];
    private readonly Queue<long> _sendOrder = new();
    private readonly OpenHandler[] _handlers;
    private readonly int[] _handlerDepth;
    private readonly HashSet<int> _namedTasks = [];
    private readonly Dictionary<int, (SyscallEntered Entered, int Tid)> _inSyscall = [];
    private readonly NoiseAccountant _noise;
    private readonly long[] _noiseWritten;
    private readonly sbyte[] _tickWritten;
    private long _flows;
    private long _written;
    private bool _finished;

    /// <summary>
    /// Starts the JSON on <paramref name="stream"/> (left open) for a machine of <paramref name="nrCpus"/> CPUs; the
    /// noise counter tracks measure what <paramref name="osnoise"/> selects, as the run's noise table does.
    /// </summary>
    public ChromeTraceWriter(Stream stream, int nrCpus, ModelTimings timings, OsnoiseSettings? osnoise = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(nrCpus, 1);
        ArgumentNullException.ThrowIfNull(timings);
        _timings = timings;
        _json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, SkipValidation = false });
        _onCpu = new (TaskRef?, long)[nrCpus];
        _handlers = new OpenHandler[nrCpus * MaxNesting];
        _handlerDepth = new int[nrCpus];
        _noise = new NoiseAccountant(nrCpus, timings, osnoise, histogramBuckets: 1);
        _noiseWritten = new long[nrCpus];
        _tickWritten = new sbyte[nrCpus];
        _json.WriteStartObject();
        _json.WriteString("displayTimeUnit", "ns");
        _json.WriteStartArray("traceEvents");
        Metadata("process_name", Pid, 0, "machine");
        Metadata("process_name", TasksPid, 0, "tasks");
        for (var cpu = 0; cpu < nrCpus; cpu++)
        {
            Metadata("thread_name", Pid, cpu + 1, $"cpu {cpu}");
            SortIndex(Pid, cpu + 1, cpu);
        }

        // A CPU boots idle, its tick stopped; its noise starts at 0.
        for (var cpu = 0; cpu < nrCpus; cpu++)
        {
            Counter($"tick cpu {cpu}", 0, "running", 0);
            Counter($"noise cpu {cpu}", 0, "noise_ns", 0);
        }
    }

    /// <summary>Flows written (each with both ends).</summary>
    public long Flows => _flows;

    /// <summary>Writes a whole trace of recorded <paramref name="events"/> to <paramref name="stream"/>.</summary>
    public static void WriteTrace(Stream stream, IEnumerable<MachineEvent> events, long nowNs, int nrCpus, ModelTimings timings, OsnoiseSettings? osnoise = null)
    {
        using var w = new ChromeTraceWriter(stream, nrCpus, timings, osnoise);
        RunObservers.Replay(events, nowNs, w);
    }

    /// <inheritdoc />
    public void Observe(MachineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        ObjectDisposedException.ThrowIf(_finished, this);
        if (e.Cpu < 0 || e.Cpu >= _onCpu.Length)
        {
            return;
        }

        _noise.Observe(e);
        switch (e)
        {
            case ContextSwitched sw:
                CloseTaskSlice(sw.Cpu, sw.Time);
                _onCpu[sw.Cpu] = (sw.Next, sw.Time);
                if (sw.Prev is { } prev)
                {
                    TaskInstant(prev, sw.Cpu, sw.Time, $"off cpu {sw.Cpu}", "sched");
                }

                if (sw.Next is { } next)
                {
                    TaskInstant(next, sw.Cpu, sw.Time, $"on cpu {sw.Cpu}", "sched");
                }

                break;
            case InterruptSent s:
                KeepSend(s);
                break;
            case InterruptTaken t:
                OpenHandlerSlice(t);
                break;
            case HandlerReturned r:
                Handler(r);
                break;
            case SyscallEntered s:
                var tid = TaskTid(s.Task, s.Cpu);
                _inSyscall[s.Task.Pid] = (s, tid);
                Instant(e.Cpu, e.Time, e.What, e.GetType().Name, null);
                break;
            case SyscallExited x:
                CloseSyscall(x.Task.Pid, x.Time, x);
                break;
            case TickStopAttempted { Success: true } ts:
                Tick(ts.Cpu, ts.Time, running: false);
                break;
            case TickRestarted tr:
                Tick(tr.Cpu, tr.Time, running: true);
                break;
            case WorkExecuted w:
                var cost = _timings.WorkNs(w.Function);
                Slice(Pid, w.Cpu + 1, w.Time - cost, cost, WorkFunctions.Name(w.Function), "work", null, false, e);
                break;
            case ViolationDetected v:
                Instant(v.Cpu, v.Time, $"VIOLATION: {v.Detail} reached {v.Task}", "violation", v.Chain);
                TaskInstant(v.Task, v.Cpu, v.Time, $"VIOLATION: {v.Detail}", "violation");
                break;
            case LivenessViolated l:
                Instant(l.Cpu, l.Time, $"LIVENESS: {l.Task} {l.Doing} since {l.SinceNs} ns", "violation", null);
                TaskInstant(l.Task, l.Cpu, l.Time, $"LIVENESS: {l.Doing} since {l.SinceNs} ns", "violation");
                break;
            case TaskExited x:
                Instant(e.Cpu, e.Time, e.What, e.GetType().Name, null);
                CloseSyscall(x.Task.Pid, x.Time, null);
                TaskInstant(x.Task, x.Cpu, x.Time, e.What, e.GetType().Name);
                break;
            case SignalDelivered d:
                Instant(e.Cpu, e.Time, e.What, e.GetType().Name, null);
                TaskInstant(d.Task, d.Cpu, d.Time, e.What, e.GetType().Name);
                break;
            case TaskMigrated mg:
                Instant(e.Cpu, e.Time, e.What, e.GetType().Name, null);
                TaskInstant(mg.Task, mg.Cpu, mg.Time, e.What, e.GetType().Name);
                break;
            case TaskCreated c:
                Instant(e.Cpu, e.Time, e.What, e.GetType().Name, null);
                TaskTid(c.Task, c.Cpu);
                break;
            case DoubleReport d:
                Instant(d.Cpu, d.Time, $"DOUBLE REPORT: {d.Task} reported by cpu {d.FirstReportCpu} and cpu {d.SecondReportCpu}", "violation", d.Chain);
                TaskInstant(d.Task, d.Cpu, d.Time, $"DOUBLE REPORT: reported by cpu {d.FirstReportCpu} and cpu {d.SecondReportCpu}", "violation");
                break;
            case PrctlReturned or SignalSent or SignalDiscarded or KernelLogged:
                Instant(e.Cpu, e.Time, e.What, e.GetType().Name, null);
                break;
        }

        var noise = _noise.NoiseNs(e.Cpu);
        if (noise != _noiseWritten[e.Cpu])
        {
            _noiseWritten[e.Cpu] = noise;
            Counter($"noise cpu {e.Cpu}", e.Time, "noise_ns", noise);
        }

        if (++_written % 4096 == 0)
        {
            _json.Flush();
        }
    }

    /// <inheritdoc />
    public void Finish(long nowNs)
    {
        if (_finished)
        {
            return;
        }

        for (var cpu = 0; cpu < _onCpu.Length; cpu++)
        {
            // Handlers still running when the run ends last until then.
            while (_handlerDepth[cpu] > 0)
            {
                var open = _handlers[(cpu * MaxNesting) + --_handlerDepth[cpu]];
                WriteHandler(open, nowNs);
            }

            CloseTaskSlice(cpu, nowNs);
        }

        foreach (var pid in _inSyscall.Keys.Order().ToList())
        {
            CloseSyscall(pid, nowNs, null);
        }

        _noise.Finish(nowNs);
        for (var cpu = 0; cpu < _onCpu.Length; cpu++)
        {
            var noise = _noise.NoiseNs(cpu);
            if (noise != _noiseWritten[cpu])
            {
                _noiseWritten[cpu] = noise;
                Counter($"noise cpu {cpu}", nowNs, "noise_ns", noise);
            }
        }

        while (_sendOrder.Count > 0)
        {
            WriteUnmatchedSend(_sendOrder.Dequeue());
        }

        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
        _finished = true;
    }

    /// <inheritdoc />
    public void Dispose() => _json.Dispose();

    private static double Us(long ns) => ns / 1000.0;

    private void KeepSend(InterruptSent s)
    {
        _sendsById[s.Id] = s;
        _sendsByCause[(s.Cause, s.TargetCpu)] = s;
        _sendOrder.Enqueue(s.Id);
        while (_sendOrder.Count > MaxPendingSends)
        {
            WriteUnmatchedSend(_sendOrder.Dequeue());
        }
    }

    private void WriteUnmatchedSend(long id)
    {
        if (_sendsById.Remove(id, out var s))
        {
            _sendsByCause.Remove((s.Cause, s.TargetCpu));
            Slice(Pid, s.Cpu + 1, s.Time, 0, $"send {s.What}", "ipi", null, false, s);
        }
    }

    /// <summary>An interrupt was taken: its handler slice is written when it returns, with the time it really took.</summary>
    private void OpenHandlerSlice(InterruptTaken t)
    {
        var depth = _handlerDepth[t.Cpu];
        if (depth < MaxNesting)
        {
            var task = t.Current is { } cur ? TaskTid(cur, t.Cpu) : 0;
            _handlers[(t.Cpu * MaxNesting) + depth] = new OpenHandler(t, task);
            _handlerDepth[t.Cpu] = depth + 1;
        }
    }

    private void Handler(HandlerReturned r)
    {
        var baseIndex = r.Cpu * MaxNesting;
        for (var i = _handlerDepth[r.Cpu] - 1; i >= 0; i--)
        {
            if (_handlers[baseIndex + i].Taken.Id == r.Cause)
            {
                _handlerDepth[r.Cpu] = i;
                WriteHandler(_handlers[baseIndex + i], r.Time);
                return;
            }
        }
    }

    private void WriteHandler(OpenHandler open, long end)
    {
        var t = open.Taken;

        // The IPI's own id is its cause (SendRemote), or the sender's cause and this CPU (a signal's kick).
        InterruptSent? sent = null;
        if (_sendsById.TryGetValue(t.Cause, out var byId) && byId.TargetCpu == t.Cpu)
        {
            sent = byId;
        }
        else if (_sendsByCause.TryGetValue((t.Cause, t.Cpu), out var byCause) && byCause.Kind == t.Kind)
        {
            sent = byCause;
        }

        if (sent is not null)
        {
            _sendsById.Remove(sent.Id);
            _sendsByCause.Remove((sent.Cause, sent.TargetCpu));
            _flows++;
            Slice(Pid, sent.Cpu + 1, sent.Time, 0, $"send {sent.What}", "ipi", _flows, true, sent);
        }

        var dur = Math.Max(0, end - t.Time);
        Slice(Pid, t.Cpu + 1, t.Time, dur, t.Detail, "irq", sent is null ? null : _flows, false, t);
        if (open.TaskTid != 0)
        {
            Slice(TasksPid, open.TaskTid, t.Time, dur, t.Detail, "irq", null, false, t);
        }
    }

    /// <summary>The end of a task's system call (its <c>sys_exit</c>, or its exit or the run's end for one that never returned).</summary>
    private void CloseSyscall(int pid, long end, SyscallExited? exited)
    {
        if (!_inSyscall.Remove(pid, out var open))
        {
            return;
        }

        var s = open.Entered;
        _json.WriteStartObject();
        _json.WriteString("ph", "X");
        _json.WriteString("name", s.Name);
        _json.WriteString("cat", "syscall");
        _json.WriteNumber("pid", TasksPid);
        _json.WriteNumber("tid", open.Tid);
        _json.WriteNumber("ts", Us(s.Time));
        _json.WriteNumber("dur", Us(Math.Max(0, end - s.Time)));
        _json.WriteStartObject("args");
        _json.WriteNumber("nr", s.Nr);
        _json.WriteNumber("cpu", s.Cpu);
        if (exited is not null)
        {
            _json.WriteNumber("ret", exited.Ret);
            _json.WriteNumber("exit_cpu", exited.Cpu);
        }

        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    /// <summary>The tid of <paramref name="task"/>'s track (its pid; a kworker's 32768 + cpu), named the first time it is seen.</summary>
    private int TaskTid(TaskRef task, int cpu)
    {
        var tid = task.Pid == 0 ? FtraceExporter.KworkerPidBase + cpu : task.Pid;
        if (_namedTasks.Add(tid))
        {
            Metadata("thread_name", TasksPid, tid, task.Pid == 0 ? task.Comm : task.ToString());
            SortIndex(TasksPid, tid, tid);
        }

        return tid;
    }

    private void TaskInstant(TaskRef task, int cpu, long ts, string name, string cat)
    {
        var tid = TaskTid(task, cpu);
        _json.WriteStartObject();
        _json.WriteString("ph", "i");
        _json.WriteString("s", "t");
        _json.WriteString("name", name);
        _json.WriteString("cat", cat);
        _json.WriteNumber("pid", TasksPid);
        _json.WriteNumber("tid", tid);
        _json.WriteNumber("ts", Us(ts));
        _json.WriteEndObject();
    }

    private void Tick(int cpu, long ts, bool running)
    {
        var value = (sbyte)(running ? 1 : 0);
        if (_tickWritten[cpu] != value)
        {
            _tickWritten[cpu] = value;
            Counter($"tick cpu {cpu}", ts, "running", value);
        }
    }

    private void Counter(string name, long ts, string series, long value)
    {
        _json.WriteStartObject();
        _json.WriteString("ph", "C");
        _json.WriteString("name", name);
        _json.WriteNumber("pid", Pid);
        _json.WriteNumber("ts", Us(ts));
        _json.WriteStartObject("args");
        _json.WriteNumber(series, value);
        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    private void SortIndex(int pid, int tid, int index)
    {
        _json.WriteStartObject();
        _json.WriteString("ph", "M");
        _json.WriteString("name", "thread_sort_index");
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        _json.WriteStartObject("args");
        _json.WriteNumber("sort_index", index);
        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    private void CloseTaskSlice(int cpu, long end)
    {
        var (task, since) = _onCpu[cpu];
        if (task is not null)
        {
            Slice(Pid, cpu + 1, since, Math.Max(0, end - since), task.ToString(), task.Pid == 0 ? "kworker" : "task", null, false, null);
        }

        _onCpu[cpu] = (null, end);
    }

    private void Slice(int pid, int tid, long ts, long dur, string name, string cat, long? bindId, bool flowOut, MachineEvent? e)
    {
        _json.WriteStartObject();
        _json.WriteString("ph", "X");
        _json.WriteString("name", name);
        _json.WriteString("cat", cat);
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        _json.WriteNumber("ts", Us(ts));
        _json.WriteNumber("dur", Us(dur));
        if (bindId is { } id)
        {
            _json.WriteNumber("bind_id", id);
            _json.WriteBoolean(flowOut ? "flow_out" : "flow_in", true);
        }

        if (e is not null)
        {
            _json.WriteStartObject("args");
            _json.WriteNumber("id", e.Id);
            _json.WriteNumber("cause", e.Cause);
            _json.WriteNumber("time_ns", e.Time);
            if (e is InterruptTaken t)
            {
                _json.WriteString("kind", RunReportCollector.KindName(t.Kind));
                _json.WriteString("state", t.State.ToString());
            }

            _json.WriteEndObject();
        }

        _json.WriteEndObject();
    }

    private void Instant(int cpu, long ts, string name, string cat, IReadOnlyList<ChainLink>? chain)
    {
        _json.WriteStartObject();
        _json.WriteString("ph", "i");
        _json.WriteString("s", "t");
        _json.WriteString("name", name);
        _json.WriteString("cat", cat);
        _json.WriteNumber("pid", Pid);
        _json.WriteNumber("tid", cpu + 1);
        _json.WriteNumber("ts", Us(ts));
        if (chain is not null)
        {
            _json.WriteStartObject("args");
            _json.WriteString("chain", string.Join(" → ", chain.Select(l => l.What)));
            _json.WriteEndObject();
        }

        _json.WriteEndObject();
    }

    private void Metadata(string name, int pid, int tid, string value)
    {
        _json.WriteStartObject();
        _json.WriteString("ph", "M");
        _json.WriteString("name", name);
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        _json.WriteStartObject("args");
        _json.WriteString("name", value);
        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    /// <summary>A handler running on a CPU, with the task track it also shows on (0: none, the CPU was idle).</summary>
    private readonly record struct OpenHandler(InterruptTaken Taken, int TaskTid);
}
