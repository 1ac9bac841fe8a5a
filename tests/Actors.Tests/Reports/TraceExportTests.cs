using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>The Perfetto JSON and the ftrace text of known runs.</summary>
public sealed partial class TraceExportTests() : TestKit(SimulationConfig.Hocon)
{
    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Perfetto_json_has_known_keys_nested_slices_per_track_and_complete_flows(ExecutionMode mode)
    {
        var m = ReportRuns.Shootdown(Sys, mode, residual: ResidualTick.Offloaded);
        using var ms = new MemoryStream();
        ChromeTraceWriter.WriteTrace(ms, m.Recorder.Events, m.Now, 4, m.Options.Timings);
        using var doc = JsonDocument.Parse(ms.ToArray());

        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.All(keys, k => Assert.Contains(k, ChromeTraceWriter.TopLevelKeys));
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();

        // One named track per CPU in process 1, one per task in process 2 (tid = pid), each named once.
        var threadNames = events.Where(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name").ToList();
        string[] Names(int pid) => [.. threadNames.Where(e => e.GetProperty("pid").GetInt32() == pid).Select(e => e.GetProperty("args").GetProperty("name").GetString()!)];
        Assert.Equal(["cpu 0", "cpu 1", "cpu 2", "cpu 3"], Names(ChromeTraceWriter.MachinePid));
        var tasks = Names(ChromeTraceWriter.TasksPid);
        Assert.Equal(tasks.Distinct().Count(), tasks.Length);
        Assert.Contains("hk/101", tasks);
        Assert.Contains("nosig/102", tasks);
        Assert.Contains("iso/103", tasks);
        Assert.Contains("sibling/104", tasks);
        Assert.Contains("kworker/0:1", tasks);
        Assert.All(
            threadNames.Where(e => e.GetProperty("pid").GetInt32() == ChromeTraceWriter.TasksPid && !e.GetProperty("args").GetProperty("name").GetString()!.StartsWith("kworker", StringComparison.Ordinal)),
            e => Assert.EndsWith("/" + e.GetProperty("tid").GetInt32(), e.GetProperty("args").GetProperty("name").GetString()!, StringComparison.Ordinal));

        // Slices on each track nest: sorted by start (longer first on ties), each either inside the enclosing one or after it.
        var slices = events.Where(e => e.GetProperty("ph").GetString() == "X").ToList();
        Assert.NotEmpty(slices);
        foreach (var track in slices.GroupBy(e => (e.GetProperty("pid").GetInt32(), e.GetProperty("tid").GetInt32())))
        {
            var stack = new Stack<(double Start, double End, string Name)>();
            foreach (var s in track.Select(e => (Start: e.GetProperty("ts").GetDouble(), Dur: e.GetProperty("dur").GetDouble(), Name: e.GetProperty("name").GetString()!))
                         .OrderBy(s => s.Start).ThenByDescending(s => s.Dur))
            {
                Assert.True(s.Dur >= 0, $"negative duration: {s.Name}");
                var end = s.Start + s.Dur;
                while (stack.Count > 0 && stack.Peek().End <= s.Start + 1e-9 && !(stack.Peek().End == s.Start && s.Dur == 0 && stack.Peek().Start == s.Start))
                {
                    stack.Pop();
                }

                if (stack.Count > 0)
                {
                    var parent = stack.Peek();
                    Assert.True(end <= parent.End + 1e-9, $"track {track.Key}: '{s.Name}' [{s.Start}, {end}] overlaps '{parent.Name}' [{parent.Start}, {parent.End}] partially");
                }

                stack.Push((s.Start, end, s.Name));
            }
        }

        // Every flow has one sender end and one receiver end; the shootdown IPI is one of them, from CPU 0 to CPU 3.
        var ends = slices.Where(e => e.TryGetProperty("bind_id", out _)).GroupBy(e => e.GetProperty("bind_id").GetInt64()).ToList();
        Assert.NotEmpty(ends);
        foreach (var flow in ends)
        {
            Assert.Equal(2, flow.Count());
            Assert.Single(flow, e => e.TryGetProperty("flow_out", out var o) && o.GetBoolean());
            Assert.Single(flow, e => e.TryGetProperty("flow_in", out var i) && i.GetBoolean());
        }

        Assert.Contains(ends, f => f.Any(e => e.TryGetProperty("flow_out", out _) && e.GetProperty("tid").GetInt32() == 1)
                                   && f.Any(e => e.TryGetProperty("flow_in", out _) && e.GetProperty("tid").GetInt32() == 4 && e.GetProperty("name").GetString() == "TLB shootdown IPI"));

        // On the task tracks: the sibling's munmap is a syscall slice, and the TLB shootdown IPI that the isolated task took
        // in user mode is a handler slice on its own track, inside no syscall.
        List<JsonElement> OnTask(int pid) => [.. slices.Where(e => e.GetProperty("pid").GetInt32() == ChromeTraceWriter.TasksPid && e.GetProperty("tid").GetInt32() == pid)];
        var munmap = Assert.Single(OnTask(104), e => e.GetProperty("name").GetString() == "munmap");
        Assert.Equal("syscall", munmap.GetProperty("cat").GetString());
        Assert.Equal(0, munmap.GetProperty("args").GetProperty("ret").GetInt64());
        var tlb = Assert.Single(OnTask(103), e => e.GetProperty("name").GetString() == "TLB shootdown IPI");
        Assert.Equal("UserIsolated", tlb.GetProperty("args").GetProperty("state").GetString());
        Assert.DoesNotContain(OnTask(103), e => e.GetProperty("cat").GetString() == "syscall"
            && e.GetProperty("ts").GetDouble() <= tlb.GetProperty("ts").GetDouble()
            && e.GetProperty("ts").GetDouble() + e.GetProperty("dur").GetDouble() > tlb.GetProperty("ts").GetDouble());

        // Counters: the tick of CPU 3 stops once the isolated task runs alone, and its noise only grows, ending at the
        // noise table's figure.
        var counters = events.Where(e => e.GetProperty("ph").GetString() == "C").ToList();
        Assert.All(counters, e => Assert.Equal(ChromeTraceWriter.MachinePid, e.GetProperty("pid").GetInt32()));
        var tick3 = counters.Where(e => e.GetProperty("name").GetString() == "tick cpu 3").Select(e => e.GetProperty("args").GetProperty("running").GetInt32()).ToList();
        Assert.Equal(0, tick3[0]);
        Assert.Contains(1, tick3);
        Assert.Equal(0, tick3[^1]);
        Assert.All(tick3.Zip(tick3.Skip(1)), p => Assert.NotEqual(p.First, p.Second));
        var noise3 = counters.Where(e => e.GetProperty("name").GetString() == "noise cpu 3").Select(e => e.GetProperty("args").GetProperty("noise_ns").GetInt64()).ToList();
        Assert.Equal(noise3.Order(), noise3);
        var (noise, _) = ReportRuns.Account(m);
        Assert.Equal(noise.Snapshot(m.Now)[3].NoiseNs, noise3[^1]);
        Assert.True(noise3[^1] > 0);

        // The violation is an instant on CPU 3's track with its chain, and on the isolated task's.
        var v = Assert.Single(events, e => e.GetProperty("ph").GetString() == "i" && e.GetProperty("cat").GetString() == "violation" && e.GetProperty("pid").GetInt32() == ChromeTraceWriter.MachinePid);
        Assert.Equal(4, v.GetProperty("tid").GetInt32());
        Assert.Single(events, e => e.GetProperty("ph").GetString() == "i" && e.GetProperty("cat").GetString() == "violation" && e.GetProperty("pid").GetInt32() == ChromeTraceWriter.TasksPid && e.GetProperty("tid").GetInt32() == 103);
        Assert.EndsWith("munmap", v.GetProperty("args").GetProperty("chain").GetString()!.Split(" → ")[0], StringComparison.Ordinal);

        // ts in microseconds: the last event is within the run's 2.5 s.
        Assert.InRange(events.Where(e => e.TryGetProperty("ts", out _)).Max(e => e.GetProperty("ts").GetDouble()), 1_000_000, 2_500_000);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Ftrace_lines_match_the_4_7_format_and_show_the_run(ExecutionMode mode)
    {
        var m = ReportRuns.Shootdown(Sys, mode, residual: ResidualTick.Offloaded);
        var sb = new StringBuilder();
        using (var w = new StringWriter(sb))
        {
            FtraceExporter.WriteTrace(w, m.Recorder.Events, m.Now, 4, m.Options.Timings);
        }

        var lines = sb.ToString().Split('\n');
        Assert.Equal(string.Empty, lines[^1]);
        var header = lines.TakeWhile(l => l.StartsWith('#')).ToList();
        var body = lines.Skip(header.Count).SkipLast(1).ToList();
        Assert.Contains($"# entries-in-buffer/entries-written: {body.Count}/{body.Count}   #P:4", header);
        Assert.All(body, l => Assert.Matches(LineFormat(), l));

        // Time order, as the kernel's merged per-CPU buffers print.
        var stamps = body.Select(l => decimal.Parse(LineFormat().Match(l).Groups["ts"].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(stamps.Order(), stamps);

        Assert.Contains(body, l => l.Contains("[003] d.h1", StringComparison.Ordinal) && l.EndsWith("local_timer_entry: vector=239", StringComparison.Ordinal));
        Assert.Contains(body, l => l.Contains("iso-", StringComparison.Ordinal) && l.Contains("[003]", StringComparison.Ordinal) && l.EndsWith("call_function_entry: vector=252", StringComparison.Ordinal));
        Assert.Contains(body, l => l.Contains("[003]", StringComparison.Ordinal) && l.EndsWith("tlb_flush: pages:-1 reason:remote shootdown (1)", StringComparison.Ordinal));
        Assert.Contains(body, l => l.Contains("sibling-", StringComparison.Ordinal) && l.Contains("[000]", StringComparison.Ordinal) && l.EndsWith("tlb_flush: pages:-1 reason:remote ipi send (4)", StringComparison.Ordinal));
        Assert.Contains(body, l => l.Contains("[003]", StringComparison.Ordinal) && l.EndsWith("tick_stop: success=1 dependency=NONE", StringComparison.Ordinal));
        Assert.Contains(body, l => l.EndsWith("tick_stop: success=0 dependency=SCHED", StringComparison.Ordinal));
        Assert.Contains(body, l => l.Contains("sched_switch: prev_comm=iso prev_pid=", StringComparison.Ordinal) && l.Contains("prev_state=x ==> next_comm=swapper/3 next_pid=0", StringComparison.Ordinal));
        Assert.Contains(body, l => l.Contains("sched_switch: prev_comm=swapper/3 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=iso", StringComparison.Ordinal));
        Assert.Contains(body, l => l.Contains("irq_work_entry: vector=246", StringComparison.Ordinal));
        Assert.Contains(body, l => l.Contains("reschedule_entry: vector=253", StringComparison.Ordinal));

        // Every entry has its exit but a handler still running on a CPU when the run ended (the full pairing check runs
        // over the goldens of every built-in: FtracePairingTests), and the sibling's munmap shows as raw_syscalls on
        // x86_64 (NR 11).
        var entries = body.Count(l => l.Contains("_entry: ", StringComparison.Ordinal));
        Assert.InRange(entries - body.Count(l => l.Contains("_exit: ", StringComparison.Ordinal) && !l.Contains("sys_exit: ", StringComparison.Ordinal)), 0, 4);
        Assert.Contains(body, l => l.Contains("sibling-104", StringComparison.Ordinal) && l.EndsWith("sys_enter: NR 11 (1000, 0, 0, 0, 0, 0)", StringComparison.Ordinal));
        Assert.Contains(body, l => l.Contains("sibling-104", StringComparison.Ordinal) && l.EndsWith("sys_exit: NR 11 = 0", StringComparison.Ordinal));
    }

    [Fact]
    public void Controlled_runs_with_one_seed_give_byte_identical_exports()
    {
        static (byte[] Trace, string Ftrace, string Report) Export(Akka.Actor.ActorSystem sys)
        {
            var m = ReportRuns.Shootdown(sys, ExecutionMode.Controlled, seed: 11, residual: ResidualTick.Offloaded);
            using var ms = new MemoryStream();
            ChromeTraceWriter.WriteTrace(ms, m.Recorder.Events, m.Now, 4, m.Options.Timings);
            using var sw = new StringWriter();
            FtraceExporter.WriteTrace(sw, m.Recorder.Events, m.Now, 4, m.Options.Timings);
            var (noise, collector) = ReportRuns.Account(m);
            var report = RunReportJson.Serialize(collector.Build(new RunInfo("s", 11, "controlled", m.Now, 0), m.Booted.Log, noise, []));
            return (ms.ToArray(), sw.ToString(), report);
        }

        var a = Export(Sys);
        var b = Export(Sys);
        Assert.Equal(a.Trace, b.Trace);
        Assert.Equal(a.Ftrace, b.Ftrace);
        Assert.Equal(a.Report, b.Report);
    }

    // §11: <comm>-<pid> [<cpu, 3 digits>] <4 flags> <sec>.<usec>: <event>: <fields>
    [GeneratedRegex(@"^ *(?<comm>\S.{0,15})-(?<pid>\d+) +\[(?<cpu>\d{3,})\] (?<flags>[d.][Nnp.][hsHzZ.][0-9a-f.]) +(?<ts>\d+\.\d{6}): (?<event>[a-z_]+): (?<fields>.*)$")]
    private static partial Regex LineFormat();
}
