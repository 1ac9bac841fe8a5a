using Akka.Actor;
using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Noise;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests;

/// <summary>
/// Step boundaries the simulation may drop (<see cref="Simulation.Simulation.SendBoundaryAfter"/>), ends ordered as of
/// a later time (<see cref="Simulation.Simulation.SendAfterAsOf"/>), and the CPU's exit loop whose pass and final
/// check are timed as one step: the same run as with every boundary delivered, in fewer deliveries.
/// </summary>
public sealed class StepBoundaryTests : TestKit
{
    public StepBoundaryTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Fact]
    public void A_boundary_alone_at_its_instant_is_dropped_and_one_that_is_not_is_delivered()
    {
        var (sim, log, a, _) = TwoReceivers();
        sim.SendBoundaryAfter(10, a, new Mark(1), ActorRefs.Nobody);
        sim.SendBoundaryAfter(20, a, new Mark(2), ActorRefs.Nobody);
        sim.SendAfter(20, a, new Mark(3), ActorRefs.Nobody);
        var firmed = sim.SendBoundaryAfter(30, a, new Mark(4), ActorRefs.Nobody);
        sim.Firm(firmed);
        var outcome = sim.RunUntil(100);

        Assert.Equal((RunOutcome.Idle, 1L, 3L, 100L), (outcome, sim.Elided, sim.Deliveries, sim.Now));
        AwaitAssert(() => Assert.Equal(["a 2", "a 3", "a 4"], log.Order()));
    }

    [Fact]
    public void With_elision_off_every_boundary_is_delivered()
    {
        var (sim, log, a, _) = TwoReceivers();
        sim.ElideBoundaries = false;
        sim.SendBoundaryAfter(10, a, new Mark(1), ActorRefs.Nobody);
        sim.RunUntil(100);

        Assert.Equal((0L, 1L), (sim.Elided, sim.Deliveries));
        AwaitAssert(() => Assert.Equal(["a 1"], log.Order()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void Folding_the_exit_loop_check_changes_no_event_and_no_decision(int seed)
    {
        var (folded, foldedDeliveries, foldedDecisions, elided) = BusyRun(seed, elide: true);
        var (plain, plainDeliveries, plainDecisions, _) = BusyRun(seed, elide: false);

        Assert.Equal(plain, folded);
        Assert.Equal(plainDecisions, foldedDecisions);
        Assert.True(elided > 100, $"only {elided} boundaries elided");
        Assert.Equal(plainDeliveries - elided, foldedDeliveries);
    }

    /// <summary>
    /// A housekeeping CPU whose system calls return through the exit loop while a device interrupt lands at random
    /// points of it, next to an isolated poller: events as text, deliveries, decisions, boundaries elided.
    /// </summary>
    private (List<string> Events, long Deliveries, string Decisions, long Elided) BusyRun(int seed, bool elide)
    {
        var m = Boot(Sys, Controlled(seed));
        m.Simulation.ElideBoundaries = elide;
        m.AddDeviceIrq(new DeviceIrqSpec(24, "eth0", OnCpu(0), PeriodNs: 100_271, FirstAtNs: 0));
        m.AddDeviceIrq(new DeviceIrqSpec(25, "eth1", OnCpu(0), PeriodNs: 1_000_000, FirstAtNs: 1_000_000));
        m.Start(new TaskSpec("hk", OnCpu(0), Program(new Loop(-1, [new Compute(3_100), new Syscall("write"), new Syscall("getpid"), new Mmap(4096)]))));
        m.Start(new TaskSpec("dpdk", OnCpu(3), Program(new Prctl(TaskIsolation.Machine.Abi.PrctlOptions.SetTaskIsolation, NoSig), new Loop(-1, [new Compute(1_000_000)]))));
        m.RunFor(30_000_000);
        var events = m.Recorder.Events.Select(e => e.ToString()).ToList();
        var decisions = string.Join(' ', m.Simulation.Decisions);
        m.Shutdown();
        return (events, m.Simulation.Deliveries, decisions, m.Simulation.Elided);
    }

    private (Simulation.Simulation Sim, DeliveryLog Log, IActorRef A, IActorRef B) TwoReceivers()
    {
        var sim = Simulation.Simulation.Create(ExecutionMode.Controlled, new RandomStrategy(3));
        var log = new DeliveryLog();
        var a = Sys.ActorOf(Props.Create(() => new Receiver(sim, log)).WithDispatcher(sim.Dispatcher), "a");
        return (sim, log, a, ActorRefs.Nobody);
    }

    internal sealed record Mark(int N) : IMachineMessage
    {
        public long Cause => 0;
    }

    internal sealed class DeliveryLog
    {
        private readonly List<string> _lines = [];

        public void Add(string line)
        {
            lock (_lines)
            {
                _lines.Add(line);
            }
        }

        public List<string> Order()
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    internal sealed class Receiver(Simulation.Simulation sim, DeliveryLog log) : SimActor(sim)
    {
        protected override void OnReceive(object message)
        {
            if (message is Mark mark)
            {
                log.Add($"{Self.Path.Name} {mark.N}");
            }
        }
    }
}
