using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Events;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Simulation;
using TaskIsolation.Actors.Task;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests;

public sealed class SmokeTests : TestKit
{
    public SmokeTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Fact]
    public void Syscall_while_isolated_kills_with_SIGKILL()
    {
        var m = Boot(Sys, Controlled());
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(48, 1), new Compute(1_000_000), new Syscall("write"), new Compute(1_000_000))));
        m.RunFor(50_000_000);
        
        var exit = m.Recorder.Events.OfType<TaskExited>().Single();
        Assert.Equal(9, exit.Signal);
    }
}
