using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Exploration;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Scenarios;
using TaskIsolation.Actors.Simulation;
using TaskIsolation.Actors.Soak;

namespace TaskIsolation.Actors.Tests.Soak;

/// <summary>A controlled soak's first finding, written as a reproducer, replays to the same finding.</summary>
public sealed class SoakReproducerTests : TestKit
{
    public SoakReproducerTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Theory]
    [InlineData(5)]
    [InlineData(11)]
    public void The_first_finding_of_a_sliced_soak_replays_exactly_from_its_reproducer(int seed)
    {
        var scenario = BuiltInScenarios.Load("residual-tick");
        var settings = new SoakSettings { ForNs = 4_000_000_000, SnapshotEveryNs = 1_000_000_000, SliceNs = 250_000_000 };
        var ledger = new SoakLedger(settings);
        var m = SimulatedMachine.Boot(Sys, ScenarioRunner.Boot(scenario), ledger.Observe(ScenarioRunner.Options(scenario, new RunSettings { Seed = seed })));
        ledger.Attach(m);
        foreach (var t in ScenarioRunner.Tasks(scenario))
        {
            m.Start(new TaskSpec(t.Name, t.Affinity, t.Program, t.Policy));
        }

        var result = SoakDriver.Run(m, ledger, settings, new Discard());
        var first = Assert.IsType<FirstFinding>(result.Last.First);
        var written = new SoakReproducer(scenario, seed, () => m.Simulation.Decisions).For(first);
        var reproducer = Reproducer.Parse(written.ToJson());

        // The soak went on past it: the reproducer holds only the decisions up to the delivery that found it.
        Assert.True(m.Simulation.Decisions.Count > first.Decisions);
        Assert.Equal(first.Decisions, reproducer.DecisionList.Count);
        var replay = Replayer.Replay(Sys, reproducer, ScenarioTarget.Load);
        Assert.True(replay.Ok, replay.Message);
        Assert.Equal(first.Info.TimeNs, replay.Run!.Finding!.TimeNs);
    }

    private sealed class Discard : ISoakOutput
    {
        public void Write(SoakSnapshot snapshot)
        {
        }
    }
}
