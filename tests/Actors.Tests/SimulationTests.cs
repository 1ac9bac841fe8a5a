using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Simulation;
using TaskIsolation.Actors.Task;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests;

public sealed class SimulationTests : TestKit
{
    public SimulationTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Theory]
    [InlineData("s0/2", DecisionKind.Schedule, 0, 2)]
    [InlineData("c3/4", DecisionKind.Choice, 3, 4)]
    public void Decision_text_round_trips(string text, DecisionKind kind, int chosen, int of)
    {
        var d = Decision.Parse(text);
        Assert.Equal(new Decision(kind, chosen, of), d);
        Assert.Equal(text, d.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("x1/2")]
    [InlineData("s2/2")]
    [InlineData("s-1/2")]
    [InlineData("s1")]
    public void Malformed_decisions_are_rejected(string text) =>
        Assert.Throws<FormatException>(() => Decision.Parse(text));

    [Fact]
    public void A_controlled_run_stops_at_the_delivery_bound()
    {
        var m = Boot(Sys, Controlled(2));
        m.Simulation.MaxDeliveries = 50;
        m.Start(new TaskSpec("busy", OnCpu(1), Program(new Loop(-1, [new Syscall("getpid", WorkNs: 1_000)]))));
        Assert.Equal(RunOutcome.StepLimit, m.RunFor(1_000_000_000));
        Assert.Equal(50, m.Simulation.Deliveries);
    }
}
