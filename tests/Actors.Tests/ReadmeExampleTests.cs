using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Tests.Scenarios;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests;

/// <summary>
/// The race regression test README.md shows, kept true: if this changes, change the README with it. Only the path is
/// resolved from the repository root, since tests do not run there.
/// </summary>
public sealed class TlbShootdownTests : TestKit
{
    public TlbShootdownTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Fact]
    public void Sibling_munmap_shoots_down_the_isolated_cpu_on_x86_64()
    {
        var scenario = ScenarioLoader.LoadFile(Path.Combine(ScenarioFiles.RepositoryRoot, "scenarios/tlb-shootdown.yaml"));
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe, typeof(ViolationDetected));

        var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Seed = 1 });

        var v = probe.ExpectMsg<ViolationDetected>();
        Assert.Equal(InterruptKind.CallFunctionIpi, v.Kind);
        Assert.Equal(3, v.Cpu);
        Assert.Equal("task sibling/102 on cpu 0: munmap", v.Chain[0].What);
        Assert.True(run.AllHeld);
    }
}
