using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol run --report/--trace/--ftrace/--log</c> and the noise table: files that parse, nothing written on bad input.</summary>
public sealed partial class RunReportOptionsTests : IDisposable
{
    /// <summary>A sibling's munmap shoots down the isolated CPU: one violation, so <c>no_violations</c> fails.</summary>
    internal const string Shootdown = """
        cpus: 4
        cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
        model: {residual_tick: offloaded}
        duration: 1s
        tasks:
          - name: iso
            cpus: 3
            program:
              - thread: {name: sibling, program: [affinity: 0, compute: 500ms, munmap: 0x1000]}
              - compute: 20ms
              - prctl: enable
              - compute: 2s
        expectations:
          - no_violations
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-outputs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Every_output_of_a_failing_run_is_written_and_parses()
    {
        var scenario = Write("shootdown.yaml", Shootdown);
        var r = Taskisol.Run("run", scenario, "--report", P("r.json"), "--trace", P("t.json"), "--ftrace", P("f.txt"), "--log", P("l.clef"));

        Assert.Equal(1, r.Exit);
        Assert.Equal("", r.Err);

        // --report: valid against the schema, with the violation and its chain.
        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "report.schema.json")));
        var node = JsonNode.Parse(File.ReadAllText(P("r.json")));
        Assert.True(schema.Evaluate(node).IsValid);
        var v = node!["violations"]![0]!;
        Assert.Equal("call_function_ipi", v["kind"]!.GetValue<string>());
        Assert.EndsWith("munmap", v["chain"]![0]!["what"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(node["expectations"]![0]!["held"]!.GetValue<bool>());
        Assert.Equal(1, node["seed"]!.GetValue<long>());
        Assert.Equal(1_000_000_000, node["simulated_ns"]!.GetValue<long>());

        // --trace: JSON with only Perfetto's keys, a flow into CPU 3's shootdown handler.
        using (var trace = JsonDocument.Parse(File.ReadAllBytes(P("t.json"))))
        {
            Assert.All(trace.RootElement.EnumerateObject(), p => Assert.Contains(p.Name, new[] { "traceEvents", "displayTimeUnit" }));
            Assert.Contains(trace.RootElement.GetProperty("traceEvents").EnumerateArray(), e =>
                e.TryGetProperty("flow_in", out _) && e.GetProperty("name").GetString() == "TLB shootdown IPI" && e.GetProperty("tid").GetInt32() == 4);
        }

        // --ftrace: the 4.7 header and lines.
        var ftrace = File.ReadAllLines(P("f.txt"));
        Assert.Equal("# tracer: nop", ftrace[0]);
        Assert.All(ftrace.Where(l => !l.StartsWith('#')), l => Assert.Matches(FtraceLine(), l));
        Assert.Contains(ftrace, l => l.EndsWith("call_function_entry: vector=252", StringComparison.Ordinal));

        // --log: one CLEF object a line, the violation at level Error.
        var log = File.ReadAllLines(P("l.clef")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(log, e => e.TryGetProperty("@l", out var l) && l.GetString() == "Error" && e.GetProperty("Cpu").GetInt32() == 3);

        Assert.Equal(5, Directory.GetFiles(_dir).Length);
    }

    [Fact]
    public void A_double_report_is_in_the_json_report_with_both_cpus_and_its_chain_and_absent_when_there_is_none()
    {
        // R14: seed 3 of the controlled run lets both senders test the flag before either clears it.
        var r = Taskisol.Run("run", "r14-two-senders", "--seed", "3", "--quiet", "--report", P("double.json"));
        var schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "report.schema.json")));
        var node = JsonNode.Parse(File.ReadAllText(P("double.json")));
        Assert.True(schema.Evaluate(node).IsValid, r.Out + r.Err);
        var d = Assert.Single(node!["double_reports"]!.AsArray())!;
        Assert.Equal((3, "iso/101"), (d["cpu"]!.GetValue<int>(), d["task"]!.GetValue<string>()));
        Assert.NotEqual(d["first_report_cpu"]!.GetValue<int>(), d["second_report_cpu"]!.GetValue<int>());
        Assert.EndsWith("munmap", d["chain"]![0]!["what"]!.GetValue<string>(), StringComparison.Ordinal);

        Taskisol.Run("run", "r14-two-senders", "--seed", "1", "--quiet", "--report", P("single.json"));
        var single = JsonNode.Parse(File.ReadAllText(P("single.json")))!.AsObject();
        Assert.Single(single["violations"]!.AsArray());
        Assert.False(single.ContainsKey("double_reports"));
    }

    [Fact]
    public void The_person_output_has_the_noise_table()
    {
        var r = Taskisol.Run("run");

        Assert.Equal(0, r.Exit);
        Assert.Contains("== noise\n", r.Out, StringComparison.Ordinal);
        Assert.Contains("Operating System Noise", r.Out, StringComparison.Ordinal);
        Assert.Matches(@"\nCPU Period +Runtime +Noise +% CPU Aval +Max Noise +Max Single +HW +NMI +IRQ +Softirq +Thread\n  0 #10 ", r.Out);
        Assert.Matches(@"\n  3 #10 +10000000000 +[1-9][0-9]* ", r.Out);
    }

    [Fact]
    public void A_bad_scenario_writes_nothing()
    {
        var bad = Write("bad.yaml", "cpus: four\n");
        var r = Taskisol.Run("run", bad, "--report", P("r.json"), "--trace", P("t.json"), "--ftrace", P("f.txt"), "--log", P("l.clef"));

        Assert.Equal(2, r.Exit);
        Assert.Equal(["bad.yaml"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void An_output_in_a_missing_directory_is_bad_input_named_before_the_run()
    {
        var missing = Path.Combine(_dir, "nope", "t.json");
        var r = Taskisol.Run("run", "--report", P("r.json"), "--trace", missing);

        Assert.Equal(2, r.Exit);
        Assert.Equal($"taskisol run: --trace '{missing}': directory '{Path.Combine(_dir, "nope")}' does not exist\n", r.Err);
        Assert.Equal("", r.Out);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void Two_outputs_to_one_file_or_a_directory_are_bad_input()
    {
        var same = Taskisol.Run("run", "--report", P("x.json"), "--trace", P("x.json"));
        Assert.Equal(2, same.Exit);
        Assert.Contains("--trace", same.Err, StringComparison.Ordinal);
        Assert.Contains("the same file as --report", same.Err, StringComparison.Ordinal);

        var dir = Taskisol.Run("run", "--ftrace", _dir);
        Assert.Equal(2, dir.Exit);
        Assert.Contains($"--ftrace '{_dir}': is a directory", dir.Err, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string Write(string name, string yaml)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    [GeneratedRegex(@"^ *\S.{0,15}-\d+ +\[\d{3,}\] [d.][Nnp.][hsHzZ.][0-9a-f.] +\d+\.\d{6}: [a-z_]+: .*$")]
    private static partial Regex FtraceLine();
}
