using System.Text.Json;
using Akka.TestKit.Xunit2;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using TaskIsolation.Soak;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// Runs that make no progress in simulated time (docs/model.md §12): a task looping through system calls that cost
/// nothing holds the clock at one instant. The loader refuses the zero timings that allow it, so these tests build the
/// scenario in C# (the API does not check timings) and rely on the bound on deliveries within one instant.
/// </summary>
public sealed class NoProgressTests : TestKit, IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), $"no-progress-{Guid.NewGuid():N}");

    private const string Looping = """
        name: loop
        cpus: 4
        cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
        duration: 10ms
        tasks:
          - name: spin
            cpus: 3
            program:
              - loop:
                  count: forever
                  body:
                    - syscall: {name: getpid, work: 0}
        """;

    public NoProgressTests()
        : base(SimulationConfig.Hocon)
    {
    }

    /// <summary>The looping scenario with every timing 0 (the bound set to <paramref name="bound"/>).</summary>
    private static Scenario Loop(long bound = 10_000)
    {
        var s = ScenarioLoader.Load(Looping, "loop.yaml");
        var zero = new ModelTimings();
        foreach (var p in typeof(ModelTimings).GetProperties().Where(p => p.PropertyType == typeof(long) && p.CanWrite))
        {
            p.SetValue(zero, 0L);
        }

        return s with { Model = s.Model with { Timings = zero with { IpiJitterSteps = 1, ResidualTickMaxDefermentNs = 1_000_000_000 }, MaxInstantDeliveries = bound } };
    }

    [Theory]
    [InlineData(ExecutionMode.Controlled)]
    [InlineData(ExecutionMode.Concurrent)]
    public void A_loop_at_one_instant_ends_the_run_with_a_no_progress_finding_naming_the_loop(ExecutionMode mode)
    {
        var run = ScenarioRunner.Run(Sys, Loop(), new RunSettings { Mode = mode, Seed = 3 });

        Assert.Equal(RunOutcome.NoProgress, run.Outcome);
        var stalled = Assert.IsType<NoProgressDetected>(Assert.Single(run.Machine.Recorder.Findings));
        Assert.Same(stalled, run.Machine.NoProgress);
        Assert.Equal(0, stalled.Time);
        Assert.Equal(3, stalled.Cpu);
        Assert.Equal(10_000, stalled.Deliveries);
        Assert.Contains(stalled.Loop, a => a.Actor == "cpu3");
        Assert.Contains(stalled.Loop, a => a.Actor.StartsWith("task-", StringComparison.Ordinal));
        Assert.StartsWith("no progress in simulated time at 0 ns: 10000 deliveries at one instant among cpu3 (", stalled.What, StringComparison.Ordinal);

        // A typed finding: its kind and signature come from its fields, and the JSON report carries it.
        var info = FindingInfo.Of(stalled, run.Machine)!;
        Assert.Equal(FindingInfo.NoProgressKind, info.Kind);
        Assert.Equal(FindingInfo.NoProgressKind, FindingInfo.KindOf(stalled));
        Assert.StartsWith("no-progress on a nohz_full+isolcpus+task_isolation cpu; loop: ", info.Signature, StringComparison.Ordinal);
        var report = RunOutputs.Report(run.Finished());
        using var json = JsonDocument.Parse(RunReportJson.Serialize(report));
        var np = json.RootElement.GetProperty("no_progress");
        Assert.Equal(10_000, np.GetProperty("deliveries").GetInt64());
        Assert.Equal(stalled.What, np.GetProperty("what").GetString());

        // The simulation does not run again: its instant is not over.
        Assert.Equal(RunOutcome.NoProgress, run.Machine.RunUntil(run.Machine.Now + 1_000_000));
        Assert.Single(run.Machine.Recorder.Findings);
    }

    [Fact]
    public void A_controlled_loop_gives_the_same_finding_for_the_same_seed()
    {
        var one = ScenarioRunner.Run(Sys, Loop(), new RunSettings { Seed = 5 });
        var two = ScenarioRunner.Run(Sys, Loop(), new RunSettings { Seed = 5 });

        Assert.Equal(one.Machine.NoProgress!.What, two.Machine.NoProgress!.What);
        Assert.Equal(one.Machine.Recorder.Trace(), two.Machine.Recorder.Trace());
    }

    [Fact]
    public void A_run_with_enough_deliveries_at_each_instant_is_untouched_by_the_bound()
    {
        var s = ScenarioLoader.Load(Looping.Replace("- syscall: {name: getpid, work: 0}", "- syscall: {name: getpid, work: 1us}", StringComparison.Ordinal), "ok.yaml");

        var run = ScenarioRunner.Run(Sys, s with { Model = s.Model with { MaxInstantDeliveries = Simulation.Simulation.MinMaxInstantDeliveries } });

        Assert.Equal(RunOutcome.TimeLimit, run.Outcome);
        Assert.Null(run.Machine.NoProgress);
        Assert.Equal(10_000_000, run.Machine.Now);
    }

    [Fact]
    public void Exploration_finds_the_loop_and_its_reproducer_replays_to_it()
    {
        var target = new ScenarioTarget(Loop());
        var options = new CampaignOptions { Strategy = StrategyKind.Random, Iterations = 4, Seed = 7, Workers = 1, MaxSteps = 1_000_000 };
        var plan = Explorer.Plan(Sys, target, options);

        var result = Explorer.RunBatch(Sys, target, plan, 0, 4);

        var group = Assert.Single(result.Findings);
        Assert.Equal(FindingInfo.NoProgressKind, group.Reproducer.Finding.Kind);
        var replay = Replayer.Replay(Sys, Reproducer.Parse(group.Reproducer.ToJson()), (_, _) => target);
        Assert.Equal(ReplayStatus.Reproduced, replay.Status);
    }

    [Theory]
    [InlineData(ExecutionMode.Controlled)]
    [InlineData(ExecutionMode.Concurrent)]
    public void A_soak_of_the_loop_ends_with_the_finding(ExecutionMode mode)
    {
        var settings = new SoakSettings { ForNs = 60_000_000_000, SnapshotEveryNs = 10_000_000_000 };
        var ledger = new SoakLedger(settings);
        var session = ScenarioSession.Start(Sys, Loop(), ledger.Observe(ScenarioSession.Options(Loop(), new RunSettings { Mode = mode })), m => ledger.Attach(m));
        List<SoakSnapshot> seen = [];

        var result = SoakDriver.Run(session, ledger, settings, new Seen(seen));

        Assert.Equal(SoakEnd.NoProgress, result.End);
        Assert.NotNull(result.Last.Capture.NoProgress);
        Assert.True(SoakFormats.Found(result.Last));
        Assert.Contains("no progress in simulated time at 0 ns", SoakFormats.Summary(result.Last), StringComparison.Ordinal);
        Assert.Contains("\"noProgress\"", SoakFormats.Json(result.Last), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ExecutionMode.Controlled)]
    [InlineData(ExecutionMode.Concurrent)]
    public void A_stop_request_ends_a_soak_stuck_in_one_instant(ExecutionMode mode)
    {
        // A bound far too large to be reached: only the stop request can end this instant.
        var scenario = Loop(bound: Simulation.Simulation.MaxMaxInstantDeliveries);
        var settings = new SoakSettings { ForNs = 60_000_000_000, SnapshotEveryNs = 10_000_000_000 };
        var ledger = new SoakLedger(settings);
        using var stop = new CancellationTokenSource();
        var options = ledger.Observe(ScenarioSession.Options(scenario, new RunSettings { Mode = mode }));
        var seenByLedger = options.Observer!;
        long events = 0;

        // The request comes from inside the loop, once it has gone round many times: no wall clock, no sleep.
        options = options with
        {
            Observer = e =>
            {
                seenByLedger(e);
                if (Interlocked.Increment(ref events) == 50_000)
                {
                    stop.Cancel();
                }
            },
        };
        var session = ScenarioSession.Start(Sys, scenario, options, m => ledger.Attach(m));
        List<SoakSnapshot> seen = [];

        var result = SoakDriver.Run(session, ledger, settings, new Seen(seen), stop: stop.Token);

        Assert.Equal(SoakEnd.StopRequested, result.End);
        Assert.Equal(0, session.Now);
        Assert.True(Assert.Single(seen).Final);
        Assert.True(result.Last.Capture.Events >= 50_000);
    }

    [Theory]
    [InlineData("return_enter")]
    [InlineData("return_to_user")]
    [InlineData("unaligned_hardware")]
    public void A_zero_timing_that_would_let_a_loop_hold_the_clock_is_refused_naming_the_key(string key)
    {
        var text = Looping.Replace("duration: 10ms", $"duration: 10ms\nmodel:\n  timings:\n    {key}: 0", StringComparison.Ordinal);

        var ex = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(text, "zero.yaml"));

        var e = Assert.Single(ex.Errors);
        Assert.Equal(("zero.yaml", 7), (e.File, e.Line));
        Assert.StartsWith($"zero.yaml:7:", e.ToString(), StringComparison.Ordinal);
        Assert.Contains($"model.timings.{key}: 0 makes this kernel path free", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_other_timings_may_be_0()
    {
        var others = string.Join("\n", ModelKeysTestAccess.ZeroableTimings.Select(k => $"    {k}: 0"));
        var s = ScenarioLoader.Load(Looping.Replace("duration: 10ms", $"duration: 10ms\nmodel:\n  timings:\n{others}", StringComparison.Ordinal), "ok.yaml");

        Assert.Equal(0, s.Model.Timings.SyscallEntryNs);
        Assert.Equal(0, s.Model.Timings.ReturnReadyNs);
    }

    [Theory]
    [InlineData("9999", "model.max_instant_deliveries: 9999 is out of range, expected 10000 to 1000000000")]
    [InlineData("0", "model.max_instant_deliveries: 0 is out of range, expected 10000 to 1000000000")]
    [InlineData("lots", "model.max_instant_deliveries: found 'lots', expected a whole number")]
    public void A_bound_below_the_minimum_is_refused_naming_the_key(string value, string message)
    {
        var text = Looping.Replace("duration: 10ms", $"duration: 10ms\nmodel:\n  max_instant_deliveries: {value}", StringComparison.Ordinal);

        var e = Assert.Single(Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(text, "b.yaml")).Errors);

        Assert.Equal(6, e.Line);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bound_that_is_set_is_kept_in_the_canonical_text_and_one_left_alone_is_not_written()
    {
        var set = ScenarioLoader.Load(Looping.Replace("duration: 10ms", "duration: 10ms\nmodel:\n  max_instant_deliveries: 250000", StringComparison.Ordinal), "b.yaml");
        var plain = ScenarioLoader.Load(Looping, "p.yaml");

        Assert.Equal(250_000, set.Model.MaxInstantDeliveries);
        Assert.Contains("max_instant_deliveries: 250000", ScenarioWriter.Write(set), StringComparison.Ordinal);
        Assert.Equal(250_000, ScenarioLoader.Load(ScenarioWriter.Write(set), "again.yaml").Model.MaxInstantDeliveries);
        Assert.Equal(Simulation.Simulation.DefaultMaxInstantDeliveries, plain.Model.MaxInstantDeliveries);
        Assert.DoesNotContain("max_instant_deliveries", ScenarioWriter.Write(plain), StringComparison.Ordinal);
    }

    public new void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }

        base.Dispose();
    }

    /// <summary>The timing keys of docs/scenarios.md other than the three a loop needs (and the jitter count).</summary>
    private static class ModelKeysTestAccess
    {
        public static readonly string[] ZeroableTimings =
        [
            "ipi_latency", "ipi_jitter", "tick_handler", "ipi_handler", "device_irq_handler", "nmi_handler", "syscall_entry",
            "page_fault", "unaligned_fixup", "return_ready", "context_switch", "vmstat_work", "lru_drain_work", "tlb_flush",
            "prctl", "mmap", "mlock", "nanosleep", "kill", "rt_sigaction", "rt_sigreturn", "copy_process", "wait4",
            "timer_settime", "sched_setaffinity", "sched_setaffinity_other", "sched_setaffinity_no_task", "sched_setaffinity_bad_mask",
        ];
    }

    private sealed class Seen(List<SoakSnapshot> seen) : ISoakOutput
    {
        public void Write(SoakSnapshot snapshot) => seen.Add(snapshot);
    }
}
