using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>
/// R8 (docs/races.md): the sender of an IPI decides from a racy read of the target's context whether to report a
/// break. It has no mitigation, so instead of a twin the tests show exploration reaching both wrong answers.
/// </summary>
public sealed partial class RaceLibraryTests
{
    private const string R8 = "r08-racy-user-mode-check";

    [Fact]
    public void R8_exploration_finds_a_violation_its_sender_did_not_report()
    {
        var target = new ScenarioTarget(BuiltInScenarios.Load(R8));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 1, MaxSteps = 100_000, Until = UntilMode.First });

        var result = Explorer.RunBatch(Sys, target, plan, 0, FindBudget);

        var group = Assert.Single(result.Findings);
        var finding = group.Reproducer.Finding;
        Assert.Equal(("violation", "CallFunctionIpi", 3), (finding.Kind, finding.Interrupt, finding.Cpu));
        Assert.Equal("task sibling/102 on cpu 0: munmap", finding.Root);
        Assert.StartsWith("iso/", finding.Task, StringComparison.Ordinal);

        // The same schedule run past the finding: the shootdown that hit iso in user mode was never reported.
        var reports = ReportsOf(target, plan, group.FirstSchedule);
        var hit = Assert.Single(reports, r => r.TakenAt == finding.TimeNs);
        Assert.True(hit.InUser);
        Assert.False(hit.Reported, "the sender read CPU 3 in user mode: a correct report, not R8's missed one");
    }

    [Fact]
    public void R8_across_schedules_the_check_both_misses_breaks_and_reports_false_ones()
    {
        var target = new ScenarioTarget(BuiltInScenarios.Load(R8));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 1, MaxSteps = 100_000 });

        var outcomes = Enumerable.Range(0, (int)FindBudget).Select(i => ReportsOf(target, plan, i)).ToList();

        // Missed: the IPI landed in user mode, the sender had read "kernel". Spurious: the other way round.
        Assert.Contains(outcomes, rs => rs.Any(r => r.InUser && !r.Reported));
        Assert.Contains(outcomes, rs => rs.Any(r => !r.InUser && r.Reported));

        // Every report kills iso, so a schedule carries at most one: the race decides which one.
        Assert.All(outcomes, rs => Assert.InRange(rs.Count(r => r.Reported), 0, 1));
    }

    /// <summary>
    /// Runs schedule <paramref name="index"/> of the campaign to its end (exploration stops at the first finding) and
    /// pairs each TLB shootdown sent to CPU 3 with where it landed and whether its sender reported it.
    /// </summary>
    private List<ShootdownReport> ReportsOf(ScenarioTarget target, CampaignPlan plan, long index)
    {
        var o = plan.Options;
        var strategy = StrategyFactory.Create(ScheduleSeeds.StrategyOf(o.Strategy, index), ScheduleSeeds.For(o.Seed, index), o.Depth, plan.PctSteps);
        var machine = target.Run(Sys, strategy, o.MaxSteps, _ => false);
        try
        {
            var events = machine.Recorder.Events;
            var sent = events.OfType<InterruptSent>().Where(s => s.TargetCpu == 3 && s.Kind == InterruptKind.CallFunctionIpi).Select(s => s.Id).ToHashSet();

            // The sender's report is its "lost due to" line, logged with the IPI's send as its cause.
            var reported = events.OfType<KernelLogged>()
                .Where(l => l.Line.Loss is not null && sent.Contains(l.Cause))
                .Select(l => l.Cause).ToHashSet();
            return [.. events.OfType<InterruptTaken>()
                .Where(t => t.Cpu == 3 && t.Kind == InterruptKind.CallFunctionIpi && sent.Contains(t.Cause) && t.Current is { Comm: "iso" })
                .Select(t => new ShootdownReport(t.Time, t.State == CpuState.UserIsolated, reported.Contains(t.Cause)))];
        }
        finally
        {
            machine.Shutdown();
        }
    }

    private sealed record ShootdownReport(long TakenAt, bool InUser, bool Reported);
}
