using Akka.TestKit.Xunit2;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>
/// The kernel's edge cases of R14's double report (docs/races.md): the same signal sent twice to one task, and the debug
/// report's rate limit. Each test takes the double-report schedules exploration finds in a variant of
/// <c>r14-two-senders</c> and runs them to the end.
/// </summary>
public sealed class R14SignalTests : TestKit
{
    private const int Budget = 48;

    public R14SignalTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Fact]
    public void A_standard_signal_sent_twice_is_merged_while_the_first_is_pending_and_runs_its_handler_again_only_after_it()
    {
        var runs = DoubleReportRuns(Variant(signal: "SIGUSR1", handler: true));

        Assert.NotEmpty(runs);
        foreach (var events in runs)
        {
            var sent = events.OfType<SignalSent>().Where(s => s.Task.Comm == "iso").ToList();
            var handled = events.OfType<SignalDelivered>().Where(d => d.Task.Comm == "iso").ToList();
            Assert.Equal([Signal.SIGUSR1, Signal.SIGUSR1], sent.Select(s => s.Signal));
            Assert.All(handled, d => Assert.Equal((Signal.SIGUSR1, SignalAction.Handler), (d.Signal, d.Action)));
            Assert.InRange(handled.Count, 1, 2);
        }

        // The wake-ups land within a microsecond or two of each other: in some schedule the second finds the first
        // still pending, and the task runs its handler once for two sends.
        Assert.Contains(runs, events => events.OfType<SignalDelivered>().Count(d => d.Task.Comm == "iso") == 1);
    }

    [Fact]
    public void A_realtime_signal_sent_twice_is_queued_twice_and_its_handler_runs_twice()
    {
        var runs = DoubleReportRuns(Variant(signal: "34", handler: true));

        Assert.NotEmpty(runs);
        Assert.All(runs, events =>
        {
            Assert.Equal([34, 34], events.OfType<SignalSent>().Where(s => s.Task.Comm == "iso").Select(s => s.Signal));
            Assert.Equal(2, events.OfType<SignalDelivered>().Count(d => d.Task.Comm == "iso" && d.Signal == 34 && d.Action == SignalAction.Handler));
        });
    }

    [Fact]
    public void A_default_ignored_notification_signal_is_discarded_at_each_report_and_no_wake_up_follows()
    {
        // SET_SIG(SIGCHLD) with no handler: both senders log and clear, and send_sig_info() discards the signal each
        // time (sig_ignored()), so only the reported interrupts reach the task: no reschedule IPI for a report, nothing
        // delivered, and the task runs on, no longer isolated and never killed.
        var runs = DoubleReportRuns(Variant(signal: "SIGCHLD"));

        Assert.NotEmpty(runs);
        Assert.All(runs, events =>
        {
            Assert.Equal(2, events.OfType<SignalDiscarded>().Count(d => d.Task.Comm == "iso" && d.Signal == Signal.SIGCHLD));
            Assert.DoesNotContain(events.OfType<SignalSent>(), s => s.Task.Comm == "iso");
            Assert.Empty(events.OfType<SignalDelivered>());
            Assert.DoesNotContain(events.OfType<InterruptTaken>(), i => i.Source is RescheduleIpi { Reason: RescheduleReason.IsolationReport });
            Assert.DoesNotContain(events.OfType<TaskExited>(), x => x.Task.Comm == "iso" && x.Signal != 0);
        });
    }

    [Fact]
    public void With_task_isolation_debug_both_reports_log_their_loss_and_the_rate_limit_lets_one_debug_report_through()
    {
        var runs = DoubleReportRuns(Variant(debug: true));

        Assert.NotEmpty(runs);
        Assert.All(runs, events =>
        {
            var lines = events.OfType<KernelLogged>().ToList();
            Assert.Equal(2, lines.Count(l => l.Line.Loss is not null));

            // pr_err() "violating task isolation" and dump_stack()'s header: once a second, machine-wide.
            var err = Assert.Single(lines, l => l.Line.Level == KernelLogLevel.Err);
            Assert.Single(lines, l => l.Line.Level == KernelLogLevel.Warning && l.Line.Loss is null && l.Cpu == err.Cpu && l.Time == err.Time);
        });
    }

    /// <summary><c>r14-two-senders</c> with another notification signal (and a handler for it), or <c>task_isolation_debug</c>.</summary>
    private static Scenario Variant(string? signal = null, bool handler = false, bool debug = false)
    {
        var text = BuiltInScenarios.Text("r14-two-senders");
        if (signal is not null)
        {
            var prctl = "      - prctl: enable\n";
            var install = handler ? $"      - sigaction: {{signal: {signal}, handler: [compute: 1us]}}\n" : string.Empty;
            Assert.Contains(prctl, text, StringComparison.Ordinal);
            text = text.Replace(prctl, install + $"      - prctl: {{enable: true, signal: {signal}}}\n", StringComparison.Ordinal);
            text = text.Replace("  - killed: {task: iso, signal: SIGKILL}\n", string.Empty, StringComparison.Ordinal);
        }

        if (debug)
        {
            text = text.Replace("task_isolation=1-3\n", "task_isolation=1-3 task_isolation_debug\n", StringComparison.Ordinal);
        }

        return ScenarioLoader.Load(text, "r14-variant");
    }

    /// <summary>The events of every schedule among the first <see cref="Budget"/> that exploration finds a double report in, each run to its end.</summary>
    private List<IReadOnlyList<MachineEvent>> DoubleReportRuns(Scenario scenario)
    {
        var target = new ScenarioTarget(scenario);
        var options = new CampaignOptions { Seed = 1, MaxSteps = 100_000, Find = FindingInfo.DoubleReportKind };
        var plan = Explorer.Plan(Sys, target, options);
        var found = Explorer.RunBatch(Sys, target, plan, 0, Budget);
        var runs = new List<IReadOnlyList<MachineEvent>>();
        foreach (var group in found.Findings)
        {
            Assert.Equal(FindingInfo.DoubleReportKind, group.Reproducer.Finding.Kind);
        }

        for (var i = 0L; i < Budget; i++)
        {
            var strategy = StrategyFactory.Create(ScheduleSeeds.StrategyOf(options.Strategy, i), ScheduleSeeds.For(options.Seed, i), options.Depth, plan.PctSteps);
            var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Mode = ExecutionMode.Controlled, Strategy = strategy, MaxDeliveries = options.MaxSteps });
            if (run.Machine.DoubleReports.Count > 0)
            {
                runs.Add(run.Machine.Recorder.Events);
            }

            run.Machine.Shutdown();
        }

        Assert.Equal(found.FailingSchedules, runs.Count);
        return runs;
    }
}
