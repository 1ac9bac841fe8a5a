using TaskIsolation.Actors.Tests.Scenarios;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>
/// R1 under v13 and its <c>bounded_wait</c> mitigation (docs/races.md): the return-to-user loop spins while a tick
/// dependency holds; with the switch it gives up after the bound, as v16 does at once.
/// </summary>
public sealed partial class RaceLibraryTests
{
    [Fact]
    public void R1_without_the_bounded_wait_exploration_finds_the_stuck_return()
    {
        var target = new ScenarioTarget(BuiltInScenarios.Load("r01-tick-dependency-loop"));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 1, MaxSteps = 100_000, Until = UntilMode.First });

        var result = Explorer.RunBatch(Sys, target, plan, 0, FindBudget);

        var finding = Assert.Single(result.Findings).Reproducer.Finding;
        Assert.Equal(("liveness", (string?)null, 3), (finding.Kind, finding.Interrupt, finding.Cpu));
        Assert.Equal("task iso/101 on cpu 3: prctl(48, 0x3)", finding.Root);
        Assert.Equal("iso/101", finding.Task);
    }

    [Fact]
    public void R1_with_the_bounded_wait_exploration_finds_nothing()
    {
        var target = new ScenarioTarget(BuiltInScenarios.Load("r01-tick-dependency-loop-bounded"));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 1, MaxSteps = 100_000 });

        var result = Explorer.RunBatch(Sys, target, plan, 0, CleanBudget);

        Assert.True(result.Findings.Count == 0, string.Join("; ", result.Findings.Select(f => $"schedule {f.FirstSchedule}: {f.Signature}")));
        Assert.Equal(CleanBudget, result.Schedules);
    }

    [Fact]
    public void R1_bounded_wait_on_a_return_that_is_not_the_prctl_drops_isolation_with_the_log_line()
    {
        // NOSIG iso is isolated, then arms a POSIX CPU timer on itself: the POSIX_TIMER dependency restarts the tick
        // and the timer_settime's return to user space cannot stop it. After the bound the task goes back without
        // isolation, told by the log line only (NOSIG: no signal).
        const string Yaml = """
            name: r01-bounded-wait-later-return
            cpus: 4
            cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
            model: {residual_tick: offloaded, bounded_wait: 2ms}
            duration: 30ms
            tasks:
              - name: iso
                cpus: 3
                program:
                  - prctl: nosig
                  - compute: 2ms
                  - posix_timer: {expires: 1s}
                  - compute: 1ms
                  - exit: 0
            expectations:
              - prctl: {task: iso, returns: 0}
              - dmesg: "iso/101: task_isolation mode lost due to return to user blocked by tick"
              - signals: {task: iso, count: 0}
              - exited: {task: iso, code: 0}
              - no_liveness_failures
            """;

        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(Yaml, "test"), new RunSettings { Mode = ExecutionMode.Controlled, Seed = 1 });

        ExpectationAssert.AllHeld(run);
        var began = run.Machine.Recorder.Events.OfType<ReturnToUserBegan>().Last(b => b.Task.Comm == "iso");
        var returned = run.Machine.Recorder.Events.OfType<ReturnedToUser>().First(r => r.Task.Comm == "iso" && r.Time > began.Time);
        Assert.False(returned.Isolated);
        Assert.InRange(returned.Time - began.Time, 2_000_000, 3_000_000);
    }

    [Fact]
    public void R1_bounded_wait_survives_the_canonical_text_and_is_absent_when_off()
    {
        var bounded = BuiltInScenarios.Load("r01-tick-dependency-loop-bounded");
        var text = ScenarioWriter.Write(bounded);

        Assert.Contains("bounded_wait: 10ms", text, StringComparison.Ordinal);
        Assert.Equal(10_000_000, ScenarioLoader.Load(text).Model.Switches.BoundedWaitNs);
        Assert.DoesNotContain("bounded_wait", ScenarioWriter.Write(BuiltInScenarios.Load("r01-tick-dependency-loop")), StringComparison.Ordinal);
    }
}
