using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// The two traces a kernel engineer reads: the ftrace text of every built-in and example (its goldens, which
/// <see cref="GoldenOutputTests"/> holds equal to what <c>taskisol run</c> writes) pairs every <c>*_entry</c> with its
/// <c>*_exit</c> and every <c>sys_enter</c> with its <c>sys_exit</c>, with each arch's own tracepoints; the Perfetto JSON
/// of a run on each arch matches docs/trace.schema.json and has nested slices, a track per task and counter tracks.
/// </summary>
public sealed partial class TraceFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-trace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Every ftrace golden: its folder (scenario/seed) and the arch its run printed.</summary>
    public static TheoryData<string> FtraceGoldens()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(GoldenOutputTests.RepoRoot, "tests", "golden", "run"), "ftrace.txt", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Path.Combine(GoldenOutputTests.RepoRoot, "tests", "golden", "run"), Path.GetDirectoryName(f)!));
        }

        return data;
    }

    [Fact]
    public void There_is_an_ftrace_golden_for_every_scenario_and_seed() =>
        Assert.Equal(GoldenOutputTests.Runs().Count, FtraceGoldens().Count);

    [Theory]
    [MemberData(nameof(FtraceGoldens))]
    public void Every_entry_has_its_exit_and_every_sys_enter_its_sys_exit(string golden)
    {
        var dir = Path.Combine(GoldenOutputTests.RepoRoot, "tests", "golden", "run", golden);
        var arch = ArchOf(File.ReadAllText(Path.Combine(dir, "stdout.txt")));
        var lines = File.ReadAllLines(Path.Combine(dir, "ftrace.txt")).Where(l => !l.StartsWith('#')).ToList();

        var open = new Dictionary<int, (string Name, string Key, string Line)>();
        var inSyscall = new Dictionary<int, (long Nr, string Line)>();
        foreach (var line in lines)
        {
            var m = Line().Match(line);
            Assert.True(m.Success, $"{golden}: not an ftrace line: {line}");
            var cpu = int.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture);
            var pid = int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture);
            var ev = m.Groups["event"].Value;
            var fields = m.Groups["fields"].Value;

            // Each arch's own tracepoints: no x86 vector on arm64, no arm64 IPI elsewhere.
            if (arch == "arm64")
            {
                Assert.DoesNotContain("vector=", fields, StringComparison.Ordinal);
            }
            else
            {
                Assert.False(ev.StartsWith("ipi_", StringComparison.Ordinal), $"{golden}: {arch} prints {line}");
            }

            if (ev is "sys_enter" or "sys_exit")
            {
                var nr = long.Parse(fields[3..fields.IndexOf(' ', 3)], CultureInfo.InvariantCulture);
                if (ev == "sys_enter")
                {
                    Assert.False(inSyscall.TryGetValue(pid, out var o), $"{golden}: {line}\n  while pid {pid} is still in {o.Line}");
                    inSyscall[pid] = (nr, line);
                }
                else
                {
                    Assert.True(inSyscall.Remove(pid, out var o), $"{golden}: sys_exit with no sys_enter: {line}");
                    Assert.True(o.Nr == nr, $"{golden}: {line} returns from {o.Line}");
                }

                Assert.False(open.ContainsKey(cpu), $"{golden}: a system call inside a handler: {line}");
                continue;
            }

            if (ev.EndsWith("_entry", StringComparison.Ordinal))
            {
                // Interrupts are off in a handler: only an NMI nests in one, and it traces nmi_handler, not an entry.
                Assert.False(open.TryGetValue(cpu, out var o), $"{golden}: {line}\n  while cpu {cpu} is in {o.Line}");
                open[cpu] = (ev[..^"_entry".Length], Key(ev, fields), line);
                continue;
            }

            if (ev.EndsWith("_exit", StringComparison.Ordinal))
            {
                Assert.True(open.Remove(cpu, out var o), $"{golden}: an exit with no entry: {line}");
                Assert.True(o.Name == ev[..^"_exit".Length] && o.Key == Key(ev, fields), $"{golden}: {line} closes {o.Line}");
                continue;
            }

            // Inside a handler: what irq_exit() traces, the shootdown's flush, an NMI.
            Assert.True(
                !open.TryGetValue(cpu, out var h) || ev is "tick_stop" or "tlb_flush" or "nmi_handler",
                $"{golden}: {line}\n  inside {h.Line}");
        }

        // A handler still open ran when the trace ended: nothing followed it on its CPU (checked above). A task still in
        // a system call is asleep in it, was stuck in it, or called exit_group, which does not return.
    }

    [Theory]
    [InlineData("scenarios/tlb-shootdown.yaml", 4)]
    [InlineData("scenarios/tlb-shootdown-arm64.yaml", 4)]
    [InlineData("scenarios/nmi-watchdog.yaml", 4)]
    [InlineData("r05-tile-stale-timer", 4)]
    public void Perfetto_trace_matches_the_schema_with_task_tracks_and_counters(string scenario, int cpus)
    {
        var input = scenario.StartsWith("scenarios/", StringComparison.Ordinal) ? Path.Combine(GoldenOutputTests.RepoRoot, scenario) : scenario;
        var path = Path.Combine(_dir, "t.json");
        var r = Taskisol.Run("run", input, "--seed", "1", "--trace", path);
        Assert.True(r.Exit is 0 or 1, r.Err);

        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "trace.schema.json")));
        var result = schema.Evaluate(JsonNode.Parse(File.ReadAllText(path)), new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join("\n", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Take(10)));

        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        static (int Pid, int Tid) Track(JsonElement e) => (e.GetProperty("pid").GetInt32(), e.GetProperty("tid").GetInt32());
        static string Ph(JsonElement e) => e.GetProperty("ph").GetString()!;

        // Every track that holds a slice or an instant is named, once; the CPU tracks are cpu 0..N-1 in process 1.
        var named = events.Where(e => Ph(e) == "M" && e.GetProperty("name").GetString() == "thread_name").ToList();
        Assert.Equal(named.Count, named.Select(Track).Distinct().Count());
        var names = named.ToDictionary(Track, e => e.GetProperty("args").GetProperty("name").GetString()!);
        Assert.All(events.Where(e => Ph(e) is "X" or "i"), e => Assert.True(names.ContainsKey(Track(e)), $"unnamed track {Track(e)}"));
        Assert.Equal(Enumerable.Range(0, cpus).Select(c => $"cpu {c}"), names.Where(n => n.Key.Pid == 1).OrderBy(n => n.Key.Tid).Select(n => n.Value));
        var tasks = names.Where(n => n.Key.Pid == 2).ToList();
        Assert.NotEmpty(tasks);
        Assert.All(tasks, t => Assert.Matches(@"^(\S+/\d+|kworker/\d+:1)$", t.Value));

        // The slices of each track nest.
        foreach (var track in events.Where(e => Ph(e) == "X").GroupBy(Track))
        {
            var stack = new Stack<(long Start, long End, string Name)>();
            foreach (var (start, end, name) in track.Select(e => (Start: Ns(e, "ts"), End: Ns(e, "ts") + Ns(e, "dur"), Name: e.GetProperty("name").GetString()!)).OrderBy(s => s.Start).ThenByDescending(s => s.End))
            {
                while (stack.Count > 0 && stack.Peek().End <= start && !(stack.Peek().Start == start && stack.Peek().End == start))
                {
                    stack.Pop();
                }

                Assert.True(stack.Count == 0 || end <= stack.Peek().End, $"track {track.Key}: '{name}' [{start}, {end}] overlaps '{(stack.Count > 0 ? stack.Peek().Name : "")}' partially");
                stack.Push((start, end, name));
            }
        }

        // Flows have both ends.
        Assert.All(events.Where(e => e.TryGetProperty("bind_id", out _)).GroupBy(e => e.GetProperty("bind_id").GetInt64()), f => Assert.Equal(2, f.Count()));

        // Counters: a tick and a noise track per CPU; the tick alternates between running and stopped, the noise grows.
        var counters = events.Where(e => Ph(e) == "C").GroupBy(e => e.GetProperty("name").GetString()!).ToDictionary(g => g.Key, g => g.ToList());
        for (var cpu = 0; cpu < cpus; cpu++)
        {
            var tick = counters[$"tick cpu {cpu}"].Select(e => e.GetProperty("args").GetProperty("running").GetInt32()).ToList();
            Assert.All(tick, v => Assert.InRange(v, 0, 1));
            Assert.All(tick.Zip(tick.Skip(1)), p => Assert.NotEqual(p.First, p.Second));
            var noise = counters[$"noise cpu {cpu}"].Select(e => e.GetProperty("args").GetProperty("noise_ns").GetInt64()).ToList();
            Assert.Equal(noise.Order(), noise);
        }

        Assert.Contains(counters.Keys, k => k.StartsWith("tick", StringComparison.Ordinal) && counters[k].Count > 1);
    }

    private static long Ns(JsonElement e, string key) => (long)Math.Round(e.GetProperty(key).GetDouble() * 1000);

    /// <summary>What an exit must repeat of its entry: the vector, the IPI's reason, or the IRQ number.</summary>
    private static string Key(string ev, string fields) =>
        ev.StartsWith("irq_handler_", StringComparison.Ordinal) ? fields[..fields.IndexOf(' ', StringComparison.Ordinal)] : fields;

    private static string ArchOf(string stdout) => stdout.Split('\n')[0].Split(", ")[1];

    // §11: <comm>-<pid> [<cpu, 3 digits>] <4 flags> <sec>.<usec>: <event>: <fields>
    [GeneratedRegex(@"^ *(?<comm>\S.{0,15})-(?<pid>\d+) +\[(?<cpu>\d{3,})\] (?<flags>[d.][Nnp.][hsHzZ.][0-9a-f.]) +(?<ts>\d+\.\d{6}): (?<event>[a-z_0-9]+): (?<fields>.*)$")]
    private static partial Regex Line();
}
