using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>R14 (docs/races.md): two CPUs interrupt the isolated task at once; whichever lands first, one signal.</summary>
public sealed partial class RaceLibraryTests
{
    [Fact]
    public void R14_exploration_sees_both_orders_and_always_exactly_one_signal()
    {
        // The campaign's first schedules, each run to the end (exploration itself stops a schedule at its first
        // violation, before the second IPI and the signal): the first violation is the irq_work kick in some, the
        // TLB shootdown in others, and every one of them ends with exactly one SIGKILL and one "lost" line.
        var scenario = BuiltInScenarios.Load("r14-two-senders");
        var options = new CampaignOptions { Seed = 1, MaxSteps = 100_000 };
        var plan = Explorer.Plan(Sys, new ScenarioTarget(scenario), options);
        var firsts = new HashSet<InterruptKind>();
        for (var i = 0L; i < FindBudget; i++)
        {
            var strategy = StrategyFactory.Create(ScheduleSeeds.StrategyOf(options.Strategy, i), ScheduleSeeds.For(options.Seed, i), options.Depth, plan.PctSteps);
            var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Mode = ExecutionMode.Controlled, Strategy = strategy, MaxDeliveries = options.MaxSteps });
            var m = run.Machine;
            var events = m.Recorder.Events;

            var signal = Assert.Single(events.OfType<SignalSent>(), s => s.Task.Comm == "iso");
            Assert.Equal((Signal.SIGKILL, SignalOrigin.TaskIsolation), (signal.Signal, signal.Reason.Origin));
            Assert.Single(events.OfType<KernelLogged>(), l => l.Text.StartsWith("iso/101: task_isolation mode lost due to ", StringComparison.Ordinal));
            Assert.Equal(Signal.SIGKILL, events.OfType<TaskExited>().Single(e => e.Task.Comm == "iso").Signal);

            // Both IPIs were on their way to CPU 3 before the signal: the second one finds the flags already clear.
            var sent = events.OfType<InterruptSent>()
                .Where(x => x.TargetCpu == 3 && x.Time < signal.Time && x.Kind is InterruptKind.IrqWork or InterruptKind.CallFunctionIpi)
                .Select(x => (x.Cpu, x.Kind)).Distinct().OrderBy(x => x.Cpu).ToList();
            Assert.Equal([(0, InterruptKind.CallFunctionIpi), (2, InterruptKind.IrqWork)], sent);

            var v = m.Violations[0];
            Assert.Equal(3, v.Cpu);
            Assert.Equal(v.Kind == InterruptKind.IrqWork ? "task hk2/102 on cpu 2: timer_settime(1s)" : "task sibling/103 on cpu 0: munmap", v.Chain[0].What);
            firsts.Add(v.Kind);
            Assert.True(run.AllHeld, $"schedule {i}: " + string.Join("\n", run.Expectations.Where(r => !r.Held).Select(r => $"{r.Text}: {r.Detail}")));
            m.Shutdown();
        }

        Assert.True(firsts.SetEquals([InterruptKind.IrqWork, InterruptKind.CallFunctionIpi]), $"first violations seen: {string.Join(", ", firsts)}");
    }
}
