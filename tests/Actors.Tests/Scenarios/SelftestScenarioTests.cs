using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Scenarios;
using TaskIsolation.Actors.Simulation;
using Xunit.Abstractions;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// The kernel selftest's checks (MODEL.md §8) as built-in scenarios: every <c>selftest-*</c> built-in runs with all of
/// its expectations holding in both execution modes, and together they cover the checks 1 to 11.
/// </summary>
public sealed class SelftestScenarioTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public SelftestScenarioTests(ITestOutputHelper output)
        : base(SimulationConfig.Hocon, output: output)
    {
        _output = output;
    }

    public static TheoryData<string, ExecutionMode> Runs()
    {
        var data = new TheoryData<string, ExecutionMode>();
        foreach (var s in BuiltInScenarios.All.Where(s => s.Name.StartsWith("selftest-", StringComparison.Ordinal)))
        {
            data.Add(s.Name, ExecutionMode.Controlled);
            data.Add(s.Name, ExecutionMode.Concurrent);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Every_expectation_holds(string name, ExecutionMode mode)
    {
        var scenario = BuiltInScenarios.Load(name);
        var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Mode = mode, Seed = 7 });

        foreach (var e in run.Expectations)
        {
            _output.WriteLine($"{(e.Held ? "held" : "FAILED")}: {e.Text} — {e.Detail}");
        }

        Assert.True(run.Expectations.Length >= 3, "a selftest scenario asserts the outcome, the signal and the log");
        Assert.True(run.AllHeld, string.Join("\n", run.Expectations.Where(e => !e.Held).Select(e => $"{e.Text}: {e.Detail}")));
        Assert.Equal(scenario.DurationNs, run.SimulatedNs);
    }

    [Fact]
    public void Each_built_in_selftest_names_its_check_in_its_summary()
    {
        var selftests = BuiltInScenarios.All.Where(s => s.Name.StartsWith("selftest-", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(selftests);
        Assert.All(selftests, s =>
        {
            var number = int.Parse(s.Name.AsSpan(9, 2), System.Globalization.CultureInfo.InvariantCulture);
            Assert.StartsWith($"Selftest {number}", s.Summary, StringComparison.Ordinal);
        });
    }
}
