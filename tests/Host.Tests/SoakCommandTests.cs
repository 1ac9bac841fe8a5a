using System.Diagnostics;
using System.Text.Json;
using TaskIsolation.Exploration;
using TaskIsolation.Soak;

namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol soak</c>: what it writes, how it stops, and what it refuses.</summary>
public sealed class SoakCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"soak-cli-{Guid.NewGuid():N}");

    public SoakCommandTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_short_soak_of_the_default_scenario_writes_every_snapshot_file_and_a_self_contained_report()
    {
        var dir = Path.Combine(_root, "out");
        var r = Taskisol.Run("soak", "default", "--for", "20s", "--snapshot-every", "5s", "--out", dir);

        Assert.Equal(0, r.Exit);
        Assert.Equal("", r.Err);
        var lines = r.Out.Split('\n');
        Assert.Equal(4, lines.Count(l => l.StartsWith("soak: ", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("soak: 20.000 s of 20.000 s simulated", StringComparison.Ordinal) && l.EndsWith("(final)", StringComparison.Ordinal));
        Assert.Contains("soak ended: the simulated duration was reached", r.Out, StringComparison.Ordinal);
        Assert.Contains("violations 0, liveness failures 0 (nothing found: exit 0)\n", r.Out, StringComparison.Ordinal);
        foreach (var f in new[] { "noise.txt", "noise.json", "hist.txt", "violations.txt", "recent-events.txt", "snapshot.json", "summary.txt", "report.html" })
        {
            Assert.True(File.Exists(Path.Combine(dir, "latest", f)), f);
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "latest"), ".*"));
        // No temporary file left behind; the one dot file is the manifest of the directory's own files.
        Assert.Equal([Path.Combine(dir, Reports.OutputCheck.ManifestFile)], Directory.GetFiles(dir, ".*"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "snapshot.json")));
        Assert.Equal(20_000_000_000, json.RootElement.GetProperty("simulatedNs").GetInt64());
        Assert.Equal(4, json.RootElement.GetProperty("series").GetArrayLength());

        // The default scenario's poller is disturbed only while it starts (its arrival and the tick its prctl's wait
        // takes, a few microseconds): its CPU is all but 100 % available, and the idle CPUs are wholly so.
        var noise = File.ReadAllText(Path.Combine(dir, "latest", "noise.txt"));
        Assert.Matches(@"\n  3 #20\s+20000000000\s+[1-9]\d{0,3}\s+99\.9999\d", noise);
        Assert.Matches(@"\n  1 #20\s+20000000000\s+0\s+100\.00000", noise);
        Assert.Contains("# RTLA osnoise histogram", File.ReadAllText(Path.Combine(dir, "latest", "hist.txt")), StringComparison.Ordinal);

        // Self-contained: inline SVG, no script, nothing fetched from elsewhere.
        var html = File.ReadAllText(Path.Combine(dir, "latest", "report.html"));
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("<polyline", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch("href=\"[^#]", html);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_controlled_soak_that_finds_violations_writes_its_first_finding_as_a_reproducer()
    {
        var dir = Path.Combine(_root, "out");
        var r = Taskisol.Run("soak", "residual-tick", "--for", "8s", "--snapshot-every", "4s", "--seed", "5", "--out", dir);

        // Findings exit 1, as explore's do, and the summary says why.
        Assert.Equal(1, r.Exit);
        Assert.Equal("", r.Err);
        Assert.Matches(@"\nviolations [1-9][0-9]*, liveness failures 0 \(found: exit 1\)\n", r.Out);
        Assert.Contains("(found: exit 1)", File.ReadAllText(Path.Combine(dir, "latest", "summary.txt")), StringComparison.Ordinal);
        var reproducer = Reproducer.Parse(File.ReadAllText(Path.Combine(dir, "latest", "reproducer.json")));
        Assert.Equal("scenario", reproducer.Target.Kind);
        Assert.Equal("residual-tick", reproducer.Target.Name);
        Assert.Equal(TargetHash.Of(reproducer.Target.Text), reproducer.Target.Hash);
        Assert.Equal("random", reproducer.Run.Strategy);
        Assert.Equal(5, reproducer.Run.Seed);
        Assert.Equal("violation", reproducer.Finding.Kind);
        Assert.Equal("ResidualTick", reproducer.Finding.Interrupt);
        Assert.Equal(reproducer.Finding.TimeNs, reproducer.Target.DurationNs);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "snapshot.json")));
        var violations = json.RootElement.GetProperty("violations");
        Assert.True(violations.GetProperty("count").GetInt64() >= 2);
        Assert.Equal(reproducer.Finding.TimeNs, violations.GetProperty("kept")[0].GetProperty("timeNs").GetInt64());
        Assert.Contains("VIOLATION", File.ReadAllText(Path.Combine(dir, "latest", "violations.txt")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_concurrent_soak_writes_no_reproducer()
    {
        var dir = Path.Combine(_root, "out");
        var r = Taskisol.Run("soak", "residual-tick", "--mode", "concurrent", "--for", "3s", "--snapshot-every", "1s", "--out", dir);

        Assert.Equal(1, r.Exit);
        Assert.False(File.Exists(Path.Combine(dir, "latest", "reproducer.json")));
        Assert.True(File.Exists(Path.Combine(dir, "latest", "snapshot.json")));
    }

    [Theory]
    [InlineData("no-such-scenario", "no scenario file or built-in scenario named 'no-such-scenario'")]
    [InlineData("--for=10", "--for: '10' has no unit")]
    [InlineData("--for=-5s", "--for: '-5s' is negative")]
    [InlineData("--snapshot-every=0", "--snapshot-every: '0' must be longer than 0")]
    [InlineData("--wall=soon", "--wall: 'soon'")]
    [InlineData("--mode=fast", "--mode: unknown mode 'fast'")]
    public void Bad_input_exits_2_naming_it_and_writes_nothing(string bad, string message)
    {
        var dir = Path.Combine(_root, "out");
        string[] args = bad.StartsWith("--", StringComparison.Ordinal)
            ? ["soak", "default", bad, "--out", dir]
            : ["soak", bad, "--out", dir];

        var r = Taskisol.Run(args);

        Assert.Equal(2, r.Exit);
        Assert.Contains(message, r.Err, StringComparison.Ordinal);
        Assert.StartsWith("taskisol soak: ", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void A_bad_scenario_file_is_reported_with_its_place_and_nothing_is_written()
    {
        var file = Path.Combine(_root, "bad.yaml");
        File.WriteAllText(file, "name: bad\ncpus: many\n");
        var dir = Path.Combine(_root, "out");

        var r = Taskisol.Run("soak", file, "--out", dir);

        Assert.Equal(2, r.Exit);
        Assert.Contains($"{file}:2:", r.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void An_unwritable_out_exits_2_naming_it_and_writes_nothing()
    {
        var file = Path.Combine(_root, "a-file");
        File.WriteAllText(file, "x");

        var under = Taskisol.Run("soak", "default", "--for", "1s", "--out", Path.Combine(file, "out"));
        var itself = Taskisol.Run("soak", "default", "--for", "1s", "--out", file);

        Assert.Equal(2, under.Exit);
        Assert.StartsWith($"taskisol soak: --out '{Path.Combine(file, "out")}': cannot create the directory: ", under.Err, StringComparison.Ordinal);
        Assert.Equal(2, itself.Exit);
        Assert.Equal($"taskisol soak: --out '{file}': is a file, expected a directory\n", itself.Err);
        Assert.Equal(["a-file"], Directory.GetFileSystemEntries(_root).Select(Path.GetFileName));
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Fact]
    public async Task SIGINT_finishes_the_slice_and_leaves_a_complete_final_snapshot()
    {
        var dir = Path.Combine(_root, "out");
        var (exit, rest, stderr) = await StopMidRun("default", "INT", dir, _ => true);

        Assert.Equal(0, exit);
        Assert.Contains("SIGINT received", stderr, StringComparison.Ordinal);
        Assert.Contains("soak ended: stopped on request", rest, StringComparison.Ordinal);
        Assert.Contains("(nothing found: exit 0)", rest, StringComparison.Ordinal);
        AssertFinalSnapshot(dir);
    }

    [Fact]
    public async Task SIGTERM_after_a_finding_flushes_the_final_snapshot_and_still_exits_1()
    {
        var dir = Path.Combine(_root, "out");
        var (exit, rest, stderr) = await StopMidRun("residual-tick", "TERM", dir, line => !line.Contains(" 0 violations", StringComparison.Ordinal));

        Assert.Equal(1, exit);
        Assert.Contains("SIGTERM received", stderr, StringComparison.Ordinal);
        Assert.Contains("soak ended: stopped on request", rest, StringComparison.Ordinal);
        Assert.Contains("(found: exit 1)", rest, StringComparison.Ordinal);
        AssertFinalSnapshot(dir);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "snapshot.json")));
        Assert.True(json.RootElement.GetProperty("violations").GetProperty("count").GetInt64() > 0);
    }

    [Fact]
    public async Task A_second_signal_close_after_the_first_leaves_latest_one_whole_snapshot()
    {
        // Two SIGTERMs back to back: the first asks for the final snapshot, the second ends the process wherever it is
        // (perhaps halfway through that snapshot's folder). `latest` must still name one whole snapshot: every file,
        // all of the same sequence, no temporary file.
        var dir = Path.Combine(_root, "out");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "taskisol.dll"), "soak", "residual-tick", "--for", "10h", "--snapshot-every", "1s", "--out", dir })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            _ = process.StandardError.ReadToEndAsync(guard.Token);

            // The first snapshot's line (an event, not a time): `latest` exists from here on.
            Assert.StartsWith("soak: ", await process.StandardOutput.ReadLineAsync(guard.Token), StringComparison.Ordinal);
            for (var i = 0; i < 2; i++)
            {
                using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
                await kill.WaitForExitAsync(guard.Token);
            }

            _ = await process.StandardOutput.ReadToEndAsync(guard.Token);
            await process.WaitForExitAsync(guard.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var latest = new DirectoryInfo(Path.Combine(dir, "latest"));
        Assert.NotNull(latest.LinkTarget);
        Assert.Matches(@"^snapshots/[0-9]{6}$", latest.LinkTarget);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(latest.FullName, "snapshot.json")));
        var sequence = json.RootElement.GetProperty("sequence").GetInt32();
        foreach (var f in SnapshotWriter.Files)
        {
            Assert.True(File.Exists(Path.Combine(latest.FullName, f)), f);
        }

        foreach (var f in new[] { "noise.txt", "hist.txt", "violations.txt", "recent-events.txt" })
        {
            Assert.StartsWith($"# taskisol soak snapshot {sequence}", File.ReadAllText(Path.Combine(latest.FullName, f)), StringComparison.Ordinal);
        }

        if (json.RootElement.GetProperty("final").GetBoolean())
        {
            Assert.True(File.Exists(Path.Combine(latest.FullName, "summary.txt")));
        }

        Assert.Empty(Directory.GetFileSystemEntries(latest.FullName, ".*"));
    }

    [Fact]
    public void An_out_directory_whose_latest_is_not_the_soaks_link_is_refused_before_anything_runs()
    {
        var dir = Path.Combine(_root, "out");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "latest"), "mine");

        var r = Taskisol.Run("soak", "default", "--for", "1s", "--out", dir);

        Assert.Equal(2, r.Exit);
        Assert.Equal($"taskisol soak: --out '{dir}': holds 'latest', which is not the link a soak makes; it would be replaced\n", r.Err);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "latest")));
        Assert.False(Directory.Exists(Path.Combine(dir, "snapshots")));

        // A soak's own entries are accepted: a second soak into the same directory replaces the first one's snapshots
        // (the manifest lists them) and switches `latest` to its own.
        File.Delete(Path.Combine(dir, "latest"));
        Assert.Equal(0, Taskisol.Run("soak", "default", "--for", "1s", "--out", dir).Exit);
        var firstSummary = File.GetLastWriteTimeUtc(Path.Combine(dir, "latest", "summary.txt"));
        Assert.Equal(0, Taskisol.Run("soak", "default", "--for", "1s", "--out", dir).Exit);
        Assert.NotNull(new DirectoryInfo(Path.Combine(dir, "latest")).LinkTarget);
        Assert.True(File.GetLastWriteTimeUtc(Path.Combine(dir, "latest", "summary.txt")) >= firstSummary);
        Assert.Equal(["latest", "snapshots"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Where(n => n![0] != '.').Order(StringComparer.Ordinal));
    }

    private static void AssertFinalSnapshot(string dir)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "snapshot.json")));
        Assert.True(json.RootElement.GetProperty("final").GetBoolean());
        Assert.Equal("StopRequested", json.RootElement.GetProperty("end").GetString());
        Assert.True(json.RootElement.GetProperty("simulatedNs").GetInt64() < 36_000_000_000_000);
        Assert.True(File.Exists(Path.Combine(dir, "latest", "report.html")));
        Assert.True(File.Exists(Path.Combine(dir, "latest", "summary.txt")));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "latest"), ".*"));
        // No temporary file left behind; the one dot file is the manifest of the directory's own files.
        Assert.Equal([Path.Combine(dir, Reports.OutputCheck.ManifestFile)], Directory.GetFiles(dir, ".*"));
    }

    /// <summary>
    /// Runs a 10 h soak as a separate process, waits for a progress line that <paramref name="ready"/> accepts, sends
    /// SIG<paramref name="signal"/> as Ctrl-C or a service manager would, and returns the exit code and what followed.
    /// </summary>
    private static async Task<(int Exit, string After, string Stderr)> StopMidRun(string scenario, string signal, string dir, Func<string, bool> ready)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "taskisol.dll"), "soak", scenario, "--for", "10h", "--snapshot-every", "1s", "--out", dir })
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();

        // Wait for the snapshot line wanted (an event, not a time), then interrupt.
        string? line;
        do
        {
            line = await process.StandardOutput.ReadLineAsync();
            Assert.NotNull(line);
            Assert.StartsWith("soak: ", line, StringComparison.Ordinal);
            Assert.Contains(" of 36000.000 s simulated", line, StringComparison.Ordinal);
        }
        while (!ready(line));

        using (var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        var rest = await process.StandardOutput.ReadToEndAsync();

        // A guard against a hung child, not a wait for something to happen.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(guard.Token);
        return (process.ExitCode, rest, await stderr);
    }

    [Fact]
    public void A_liveness_failure_in_the_kernel_reads_in_the_kernel_in_every_soak_output()
    {
        // A syscall that stays in the kernel for 250 ms: the liveness failure's typed Waiting is InKernel, and the
        // violations file, the HTML report and the run report of the soak say so (they used to say "returning to user").
        var file = Path.Combine(_root, "long-syscall.yaml");
        File.WriteAllText(file, """
            name: long-syscall
            cpus: 2
            duration: 1s
            tasks:
              - name: slow
                cpus: 1
                program:
                  - syscall: {name: getpid, work: 250ms}
                  - exit: 0
            """);
        var dir = Path.Combine(_root, "out");
        var r = Taskisol.Run("soak", file, "--for", "400ms", "--snapshot-every", "200ms", "--out", dir);

        Assert.Equal(1, r.Exit);
        Assert.Contains("violations 0, liveness failures 1 (found: exit 1)", r.Out, StringComparison.Ordinal);
        var text = File.ReadAllText(Path.Combine(dir, "latest", "violations.txt"));
        Assert.Contains(": slow/101 in the kernel since [", text, StringComparison.Ordinal);
        Assert.DoesNotContain("returning to user", text, StringComparison.Ordinal);
        var html = File.ReadAllText(Path.Combine(dir, "latest", "report.html"));
        Assert.Contains(": slow/101 in the kernel since [", html, StringComparison.Ordinal);
        Assert.DoesNotContain("returning to user", html, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "noise.json")));
        var liveness = Assert.Single(report.RootElement.GetProperty("liveness").EnumerateArray());
        Assert.Equal("in_kernel", liveness.GetProperty("waiting").GetString());
        using var snapshot = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "snapshot.json")));
        Assert.Contains("has been in the kernel since", snapshot.RootElement.GetProperty("liveness").GetProperty("kept")[0].GetProperty("what").GetString(), StringComparison.Ordinal);
    }
}
