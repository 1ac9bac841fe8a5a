namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol worker</c> and <c>taskisol explore --cluster</c>: a campaign through the command line, and bad input.</summary>
public sealed class ClusterCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Explore_cluster_with_local_slots_prints_the_single_node_findings_and_journals_every_batch()
    {
        var scenario = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scenarios", "tlb-shootdown.yaml");
        var journal = Path.Combine(_dir, "campaign.jsonl");
        string[] campaign = ["explore", scenario, "--iterations", "24", "--seed", "5"];

        var single = Taskisol.Run([.. campaign, "--workers", "1"]);
        var cluster = Taskisol.Run([.. campaign, "--workers", "1", "--cluster", "--port", "0", "--journal", journal]);

        Assert.Equal(1, single.Exit);
        Assert.Equal(1, cluster.Exit);
        Assert.Contains("coordinator akka.tcp://taskisol@127.0.0.1:", cluster.Out, StringComparison.Ordinal);
        Assert.Contains("cluster: 3 batches, 0 from the journal, 3 assigned, 0 reassigned", cluster.Out, StringComparison.Ordinal);
        // The findings block: from the first finding to the summary line.
        static string Findings(string output) => string.Join('\n', output.Split('\n').SkipWhile(l => !l.StartsWith("finding ", StringComparison.Ordinal)).TakeWhile(l => !l.StartsWith("schedules:", StringComparison.Ordinal)));
        Assert.StartsWith("finding 1: violation CallFunctionIpi", Findings(single.Out), StringComparison.Ordinal);
        Assert.Equal(Findings(single.Out), Findings(cluster.Out));
        Assert.Equal(4, File.ReadAllLines(journal).Length);

        // Again with the journal: nothing left to run.
        var again = Taskisol.Run([.. campaign, "--workers", "1", "--cluster", "--port", "0", "--journal", journal]);
        Assert.Contains("cluster: 3 batches, 3 from the journal, 0 assigned", again.Out, StringComparison.Ordinal);
        Assert.Equal(Findings(single.Out), Findings(again.Out));

        // Another seed with the same journal is another campaign: bad input, nothing changed.
        var other = Taskisol.Run("explore", scenario, "--iterations", "24", "--seed", "6", "--cluster", "--port", "0", "--journal", journal);
        Assert.Equal(2, other.Exit);
        Assert.Contains("journal of another campaign", other.Err, StringComparison.Ordinal);
        Assert.Equal(4, File.ReadAllLines(journal).Length);
    }

    [Fact]
    public async Task A_loopback_campaign_across_processes_leaves_no_akka_log_line_on_stdout()
    {
        // A coordinator and a --once worker as separate processes, as docs/cluster.md starts them: Akka logs at start-up
        // and shutdown (remoting started, shut down, cluster leaving) belong on stderr through Serilog, never among the
        // command's own output on stdout, where Akka's basic logger used to print them after the summary.
        var scenario = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scenarios", "tlb-shootdown.yaml");
        using var coordinator = Start("explore", scenario, "--iterations", "16", "--seed", "5", "--cluster", "--port", "0", "--log-level", "debug");
        var coordinatorErr = coordinator.StandardError.ReadToEndAsync();
        var head = new List<string>();
        string? seed = null;
        while (seed is null && await coordinator.StandardOutput.ReadLineAsync() is { } line)
        {
            head.Add(line);
            if (line.StartsWith("  start workers with: taskisol worker --seed-node ", StringComparison.Ordinal))
            {
                seed = line.Split(' ').Last();
            }
        }

        Assert.NotNull(seed);
        using var worker = Start("worker", "--seed-node", seed, "--once", "--log-level", "debug");
        var workerOut = worker.StandardOutput.ReadToEndAsync();
        var workerErr = worker.StandardError.ReadToEndAsync();
        var coordinatorOut = string.Join('\n', head) + "\n" + await coordinator.StandardOutput.ReadToEndAsync();

        // Guards against a hung child, not waits for something to happen.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await coordinator.WaitForExitAsync(guard.Token);
        await worker.WaitForExitAsync(guard.Token);

        Assert.Equal(1, coordinator.ExitCode);
        Assert.Equal(0, worker.ExitCode);
        Assert.Contains("cluster: 2 batches", coordinatorOut, StringComparison.Ordinal);
        Assert.Equal("worker stopped after 1 finished campaign\n", await workerOut);
        var akkaLine = new System.Text.RegularExpressions.Regex(@"^\[(DEBUG|INFO|WARNING|ERROR)\]|Remoting|akka://", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.DoesNotMatch(akkaLine, coordinatorOut.Replace("akka.tcp://", "node://", StringComparison.Ordinal));
        Assert.DoesNotMatch(akkaLine, await workerOut);

        // The same lines are not lost: they are on stderr, through Serilog, with the node's prefix.
        Assert.Contains("taskisol worker: ", await workerErr, StringComparison.Ordinal);
        Assert.Contains("Remoting shut down", await workerErr, StringComparison.Ordinal);
        Assert.Contains("taskisol explore: ", await coordinatorErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_killed_mid_batch_leaves_the_findings_and_schedule_count_of_the_single_node_campaign()
    {
        // The whole path with real processes: a coordinator and two workers on loopback, one worker SIGKILLed while it
        // runs its first batch. The coordinator hands that worker's batches to the other once the split-brain resolver
        // has downed it (stable-after 7 s), and the campaign must end as the single-node one of the same seed and size.
        var scenario = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scenarios", "tlb-shootdown.yaml");
        var journal = Path.Combine(_dir, "killed.jsonl");
        string[] campaign = ["explore", scenario, "--iterations", "48", "--seed", "5"];
        var single = Taskisol.Run([.. campaign, "--workers", "1"]);

        // One guard over every wait (a hung child fails the test, it never hangs the suite); every child killed at the end.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var coordinator = Start([.. campaign, "--cluster", "--port", "0", "--journal", journal, "--log-level", "info"]);
        System.Diagnostics.Process? victim = null;
        System.Diagnostics.Process? survivor = null;
        try
        {
            var coordinatorErr = coordinator.StandardError.ReadToEndAsync(guard.Token);
            var head = new List<string>();
            string? seed = null;
            while (seed is null && await coordinator.StandardOutput.ReadLineAsync(guard.Token) is { } line)
            {
                head.Add(line);
                if (line.StartsWith("  start workers with: taskisol worker --seed-node ", StringComparison.Ordinal))
                {
                    seed = line.Split(' ').Last();
                }
            }

            Assert.NotNull(seed);
            victim = Start("worker", "--seed-node", seed, "--slots", "1", "--log-level", "info");
            survivor = Start("worker", "--seed-node", seed, "--slots", "1", "--once", "--log-level", "info");
            var survivorOut = survivor.StandardOutput.ReadToEndAsync(guard.Token);
            var survivorErr = survivor.StandardError.ReadToEndAsync(guard.Token);
            _ = victim.StandardOutput.ReadToEndAsync(guard.Token);

            // The victim logs the campaign when its first batch arrives: it is then running that batch (a batch of
            // eight schedules takes far longer than a kill), so the SIGKILL lands mid-batch.
            while (await victim.StandardError.ReadLineAsync(guard.Token) is { } line && !line.Contains(" schedules", StringComparison.Ordinal))
            {
            }

            victim.Kill();
            await victim.WaitForExitAsync(guard.Token);
            var coordinatorOut = string.Join('\n', head) + "\n" + await coordinator.StandardOutput.ReadToEndAsync(guard.Token);
            await coordinator.WaitForExitAsync(guard.Token);
            await survivor.WaitForExitAsync(guard.Token);
            var err = await coordinatorErr;

            Assert.True(coordinator.ExitCode == 1, $"coordinator exit {coordinator.ExitCode}; stderr: {err}");
            Assert.True(survivor.ExitCode == 0, $"worker exit {survivor.ExitCode}; stderr: {await survivorErr}");
            var lost = System.Text.RegularExpressions.Regex.Match(err, @"; (\d+) unfinished batches go to others");
            Assert.True(lost.Success && int.Parse(lost.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= 1, $"no batch of the killed worker was handed on; stderr: {err}");
            Assert.Equal(Findings(single.Out), Findings(coordinatorOut));
            Assert.StartsWith("finding 1: violation CallFunctionIpi", Findings(coordinatorOut), StringComparison.Ordinal);
            Assert.Equal(Schedules(single.Out), Schedules(coordinatorOut));
            Assert.Equal("48", Schedules(coordinatorOut));
            Assert.Equal("worker stopped after 1 finished campaign\n", await survivorOut);
        }
        finally
        {
            foreach (var p in new[] { coordinator, victim, survivor })
            {
                if (p is { HasExited: false })
                {
                    p.Kill(entireProcessTree: true);
                }
            }

            victim?.Dispose();
            survivor?.Dispose();
        }

        // The findings block: from the first finding to the summary line; and the number of schedules the summary counts.
        static string Findings(string output) => string.Join('\n', output.Split('\n').SkipWhile(l => !l.StartsWith("finding ", StringComparison.Ordinal)).TakeWhile(l => !l.StartsWith("schedules:", StringComparison.Ordinal)));
        static string Schedules(string output) => output.Split('\n').First(l => l.StartsWith("schedules: ", StringComparison.Ordinal)).Split(' ')[1];
    }

    private static System.Diagnostics.Process Start(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "taskisol.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        return System.Diagnostics.Process.Start(start)!;
    }

    [Theory]
    [InlineData(new[] { "worker" }, "--seed-node")]
    [InlineData(new[] { "worker", "--seed-node", "tcp://nowhere" }, "--seed-node: seed node 'tcp://nowhere'")]
    [InlineData(new[] { "worker", "--seed-node", "akka.tcp://other@127.0.0.1:4053" }, "the actor system must be 'taskisol'")]
    [InlineData(new[] { "worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:4053", "--port", "70000" }, "--port must be between 0 and 65535, not 70000")]
    [InlineData(new[] { "worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:4053", "--slots", "0" }, "--slots must be between 1 and 1024, not 0")]
    [InlineData(new[] { "worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:4053", "--cluster-config", "/nonexistent/cluster.conf" }, "--cluster-config /nonexistent/cluster.conf:")]
    [InlineData(new[] { "worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:4053", "--log-level", "loud" }, "--log-level: found 'loud'")]
    [InlineData(new[] { "worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:4053", "--cluster-config", "" }, "--cluster-config: the path is empty, expected a HOCON file")]
    [InlineData(new[] { "worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:4053", "--host", "1_000" }, "--host: '1_000' is not a host name or an IP address")]
    [InlineData(new[] { "worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:4053", "--host", "999.1.1.1.1" }, "--host: '999.1.1.1.1' is not a host name or an IP address")]
    [InlineData(new[] { "worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:4053", "--node-log", "/nonexistent/w.log" }, "--node-log '/nonexistent/w.log': directory '/nonexistent' does not exist")]
    public void Worker_bad_input_exits_2_naming_the_option(string[] args, string message)
    {
        var r = Taskisol.Run(args);

        Assert.Equal(2, r.Exit);
        Assert.Contains(message, r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task A_coordinator_stopped_by_a_signal_exits_128_plus_its_number_not_the_bad_input_code(string signal, int code)
    {
        // A shell that starts a job in the background without job control makes it ignore SIGINT, and a signal ignored
        // at exec stays ignored in the child (the runtime installs no handler for it): the coordinator could not be
        // stopped by Ctrl-C there, so that case says why instead of waiting.
        Skip.If(signal == "INT" && SignalIgnoredByThisProcess(2), "SIGINT is ignored in this test process (started in the background without job control), so its children cannot receive it");

        // No worker joins: the coordinator waits, as one does until its workers come, and is stopped there.
        var scenario = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scenarios", "tlb-shootdown.yaml");
        var journal = Path.Combine(_dir, $"stopped-{signal}.jsonl");
        using var coordinator = Start("explore", scenario, "--iterations", "16", "--cluster", "--port", "0", "--journal", journal, "--log-level", "error");

        // A guard against a hung child, not a wait for something to happen.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stderr = coordinator.StandardError.ReadToEndAsync(guard.Token);
        while (await coordinator.StandardOutput.ReadLineAsync(guard.Token) is { } line && !line.StartsWith("  start workers with: ", StringComparison.Ordinal))
        {
        }

        using (var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", coordinator.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(guard.Token);
        }

        try
        {
            _ = await coordinator.StandardOutput.ReadToEndAsync(guard.Token);
            await coordinator.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            coordinator.Kill(entireProcessTree: true);
            throw;
        }

        var err = await stderr;
        Assert.True(code == coordinator.ExitCode, $"exit {coordinator.ExitCode}, expected {code}; stderr: {err}");
        Assert.Contains($"taskisol explore: SIG{signal} received: stopped before the campaign finished; finished batches are in {journal}: run the same command again to resume\n", err, StringComparison.Ordinal);
    }

    private static bool SignalIgnoredByThisProcess(int signal)
    {
        // /proc/self/status: "SigIgn:\t<hex mask>", bit (signal - 1).
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (signal - 1))) != 0;
    }

    [Fact]
    public void Journal_without_cluster_is_bad_input()
    {
        var scenario = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scenarios", "tlb-shootdown.yaml");

        var r = Taskisol.Run("explore", scenario, "--iterations", "2", "--journal", Path.Combine(_dir, "j.jsonl"));

        Assert.Equal(2, r.Exit);
        Assert.Contains("--journal needs --cluster", r.Err, StringComparison.Ordinal);
    }
}
