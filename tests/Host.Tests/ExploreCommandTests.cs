using System.Text.Json.Nodes;

namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol explore</c>, <c>replay</c> and <c>minimize</c>: exit codes, files, and bad input.</summary>
public sealed class ExploreCommandTests : IDisposable
{
    /// <summary>A NOSIG task loops getpid on CPU 3 while a sibling thread on CPU 0 munmaps twice: §9 R9 as a race (scenarios/tlb-race.yaml).</summary>
    private static readonly string Race = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scenarios", "tlb-race.yaml"));

    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-explore-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Explore_finds_the_race_exits_1_and_writes_a_reproducer_that_replays()
    {
        var scenario = Write("race.yaml", Race);
        var outDir = Path.Combine(_dir, "out");

        var r = Taskisol.Run("explore", scenario, "--iterations", "120", "--workers", "2", "--seed", "7", "--out", outDir);

        Assert.Equal(1, r.Exit);
        Assert.Contains("finding 1: violation CallFunctionIpi on a nohz_full+isolcpus+task_isolation cpu; root: task step munmap", r.Out, StringComparison.Ordinal);
        Assert.Contains("schedules: 120 in", r.Out, StringComparison.Ordinal);
        Assert.Contains("user-isolated", r.Out, StringComparison.Ordinal);
        Assert.Contains("PCT: ", r.Out, StringComparison.Ordinal);
        var repro = Path.Combine(outDir, "finding-1.json");
        Assert.True(File.Exists(repro));
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp*"));

        var replay = Taskisol.Run("replay", repro, "--check", "--ftrace", Path.Combine(_dir, "f.txt"));
        Assert.Equal(0, replay.Exit);
        Assert.Contains("byte-identical", replay.Out, StringComparison.Ordinal);
        Assert.Contains("call_function_entry: vector=252", File.ReadAllText(Path.Combine(_dir, "f.txt")), StringComparison.Ordinal);

        // The same reproducer with its scenario edited: the replay says so and fails.
        var json = JsonNode.Parse(File.ReadAllText(repro))!;
        json["target"]!["text"] = json["target"]!["text"]!.GetValue<string>().Replace("count: 60", "count: 59", StringComparison.Ordinal).Replace("37us", "30us", StringComparison.Ordinal);
        var edited = Write("edited.json", json.ToJsonString());
        var bad = Taskisol.Run("replay", edited);
        Assert.Equal(1, bad.Exit);
        Assert.Contains("the target text was edited", bad.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Explore_of_the_arm64_twin_finds_nothing_and_exits_0()
    {
        var scenario = Write("arm.yaml", Race.Replace("arch: x86_64", "arch: arm64", StringComparison.Ordinal));

        var r = Taskisol.Run("explore", scenario, "--iterations", "40", "--workers", "1", "--strategy", "pct", "--until", "first");

        Assert.Equal(0, r.Exit);
        Assert.Contains("no findings", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Exhaustive_finds_the_race_and_its_reproducer_replays()
    {
        var scenario = Write("race.yaml", Race);
        var outDir = Path.Combine(_dir, "out");

        var r = Taskisol.Run("explore", scenario, "--strategy", "exhaustive", "--out", outDir);

        Assert.Equal(1, r.Exit);
        Assert.Contains("finding: violation CallFunctionIpi on a nohz_full+isolcpus+task_isolation cpu; root: task step munmap", r.Out, StringComparison.Ordinal);
        Assert.Contains("first violating schedule: schedule ", r.Out, StringComparison.Ordinal);
        var replay = Taskisol.Run("replay", Path.Combine(outDir, "finding-1.json"), "--check");
        Assert.Equal(0, replay.Exit);
        Assert.Contains("byte-identical", replay.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Exhaustive_proves_the_arm64_twin_and_reduction_runs_no_more_schedules()
    {
        var scenario = Write("arm.yaml", Race.Replace("arch: x86_64", "arch: arm64", StringComparison.Ordinal));

        var reduced = Taskisol.Run("explore", scenario, "--strategy", "exhaustive");
        var full = Taskisol.Run("explore", scenario, "--strategy", "exhaustive", "--no-reduction");

        Assert.Equal(0, reduced.Exit);
        Assert.Equal(0, full.Exit);
        var counts = new[] { reduced.Out, full.Out }.Select(o => System.Text.RegularExpressions.Regex.Match(o, @"explored all (\d+) schedules \((\d+) pruned as equivalent, .*\) within the bounds: no violation")).ToList();
        Assert.All(counts, m => Assert.True(m.Success));
        Assert.Equal("0", counts[1].Groups[2].Value);
        Assert.True(long.Parse(counts[0].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= long.Parse(counts[1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_bounded_exhaustive_run_says_it_was_bounded()
    {
        var scenario = Write("arm.yaml", Race.Replace("arch: x86_64", "arch: arm64", StringComparison.Ordinal));

        var r = Taskisol.Run("explore", scenario, "--strategy", "exhaustive", "--max-schedules", "2");

        Assert.Equal(0, r.Exit);
        Assert.Contains("bounded by --max-schedules: explored 2 schedules", r.Out, StringComparison.Ordinal);
        Assert.Contains("this is not a proof", r.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("explored all", r.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--strategy", "dfs", "--strategy: found 'dfs', expected random, pct, portfolio, guided or exhaustive")]
    [InlineData("--until", "last", "--until: found 'last', expected first or all")]
    [InlineData("--iterations", "0", "--iterations must be at least 1, not 0")]
    [InlineData("--workers", "0", "--workers must be between 1 and 1024, not 0")]
    [InlineData("--depth", "0", "--depth must be between 1 and 64, not 0")]
    [InlineData("--find", "crash", "--find: found 'crash', expected violation, liveness, double-report, no-progress or monitor")]
    public void Explore_bad_options_exit_2_naming_the_option(string option, string value, string message)
    {
        var scenario = Write("race.yaml", Race);

        var r = Taskisol.Run("explore", scenario, option, value);

        Assert.Equal(2, r.Exit);
        Assert.Contains(message, r.Err, StringComparison.Ordinal);
        Assert.Equal(string.Empty, r.Out);
    }

    [Fact]
    public void Explore_of_a_missing_or_invalid_scenario_exits_2_and_writes_nothing()
    {
        var outDir = Path.Combine(_dir, "never");
        Assert.Equal(2, Taskisol.Run("explore", Path.Combine(_dir, "missing.yaml"), "--out", outDir).Exit);
        var r = Taskisol.Run("explore", Write("bad.yaml", "cpus: lots\n"), "--out", outDir);
        Assert.Equal(2, r.Exit);
        Assert.Contains("bad.yaml:1:", r.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Replay_and_minimize_of_what_is_not_a_reproducer_exit_2_without_a_stack_trace()
    {
        var notJson = Write("x.json", "{ nope");
        var noFile = Path.Combine(_dir, "absent.json");
        var wrongKind = Write("k.json", """{"format":"taskisol-reproducer/1","modelVersion":"m","target":{"kind":"other","name":"n","hash":"h","durationNs":1,"text":"t"},"run":{"strategy":"random","seed":1,"campaignSeed":1,"schedule":0,"depth":3,"pctSteps":1,"maxSteps":10},"decisions":"","finding":{"kind":"violation","signature":"s","cpu":3,"interrupt":null,"task":"t/1","timeNs":0,"chain":[]}}""");

        foreach (var args in new[] { new[] { "replay", notJson }, ["replay", noFile], ["replay", wrongKind], ["minimize", notJson], ["minimize", wrongKind], ["replay", _dir] })
        {
            var r = Taskisol.Run(args);
            Assert.Equal(2, r.Exit);
            Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
            Assert.Contains(args[1], r.Err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Explore_with_find_counts_only_that_kind_and_says_so()
    {
        // tlb-race's task is NOSIG, never reported: looking for double reports finds none, and the header says so.
        var scenario = Write("race.yaml", Race);

        var r = Taskisol.Run("explore", scenario, "--iterations", "8", "--workers", "1", "--find", "double-report");

        Assert.Equal(0, r.Exit);
        Assert.Contains("finding only double-report", r.Out, StringComparison.Ordinal);
        Assert.Contains("no findings", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Explore_with_find_on_a_cluster_finds_what_one_node_finds_and_is_another_campaign()
    {
        // R14 shows violations in every schedule and a double report in a few: --find keeps only the double report.
        string[] campaign = ["explore", "r14-two-senders", "--iterations", "48", "--seed", "1", "--workers", "1"];
        var journal = Path.Combine(_dir, "campaign.jsonl");

        var single = Taskisol.Run([.. campaign, "--find", "double-report"]);
        var cluster = Taskisol.Run([.. campaign, "--find", "double-report", "--cluster", "--port", "0", "--journal", journal]);

        Assert.Equal((1, 1), (single.Exit, cluster.Exit));
        static string Findings(string output) => string.Join('\n', output.Split('\n').SkipWhile(l => !l.StartsWith("finding ", StringComparison.Ordinal)).TakeWhile(l => !l.StartsWith("schedules:", StringComparison.Ordinal)));
        Assert.StartsWith("finding 1: double-report on a nohz_full+isolcpus+task_isolation cpu", Findings(single.Out), StringComparison.Ordinal);
        Assert.DoesNotContain("violation", Findings(single.Out), StringComparison.Ordinal);
        Assert.Equal(Findings(single.Out), Findings(cluster.Out));
        Assert.Contains("finding only double-report", cluster.Out, StringComparison.Ordinal);

        // The same campaign looking for every kind is another campaign: its journal is refused.
        var other = Taskisol.Run([.. campaign, "--cluster", "--port", "0", "--journal", journal]);
        Assert.Equal(2, other.Exit);
        Assert.Contains("journal of another campaign", other.Err, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task A_signal_after_the_first_finding_keeps_its_reproducer_and_prints_the_summary_of_what_ran(string signal, int code)
    {
        // As in ClusterCommandTests: a process started in the background without job control ignores SIGINT, and so
        // would the child; say so rather than wait.
        Skip.If(signal == "INT" && SignalIgnored(2), "SIGINT is ignored in this test process (started in the background without job control), so its children cannot receive it");

        var scenario = Write("race.yaml", Race);
        var outDir = Path.Combine(_dir, "out");
        var start = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "taskisol.dll"), "explore", scenario, "--iterations", "1000000", "--workers", "1", "--out", outDir })
        {
            start.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(start)!;

        // A guard against a hung child, not a wait for something to happen.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stderr = process.StandardError.ReadToEndAsync(guard.Token);
        try
        {
            // Wait for the progress line that shows the first finding (an event, not a time): its reproducer is on disk.
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync(guard.Token);
                Assert.NotNull(line);
            }
            while (!line.EndsWith(" 1 distinct finding", StringComparison.Ordinal));

            var repro = Path.Combine(outDir, "finding-1.json");
            Assert.True(File.Exists(repro), "the reproducer is written when the finding is found, not at the end");

            using (var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(guard.Token);
            }

            var rest = await process.StandardOutput.ReadToEndAsync(guard.Token);
            await process.WaitForExitAsync(guard.Token);
            var err = await stderr;
            Assert.True(code == process.ExitCode, $"exit {process.ExitCode}, expected {code}; stderr: {err}");
            Assert.Contains($"taskisol explore: SIG{signal} received: finishing the schedules in flight, then the summary", err, StringComparison.Ordinal);
            Assert.Matches($"\nstopped by SIG{signal} after [0-9]+ schedules \\(of 1000000\\): this summary is of those\n", rest);
            Assert.Contains("finding 1: violation CallFunctionIpi on a nohz_full+isolcpus+task_isolation cpu; root: task step munmap", rest, StringComparison.Ordinal);
            Assert.Contains($"  reproducer: {repro}\n", rest, StringComparison.Ordinal);
            Assert.Contains("coverage (interrupts taken, by CPU state):", rest, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(outDir, "*.tmp*"));

            var replay = Taskisol.Run("replay", repro);
            Assert.Equal(0, replay.Exit);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    private static bool SignalIgnored(int signal)
    {
        // /proc/self/status: "SigIgn:\t<hex mask>", bit (signal - 1).
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (signal - 1))) != 0;
    }

    [Fact]
    public void Monitors_of_a_scenario_fail_run_and_are_found_by_explore_replay_and_soak()
    {
        var scenario = Write("monitored.yaml", Race.Replace("expectations:", """
            monitors:
              - no_interrupt: {name: quiet, cpus: 3, kind: call_function_ipi, from: {task: iso, ends: prctl}}
            expectations:
            """, StringComparison.Ordinal));
        var report = Path.Combine(_dir, "report.json");

        var run = Taskisol.Run("run", scenario, "--report", report);
        Assert.Equal(1, run.Exit);
        Assert.Contains("cpu 3: monitor quiet (no_interrupt) failed: TLB shootdown IPI (call_function_ipi) taken in ", run.Out, StringComparison.Ordinal);
        Assert.Contains("\nmonitors: 1 of 1 failed: quiet\n", run.Out, StringComparison.Ordinal);
        var monitors = JsonNode.Parse(File.ReadAllText(report))!["monitors"]!.AsArray();
        var entry = Assert.Single(monitors)!;
        Assert.Equal("quiet", (string?)entry["monitor"]);
        Assert.Equal("assertion", (string?)entry["failure"]);
        Assert.EndsWith(": munmap", (string?)entry["chain"]![0]!["what"], StringComparison.Ordinal);

        var outDir = Path.Combine(_dir, "out");
        var explore = Taskisol.Run("explore", scenario, "--iterations", "8", "--workers", "1", "--find", "monitor", "--out", outDir);
        Assert.Equal(1, explore.Exit);
        Assert.Contains("finding 1: monitor quiet (no_interrupt) failed on a nohz_full+isolcpus+task_isolation cpu; root: task step munmap", explore.Out, StringComparison.Ordinal);
        var replay = Taskisol.Run("replay", Path.Combine(outDir, "finding-1.json"), "--check");
        Assert.Equal(0, replay.Exit);
        Assert.Contains("reproduced: monitor on cpu 3", replay.Out, StringComparison.Ordinal);

        var exhaustive = Taskisol.Run("explore", scenario, "--strategy", "exhaustive");
        Assert.Equal(1, exhaustive.Exit);
        Assert.Contains("finding: monitor quiet (no_interrupt) failed", exhaustive.Out, StringComparison.Ordinal);

        var soakDir = Path.Combine(_dir, "soak");
        var soak = Taskisol.Run("soak", scenario, "--for", "2ms", "--out", soakDir);
        Assert.Equal(1, soak.Exit);
        Assert.Contains(", monitor failures 1 (found: exit 1)", soak.Out, StringComparison.Ordinal);
        Assert.Contains("monitor quiet (no_interrupt) failed", soak.Out, StringComparison.Ordinal);

        // Without the section, the run of the same race passes as before.
        Assert.Equal(0, Taskisol.Run("run", Write("plain.yaml", Race)).Exit);
    }
}
