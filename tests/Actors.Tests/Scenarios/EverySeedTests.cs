using System.Globalization;
using Akka.TestKit.Xunit2;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using Xunit.Abstractions;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// A shipped scenario's expectations are what every schedule shows (docs/scenarios.md, "Races and every seed"):
/// every built-in and every file of scenarios/ holds them over seeds 1 to 10 in controlled mode and over 10 runs in
/// concurrent mode (seeds 1 to 10 of its data choices, whatever interleavings the thread pool makes). A built-in
/// whose result is a race states its outcomes with <c>one_of</c>; one that holds only for some schedules fails here.
/// Set <c>TASKISOL_EVERY_SEED=N</c> to run seeds 1 to N instead (the longer check of docs/scenarios.md).
/// </summary>
public sealed class EverySeedTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public EverySeedTests(ITestOutputHelper output)
        : base(SimulationConfig.Hocon, output: output)
    {
        _output = output;
    }

    /// <summary>Seeds 1 to this in each mode: 10, or <c>TASKISOL_EVERY_SEED</c>.</summary>
    public static int Seeds { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("TASKISOL_EVERY_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 10;

    /// <summary>Every built-in (by name) and every example (by file name), in both modes.</summary>
    public static TheoryData<string, ExecutionMode> Shipped()
    {
        var data = new TheoryData<string, ExecutionMode>();
        var names = BuiltInScenarios.All.Select(s => s.Name).Concat(ScenarioFiles.Examples().Select(f => Path.GetFileName(f)!));
        foreach (var name in names)
        {
            data.Add(name, ExecutionMode.Controlled);
            data.Add(name, ExecutionMode.Concurrent);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shipped))]
    public void Every_expectation_holds_for_every_seed(string name, ExecutionMode mode)
    {
        var scenario = Load(name);
        var failures = new List<string>();
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Mode = mode, Seed = seed });
            Assert.NotEmpty(run.Expectations);
            foreach (var e in run.Expectations)
            {
                var taken = e.Expectation is OneOf race ? " — took " + string.Join(", ", race.Taken(run.Record()).Select(o => $"\"{o.Name}\"")) : string.Empty;
                _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed {seed}: {(e.Held ? "held" : "FAILED")} {e.Text}{taken}"));
                if (!e.Held)
                {
                    failures.Add(string.Create(CultureInfo.InvariantCulture, $"seed {seed}: {e.Text}: {e.Detail}"));
                }
            }

            run.Machine.Shutdown();
        }

        Assert.True(failures.Count == 0, $"{name} in {mode} mode:\n{string.Join("\n", failures)}");
    }

    private static Scenario Load(string name) =>
        name.EndsWith(".yaml", StringComparison.Ordinal)
            ? ScenarioLoader.LoadFile(Path.Combine(ScenarioFiles.ExamplesDirectory, name))
            : BuiltInScenarios.Load(name);
}
