using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests.Model;

/// <summary>
/// A task hands its CPU consecutive computes (loops of them included) as one stretch of user work: fewer messages,
/// same virtual time. Interrupts stretch the stretch exactly as they stretched each step.
/// </summary>
public sealed class ComputeBatchTests() : TestKit(SimulationConfig.Hocon)
{
    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_loop_of_computes_ends_when_its_steps_would_have_ended_with_every_tick_added(ExecutionMode mode)
    {
        // CPU 0 keeps its tick (not nohz_full): each tick taken in the loop costs exactly one tick handler.
        var m = Boot(Sys, new MachineOptions { Mode = mode, Seed = 3 });
        m.Start(new TaskSpec("spin", OnCpu(0), Program(
            new Compute(250_000),
            new Loop(3, [new Compute(1_000_000), new Loop(2, [new Compute(500_000)])]),
            new Syscall("getpid"),
            new Loop(2, [new Compute(700_000)]),
            new Exit(0))));
        m.RunFor(20_000_000);

        var ops = m.Recorder.Events.OfType<OperationStarted>().Where(o => o.Task.Comm == "spin").ToList();
        Assert.Equal(["compute 6.25ms", "getpid", "compute 1.4ms", "exit_group(0)"], ops.Select(o => o.Operation));

        // From the first compute's start to getpid: 6.25 ms of user work plus one tick handler per tick taken there.
        var ticks = m.Recorder.Events.OfType<InterruptTaken>().Count(t => t.Cpu == 0 && t.Time >= ops[0].Time && t.Time < ops[1].Time);
        Assert.InRange(ticks, 6, 7);
        Assert.Equal(6_250_000 + (ticks * m.Options.Timings.TickHandlerNs), ops[1].Time - ops[0].Time);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_poller_that_computes_forever_is_asked_once_and_is_stretched_by_ticks(ExecutionMode mode)
    {
        var m = Boot(Sys, new MachineOptions { Mode = mode, Seed = 5 });
        m.Start(new TaskSpec("poll", OnCpu(0), Program(new Syscall("getpid"), new Loop(-1, [new Loop(4, [new Compute(1_000_000)])]))));
        m.RunFor(50_000_000);

        var ops = m.Recorder.Events.OfType<OperationStarted>().Where(o => o.Task.Comm == "poll").Select(o => o.Operation);
        Assert.Equal(["getpid", "compute forever"], ops);
        Assert.InRange(m.Recorder.Events.OfType<InterruptTaken>().Count(t => t.Cpu == 0 && t.Current?.Comm == "poll"), 45, 51);
    }

    [Fact]
    public void A_loop_that_enters_the_kernel_is_still_asked_at_each_kernel_step()
    {
        var m = Boot(Sys, Controlled(2));
        m.Start(new TaskSpec("mixed", OnCpu(1), Program(new Loop(3, [new Compute(100_000), new Compute(200_000), new Syscall("getpid")]), new Exit(0))));
        m.RunFor(10_000_000);

        var ops = m.Recorder.Events.OfType<OperationStarted>().Where(o => o.Task.Comm == "mixed").Select(o => o.Operation);
        Assert.Equal(["compute 300us", "getpid", "compute 300us", "getpid", "compute 300us", "getpid", "exit_group(0)"], ops);
    }
}
