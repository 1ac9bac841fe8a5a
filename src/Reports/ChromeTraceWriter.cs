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
/// <item>An <c>X</c> slice per task's stay on a CPU (from the switch in to the switch out), an <c>X</c> slice per
/// interrupt handler (its cost from <see cref="ModelTimings"/>) nested inside it, and one per work item inside its
/// kworker's.</item>
/// <item>A flow from each IPI's sender to its receiver: a zero-length <c>X</c> slice on the sender's track with
/// <c>bind_id</c> and <c>flow_out</c>, the receiver's handler slice with the same <c>bind_id</c> and
/// <c>flow_in</c>. A send is written when its receiver takes it, so every flow written has both ends; one never taken
/// is written at the end without a flow.</item>
/// <item>Instants (<c>i</c>, thread scope) for violations (<c>VIOLATION ...</c> with the chain in <c>args</c>),
/// liveness failures, system calls, prctl results, signals and kernel log lines.</item>
/// </list>
/// </summary>
public sealed class ChromeTraceWriter : IRunObserver, IDisposable
{
    /// <summary>The top-level keys this writer emits; Perfetto drops everything after an unknown one.</summary>
    public static readonly IReadOnlySet<string> TopLevelKeys = new HashSet<string>(StringComparer.Ordinal) { "traceEvents", "displayTimeUnit" };

    private const int Pid = 1;
    private const int MaxPendingSends = 65_536;

    private readonly Utf8JsonWriter _json;
    private readonly ModelTimings _timings;
    private readonly (TaskRef? Task, long Since)[] _onCpu;
    private readonly Dictionary<long, InterruptSent> _sendsById = [];
    private readonly Dictionary<(long Cause, int Target), InterruptSent> _sendsByCause = [];
    private readonly Queue<long> _sendOrder = new();
    private long _flows;
    private long _written;
    private bool _finished;

    /// <summary>Starts the JSON on <paramref name="stream"/> (left open) for a machine of <paramref name="nrCpus"/> CPUs.</summary>
    public ChromeTraceWriter(Stream stream, int nrCpus, ModelTimings timings)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(nrCpus, 1);
        ArgumentNullException.ThrowIfNull(timings);
        _timings = timings;
        _json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, SkipValidation = false });
        _onCpu = new (TaskRef?, long)[nrCpus];
        _json.WriteStartObject();
        _json.WriteString("displayTimeUnit", "ns");
        _json.WriteStartArray("traceEvents");
        Metadata("process_name", 0, "machine");
        for (var cpu = 0; cpu < nrCpus; cpu++)
        {
            Metadata("thread_name", cpu + 1, $"cpu {cpu}");
            _json.WriteStartObject();
            _json.WriteString("ph", "M");
            _json.WriteString("name", "thread_sort_index");
            _json.WriteNumber("pid", Pid);
            _json.WriteNumber("tid", cpu + 1);
            _json.WriteStartObject("args");
            _json.WriteNumber("sort_index", cpu);
            _json.WriteEndObject();
            _json.WriteEndObject();
        }
    }

    /// <summary>Flows written (each with both ends).</summary>
    public long Flows => _flows;

    /// <summary>Writes a whole trace of recorded <paramref name="events"/> to <paramref name="stream"/>.</summary>
    public static void WriteTrace(Stream stream, IEnumerable<MachineEvent> events, long nowNs, int nrCpus, ModelTimings timings)
    {
        using var w = new ChromeTraceWriter(stream, nrCpus, timings);
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

        switch (e)
        {
            case ContextSwitched sw:
                CloseTaskSlice(sw.Cpu, sw.Time);
                _onCpu[sw.Cpu] = (sw.Next, sw.Time);
                break;
            case InterruptSent s:
                KeepSend(s);
                break;
            case InterruptTaken t:
                Handler(t);
                break;
            case WorkExecuted w:
                var cost = _timings.WorkNs(w.Function);
                Slice(w.Cpu, w.Time - cost, cost, WorkFunctions.Name(w.Function), "work", null, false, e);
                break;
            case ViolationDetected v:
                Instant(v.Cpu, v.Time, $"VIOLATION: {v.Detail} reached {v.Task}", "violation", v.Chain);
                break;
            case LivenessViolated l:
                Instant(l.Cpu, l.Time, $"LIVENESS: {l.Task} {l.Doing} since {l.SinceNs} ns", "violation", null);
                break;
            case DoubleReport d:
                Instant(d.Cpu, d.Time, $"DOUBLE REPORT: {d.Task} reported by cpu {d.FirstReportCpu} and cpu {d.SecondReportCpu}", "violation", d.Chain);
                break;
            case SyscallEntered or PrctlReturned or SignalSent or SignalDelivered or KernelLogged or TaskExited or TaskCreated or TaskMigrated:
                Instant(e.Cpu, e.Time, e.What, e.GetType().Name, null);
                break;
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
            CloseTaskSlice(cpu, nowNs);
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
            Slice(s.Cpu, s.Time, 0, $"send {s.What}", "ipi", null, false, s);
        }
    }

    private void Handler(InterruptTaken t)
    {
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
            Slice(sent.Cpu, sent.Time, 0, $"send {sent.What}", "ipi", _flows, true, sent);
        }

        Slice(t.Cpu, t.Time, _timings.HandlerNs(t.Kind), t.Detail, "irq", sent is null ? null : _flows, false, t);
    }

    private void CloseTaskSlice(int cpu, long end)
    {
        var (task, since) = _onCpu[cpu];
        if (task is not null)
        {
            Slice(cpu, since, Math.Max(0, end - since), task.ToString(), task.Pid == 0 ? "kworker" : "task", null, false, null);
        }

        _onCpu[cpu] = (null, end);
    }

    private void Slice(int cpu, long ts, long dur, string name, string cat, long? bindId, bool flowOut, MachineEvent? e)
    {
        _json.WriteStartObject();
        _json.WriteString("ph", "X");
        _json.WriteString("name", name);
        _json.WriteString("cat", cat);
        _json.WriteNumber("pid", Pid);
        _json.WriteNumber("tid", cpu + 1);
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

    private void Metadata(string name, int tid, string value)
    {
        _json.WriteStartObject();
        _json.WriteString("ph", "M");
        _json.WriteString("name", name);
        _json.WriteNumber("pid", Pid);
        _json.WriteNumber("tid", tid);
        _json.WriteStartObject("args");
        _json.WriteString("name", value);
        _json.WriteEndObject();
        _json.WriteEndObject();
    }
}
