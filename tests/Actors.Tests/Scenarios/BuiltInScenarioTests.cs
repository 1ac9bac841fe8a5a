using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using Xunit.Abstractions;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>The built-in scenarios: listed with a summary, the default as documented. That each holds its expectations for
/// every seed is <see cref="EverySeedTests"/>.</summary>
public sealed class BuiltInScenarioTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public BuiltInScenarioTests(ITestOutputHelper output)
        : base(SimulationConfig.Hocon, output: output)
    {
        _output = output;
    }

    [Fact]
    public void The_default_is_listed_first_with_a_summary()
    {
        Assert.Equal(BuiltInScenarios.DefaultName, BuiltInScenarios.All[0].Name);
        Assert.All(BuiltInScenarios.All, s => Assert.False(string.IsNullOrWhiteSpace(s.Summary)));
        Assert.DoesNotContain(BuiltInScenarios.All, s => s.Summary.StartsWith("(invalid", StringComparison.Ordinal));
    }

    [Fact]
    public void The_default_holds_in_concurrent_mode_too()
    {
        var run = ScenarioRunner.Run(Sys, BuiltInScenarios.Load(BuiltInScenarios.DefaultName), new RunSettings { Mode = ExecutionMode.Concurrent, Seed = 3 });

        ExpectationAssert.AllHeld(run, _output);
        Assert.Equal(10_000_000_000, run.SimulatedNs);
    }

    [Fact]
    public void The_default_isolates_the_poller_on_cpu_3_and_keeps_cpu_0_busy()
    {
        var run = ScenarioRunner.Run(Sys, BuiltInScenarios.Load(BuiltInScenarios.DefaultName));
        var events = run.Machine.Recorder.Events;

        Assert.Contains(events.OfType<ReturnedToUser>(), r => r.Task.Comm == "dpdk" && r.Isolated && r.Cpu == 3);
        Assert.Contains(events.OfType<OperationStarted>(), o => o.Cpu == 0 && o.Operation == "munmap");
        Assert.Contains(events.OfType<InterruptTaken>(), i => i.Cpu == 0);
        Assert.DoesNotContain(events.OfType<TaskExited>(), x => x.Task.Comm == "dpdk");
    }
}
