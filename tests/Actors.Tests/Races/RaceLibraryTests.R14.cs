using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>
/// R14 (docs/races.md): two CPUs interrupt the isolated task at once. Each sender's <c>task_isolation_debug_task()</c>
/// tests the flags and then delivers with no lock between: usually the second finds the flags clear (one report), and
/// when both test before either clears, both report (a double report), which exploration finds.
/// </summary>
public sealed partial class RaceLibraryTests
{
    private const string R14 = "r14-two-senders";

    [Fact]
    public void R14_exploration_finds_the_double_report_and_the_single_report_stays_the_common_outcome()
    {
        var target = new ScenarioTarget(BuiltInScenarios.Load(R14));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 1, MaxSteps = 100_000, Find = FindingInfo.DoubleReportKind });

        var result = Explorer.RunBatch(Sys, target, plan, 0, 2 * FindBudget);

        var group = Assert.Single(result.Findings);
        var finding = group.Reproducer.Finding;
        Assert.Equal((FindingInfo.DoubleReportKind, 3, "iso/101"), (finding.Kind, finding.Cpu, finding.Task));
        Assert.Equal("double-report on a nohz_full+isolcpus+task_isolation cpu; roots: task step munmap and task step timer_settime", finding.Signature);
        Assert.InRange(result.FailingSchedules, 1, FindBudget - 1);

        // Its reproducer replays to the same double report.
        var replay = ScheduleRunner.Run(Sys, target, new ReplayStrategy(group.Reproducer.DecisionList), group.Reproducer.Run.MaxSteps, group.Reproducer.Run.FindingsBefore);
        Assert.Equal(finding, replay.Finding);
    }

    [Fact]
    public void R14_each_schedule_reports_once_or_twice_with_as_many_lines_and_signals_and_one_delivery()
    {
        // The campaign's first schedules, each run to the end: the first violation is the irq_work kick in some, the TLB
        // shootdown in others; a schedule whose two tests fell between each other's test and clear reports twice.
        var scenario = BuiltInScenarios.Load(R14);
        var options = new CampaignOptions { Seed = 1, MaxSteps = 100_000 };
        var plan = Explorer.Plan(Sys, new ScenarioTarget(scenario), options);
        var firsts = new HashSet<InterruptKind>();
        var reportCounts = new List<int>();
        for (var i = 0L; i < 2 * FindBudget; i++)
        {
            var strategy = StrategyFactory.Create(ScheduleSeeds.StrategyOf(options.Strategy, i), ScheduleSeeds.For(options.Seed, i), options.Depth, plan.PctSteps);
            var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Mode = ExecutionMode.Controlled, Strategy = strategy, MaxDeliveries = options.MaxSteps });
            var m = run.Machine;
            var events = m.Recorder.Events;

            var reports = events.OfType<KernelLogged>().Where(l => l.Line.Loss?.Task.Pid == 101).ToList();
            var signals = events.OfType<SignalSent>().Where(s => s.Task.Comm == "iso").ToList();
            Assert.InRange(reports.Count, 1, 2);
            Assert.Equal(reports.Count, signals.Count);
            Assert.All(signals, s => Assert.Equal((Signal.SIGKILL, SignalOrigin.TaskIsolation), (s.Signal, s.Reason.Origin)));
            Assert.Equal(reports.Count - 1, m.DoubleReports.Count);

            // A report is printed by the CPU that sent the interrupt (task_isolation_debug_task() runs on the sender).
            Assert.All(reports, r => Assert.Contains(r.Cpu, new[] { 0, 2 }));
            if (reports.Count == 2)
            {
                Assert.NotEqual(reports[0].Cpu, reports[1].Cpu);
                Assert.Equal(reports[0].Time, reports[1].Time);
            }

            // The second SIGKILL finds the first still pending and merges into it: one delivery, one death.
            Assert.Single(events.OfType<SignalDelivered>(), d => d.Task.Comm == "iso");
            Assert.Equal(Signal.SIGKILL, events.OfType<TaskExited>().Single(e => e.Task.Comm == "iso").Signal);

            var v = m.Violations[0];
            Assert.Equal(3, v.Cpu);
            Assert.Equal(v.Kind == InterruptKind.IrqWork ? "task hk2/102 on cpu 2: timer_settime(1s)" : "task sibling/103 on cpu 0: munmap", v.Chain[0].What);
            firsts.Add(v.Kind);
            reportCounts.Add(reports.Count);
            Assert.True(run.AllHeld, $"schedule {i}: " + string.Join("\n", run.Expectations.Where(r => !r.Held).Select(r => $"{r.Text}: {r.Detail}")));
            m.Shutdown();
        }

        Assert.True(firsts.SetEquals([InterruptKind.IrqWork, InterruptKind.CallFunctionIpi]), $"first violations seen: {string.Join(", ", firsts)}");
        Assert.Contains(2, reportCounts);
        Assert.True(reportCounts.Count(c => c == 1) > reportCounts.Count(c => c == 2), $"reports per schedule: {string.Join(" ", reportCounts)}");
    }

    [Fact]
    public void R14_under_v16_one_sender_wins_the_cmpxchg_and_exploration_finds_no_double_report()
    {
        var target = new ScenarioTarget(BuiltInScenarios.Load(R14 + "-v16"));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 1, MaxSteps = 100_000, Find = FindingInfo.DoubleReportKind });

        var result = Explorer.RunBatch(Sys, target, plan, 0, CleanBudget);

        Assert.True(result.Findings.Count == 0, string.Join("; ", result.Findings.Select(f => $"schedule {f.FirstSchedule}: {f.Signature}")));
        Assert.Equal(CleanBudget, result.Schedules);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void R14_in_concurrent_mode_each_report_is_one_line_and_one_signal_and_a_second_is_a_double_report(int seed)
    {
        // The thread pool interleaves the two senders' test and delivery steps as it will: whatever it did, the counts agree.
        var run = ScenarioRunner.Run(Sys, BuiltInScenarios.Load(R14), new RunSettings { Mode = ExecutionMode.Concurrent, Seed = seed });
        var events = run.Machine.Recorder.Events;

        var reports = events.OfType<KernelLogged>().Count(l => l.Line.Loss?.Task.Pid == 101);
        Assert.InRange(reports, 1, 2);
        Assert.Equal(reports, events.OfType<SignalSent>().Count(s => s.Task.Comm == "iso"));
        Assert.Equal(reports - 1, run.Machine.DoubleReports.Count);
        Assert.True(run.AllHeld, string.Join("\n", run.Expectations.Where(r => !r.Held).Select(r => $"{r.Text}: {r.Detail}")));
    }
}
