using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using Xunit.Abstractions;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// The races v16 claims to fix (docs/model.md §9 R1, R2, R13) as built-in twins: <c>rN-*</c> under v13 and <c>rN-*-v16</c>
/// with the same workload under v16, each running with all its expectations holding in both execution modes.
/// </summary>
public sealed class VariantTwinScenarioTests : TestKit
{
    private static readonly string[] Twins = ["r01-tick-dependency-loop", "r02-stale-tick-snapshot", "r13-affinity-change"];
    private readonly ITestOutputHelper _output;

    public VariantTwinScenarioTests(ITestOutputHelper output)
        : base(SimulationConfig.Hocon, output: output)
    {
        _output = output;
    }

    public static TheoryData<string, ExecutionMode> Runs()
    {
        var data = new TheoryData<string, ExecutionMode>();
        foreach (var name in Twins.SelectMany(t => new[] { t, t + "-v16" }))
        {
            data.Add(name, ExecutionMode.Controlled);
            data.Add(name, ExecutionMode.Concurrent);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Every_expectation_holds(string name, ExecutionMode mode)
    {
        var scenario = BuiltInScenarios.Load(name);
        var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Mode = mode, Seed = 7 });

        Assert.True(run.Expectations.Length >= 2);
        ExpectationAssert.AllHeld(run, _output);
    }

    [Theory]
    [InlineData("r01-tick-dependency-loop")]
    [InlineData("r02-stale-tick-snapshot")]
    [InlineData("r13-affinity-change")]
    public void The_twins_run_the_same_workload_under_each_variant(string name)
    {
        var v13 = BuiltInScenarios.Load(name);
        var v16 = BuiltInScenarios.Load(name + "-v16");

        Assert.Equal(KernelVariant.V13, v13.Model.Variant);
        Assert.Equal(KernelVariant.V16, v16.Model.Variant);
        Assert.Equal(v13.Tasks.Select(Describe), v16.Tasks.Select(Describe));
        Assert.Equal(v13.Model.Timings, v16.Model.Timings);
        Assert.Equal(v13.DurationNs, v16.DurationNs);

        // The variant reaches the booted machine: v16's map is isolcpus ∩ nohz_full, with no task_isolation=.
        Assert.Equal("1-3", Machine.SimulatedMachine.TaskIsolationMap(ScenarioSession.Boot(v16), v16.Model.Variant).ToList());
        Assert.Equal(KernelVariant.V16, ScenarioSession.Options(v16, new RunSettings()).Variant);

        static string Describe(ScenarioTask t) =>
            $"{t.Name} {t.Affinity.ToList()} {t.Policy} {t.StartNs}: {string.Join("; ", t.Program.Select(o => o.Describe()))}";
    }
}
