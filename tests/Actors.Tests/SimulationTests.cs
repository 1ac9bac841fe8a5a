using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
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
    public void The_decision_log_keeps_every_decision_across_its_chunks()
    {
        // Past the first chunk's growth and across three 64 Ki chunks, with the largest values a decision can hold.
        var log = new DecisionLog();
        var expected = new List<Decision>();
        for (var i = 0; i < 150_000; i++)
        {
            var d = i % 7 == 0
                ? new Decision(DecisionKind.Choice, int.MaxValue - 1, int.MaxValue)
                : new Decision(i % 2 == 0 ? DecisionKind.Schedule : DecisionKind.Choice, i % 1_000, 1_000 + (i % 3));
            log.Add(d.Kind, d.Chosen, d.Of);
            expected.Add(d);
        }

        Assert.Equal(expected.Count, log.Count);
        Assert.Equal(expected[0], log[0]);
        Assert.Equal(expected[65_536], log[65_536]);
        Assert.Equal(expected, log);
        Assert.Throws<ArgumentOutOfRangeException>(() => log[150_000]);
    }

    [Fact]
    public void Forgetting_decisions_keeps_the_rest_and_digests_the_forgotten_across_chunks()
    {
        var log = new DecisionLog();
        var all = new List<Decision>();
        for (var i = 0; i < 200_000; i++)
        {
            var d = new Decision(i % 3 == 0 ? DecisionKind.Choice : DecisionKind.Schedule, i % 977, 977 + (i % 5));
            log.Add(d);
            all.Add(d);
            if (i is 70_000 or 140_000)
            {
                // Forget in the middle of a chunk, then past two chunk boundaries; forgetting again is a no-op.
                log.ForgetBefore(i == 70_000 ? 35_000 : 130_000);
                log.ForgetBefore(log.Start - 1);
            }
        }

        log.ForgetBefore(131_072);
        Assert.Equal(200_000, log.Total);
        Assert.Equal(131_072, log.Start);
        Assert.Equal(all.Skip(131_072), log);
        Assert.Equal(all.Skip(150_000).Take(10), log.Range(150_000, 150_010));
        var digest = DecisionDigest.Empty;
        foreach (var d in all.Take(131_072))
        {
            digest.Add(d);
        }

        Assert.Equal(digest, log.StartDigest);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Range(131_071, 131_073));

        // Everything forgotten, then the log grows again from nothing.
        log.ForgetBefore(log.Total);
        Assert.Empty(log);
        log.Add(DecisionKind.Choice, 4, 5);
        Assert.Equal(new Decision(DecisionKind.Choice, 4, 5), log[0]);
        Assert.Equal(200_001, log.Total);
    }

    [Fact]
    public void A_controlled_run_stops_at_the_delivery_bound()
    {
        var m = Boot(Sys, Controlled(2));
        m.Simulation.MaxDeliveries = 50;
        m.Start(new TaskSpec("busy", OnCpu(1), Program(new Loop(-1, [new Syscall("getpid", WorkNs: 1_000)]))));
        Assert.Equal(RunOutcome.StepLimit, m.RunFor(1_000_000_000));
        Assert.Equal(50, m.Simulation.Deliveries);
    }

    [Fact]
    public void Superseded_steps_are_cancelled_not_delivered_and_deliveries_are_counted_by_type()
    {
        // A long user compute interrupted by every tick: each interrupt supersedes the pending end of the compute.
        // (A compute loop that never ends has no end to supersede: the task hands it over as one endless stretch.)
        var m = Boot(Sys, Controlled(2));
        m.Simulation.CountByType = true;
        m.Start(new TaskSpec("busy", OnCpu(0), Program(new Compute(1_000_000_000), new Syscall("getpid"), new Compute(1_000_000_000))));
        m.RunFor(1_500_000_000);

        // The first compute's thousand-odd superseded ends were all due around 1 s: withdrawn, not delivered.
        Assert.InRange(m.Simulation.Cancelled, 900, 1_600);
        var byType = m.Simulation.DeliveriesByType;
        Assert.Equal(m.Simulation.Deliveries, byType.Values.Sum());
        Assert.InRange(byType["Irq"], 1_450, 1_550);
        Assert.True(byType["StepDone"] < 2 * byType["Irq"], "one handler end per tick, and few others");
    }

    [Fact]
    public void Concurrent_mode_counts_its_deliveries()
    {
        var m = Boot(Sys, Concurrent(2));
        m.Start(new TaskSpec("busy", OnCpu(0), Program(new Loop(-1, [new Compute(1_000_000_000)]))));
        m.RunFor(10_000_000);

        Assert.InRange(m.Simulation.Deliveries, 20, 1_000);
    }
}
