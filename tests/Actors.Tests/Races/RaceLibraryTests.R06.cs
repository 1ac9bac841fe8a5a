using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>R6 (docs/races.md): the vmstat shepherd's unlocked read races the isolated CPU's fold and cancel.</summary>
public sealed partial class RaceLibraryTests
{
    [Fact]
    public void R6_the_shepherds_kworker_lands_in_user_space_in_some_schedules_and_makes_ready_fail_in_others()
    {
        // The campaign's first schedules run to the end. In every one the shepherd queued vmstat_update on CPU 3 on
        // diffs that iso's write dirtied; where its wake-up landed is the race: in user space (6a, a violation) or
        // in the kernel before task_isolation_ready() (6b: the kworker runs there, the loop goes round again and iso
        // still reaches user space).
        var scenario = BuiltInScenarios.Load("r06-vmstat-rearmed");
        var options = new CampaignOptions { Seed = 1, MaxSteps = 100_000 };
        var plan = Explorer.Plan(Sys, new ScenarioTarget(scenario), options);
        int violations = 0, readyFailed = 0;
        for (var i = 0L; i < FindBudget; i++)
        {
            var strategy = StrategyFactory.Create(ScheduleSeeds.StrategyOf(options.Strategy, i), ScheduleSeeds.For(options.Seed, i), options.Depth, plan.PctSteps);
            var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Mode = ExecutionMode.Controlled, Strategy = strategy, MaxDeliveries = options.MaxSteps });
            var events = run.Machine.Recorder.Events;

            var sent = Assert.Single(events.OfType<InterruptSent>(), x => x.Kind == InterruptKind.VmstatWork);
            Assert.Equal((0, 3), (sent.Cpu, sent.TargetCpu));
            var taken = Assert.Single(events.OfType<InterruptTaken>(), x => x.Kind == InterruptKind.VmstatWork);
            var work = Assert.Single(events.OfType<WorkExecuted>(), w => w.Function == WorkFunction.VmstatUpdate);
            Assert.Equal(3, work.Cpu);
            if (run.Machine.Violations.Count > 0)
            {
                violations++;
                var v = Assert.Single(run.Machine.Violations);
                Assert.Equal((InterruptKind.VmstatWork, 3), (v.Kind, v.Cpu));
                Assert.Equal("task iso/101 on cpu 3: write", v.Chain[0].What);
            }
            else
            {
                readyFailed++;
                Assert.NotEqual(CpuState.UserIsolated, taken.State);
                Assert.Contains(events.OfType<ReturnedToUser>(), r => r.Task.Comm == "iso" && r.Time > work.Time);
            }

            run.Machine.Shutdown();
        }

        Assert.True(violations > 0 && readyFailed > 0, $"6a in {violations}, 6b in {readyFailed} of {FindBudget} schedules");
    }
}
