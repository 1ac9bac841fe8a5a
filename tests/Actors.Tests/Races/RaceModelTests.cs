using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>Model fixes the races rely on: POSIX CPU timer expiry, the NMI's return to user, and friends.</summary>
public sealed class RaceModelTests : TestKit
{
    public RaceModelTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(0, true)]
    [InlineData(3, false)]
    [InlineData(3, true)]
    public void A_POSIX_CPU_timer_expires_on_the_tasks_CPU_time_and_signals_it(int cpu, bool perProcess)
    {
        var m = Boot(Sys, Controlled(1));
        m.Start(new TaskSpec("t", OnCpu(cpu), Program(new ArmPosixTimer(2_000_000, 14, perProcess), new Compute(20_000_000), new Exit(0))));
        m.RunFor(30_000_000);

        var sent = Assert.Single(m.Recorder.Events.OfType<SignalSent>());
        Assert.Equal(14, sent.Signal);
        Assert.InRange(sent.Time, 2_000_000, 2_000_000 + 4_000_000);
        var exited = m.Recorder.Events.OfType<TaskExited>().Single();
        Assert.Equal(14, exited.Signal);
        Assert.Equal(0, m.Memory.ProcessTickDeps(exited.Task.Pid) & 1);
    }

    [Fact]
    public void An_NMI_on_an_isolated_task_in_user_mode_ends_with_a_return_to_user_and_the_noise_closes_there()
    {
        var m = Boot(Sys, Controlled(1) with { Switches = new() { ResidualTick = TaskIsolation.Machine.Kernel.ResidualTick.Offloaded } });
        // Measured after the task's arrival and prctl (a warm-up of 5 ms), the NMI at 10 ms is the CPU's only noise.
        var noise = new TaskIsolation.Reports.NoiseAccountant(4, m.Options.Timings, new TaskIsolation.Reports.OsnoiseSettings { WarmUpNs = 5_000_000 });
        m.AddNmi(new TaskIsolation.Actors.Noise.NmiSpec(OnCpu(3), PeriodNs: 1_000_000_000, FirstAtNs: 10_000_000));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, 1), new Compute(20_000_000), new Exit(0))));
        m.RunFor(15_000_000);
        foreach (var e in m.Recorder.Events)
        {
            noise.Observe(e);
        }

        noise.Finish(m.Now);
        var nmi = m.Recorder.Events.OfType<InterruptTaken>().Single(i => i.Kind == InterruptKind.Nmi);
        var back = m.Recorder.Events.OfType<ReturnedToUser>().Single(r => r.Time > nmi.Time);
        Assert.Equal((3, true, nmi.Time + m.Options.Timings.NmiHandlerNs), (back.Cpu, back.Isolated, back.Time));
        var c = noise.Cpus[3];
        Assert.Equal((1L, 1L, m.Options.Timings.NmiHandlerNs), (c.Nmi, c.Noises, c.NoiseNs));
    }

    [Theory]
    [InlineData("r04-residual-tick", 1)]
    [InlineData("residual-tick", 5)]
    [InlineData("r05-tile-stale-timer", 1)]
    public void A_residual_or_stale_tick_is_rooted_at_the_tick_stop_that_left_it(string name, int violations)
    {
        // tick_nohz_stop_sched_tick() found no dependency and stopped the tick, programming the residual expiry (4.7's
        // one-second deferment) or leaving the comparator armed (tile): that stop is the root, not the task's creation
        // that an earlier periodic tick's chain went back to.
        var run = TaskIsolation.Scenarios.ScenarioRunner.Run(Sys, TaskIsolation.Scenarios.BuiltInScenarios.Load(name), new TaskIsolation.Scenarios.RunSettings { Mode = ExecutionMode.Controlled, Seed = 1 });
        var m = run.Machine;

        Assert.Equal(violations, m.Violations.Count);
        foreach (var v in m.Violations)
        {
            var stop = Assert.IsType<TickStopAttempted>(m.Recorder.RootOf(v));
            Assert.True(stop.Success);
            Assert.Equal(v.Cpu, stop.Cpu);
            Assert.True(stop.Time < v.Time);
            if (v.Kind == InterruptKind.ResidualTick)
            {
                Assert.Equal(v.Time, stop.NextEventNs);
            }

            Assert.Equal([stop.What, $"{v.Detail} taken in userisolated by {v.Task}"], v.Chain.Select(l => l.What));
            Assert.EndsWith("root: tick stop", TaskIsolation.Exploration.FindingSignature.Of(v, m), StringComparison.Ordinal);
        }

        m.Shutdown();
    }
}
