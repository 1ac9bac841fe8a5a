using Akka.TestKit.Xunit2;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using Xunit.Abstractions;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>The files of the repository's scenarios/ folder: named after their files, canonical, as the docs show. That
/// each holds its expectations for every seed is <see cref="EverySeedTests"/>.</summary>
public sealed class ExampleScenarioTests : TestKit
{
    public ExampleScenarioTests(ITestOutputHelper output)
        : base(SimulationConfig.Hocon, output: output)
    {
    }

    public static TheoryData<string> Files => [.. ScenarioFiles.Examples().Select(f => Path.GetFileName(f))];

    [Fact]
    public void There_are_examples() => Assert.True(ScenarioFiles.Examples().Count >= 5);

    [Theory]
    [MemberData(nameof(Files))]
    public void Is_named_after_its_file_and_has_expectations(string file)
    {
        var scenario = ScenarioLoader.LoadFile(Path.Combine(ScenarioFiles.ExamplesDirectory, file));

        Assert.Equal(Path.GetFileNameWithoutExtension(file), scenario.Name);
        Assert.NotEmpty(scenario.Expectations);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Round_trips_through_the_canonical_text(string file)
    {
        var scenario = ScenarioLoader.LoadFile(Path.Combine(ScenarioFiles.ExamplesDirectory, file));
        var text = ScenarioWriter.Write(scenario);
        var again = ScenarioLoader.Load(text, "canonical");

        Assert.Equal(scenario, again);
        Assert.Equal(text, ScenarioWriter.Write(again));
    }

    [Fact]
    public void The_first_example_of_the_docs_runs_as_the_docs_show()
    {
        var doc = File.ReadAllText(Path.Combine(ScenarioFiles.RepositoryRoot, "docs", "scenarios.md"));
        var start = doc.IndexOf("```yaml\n", StringComparison.Ordinal) + "```yaml\n".Length;
        var yaml = doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];

        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(yaml, "docs/scenarios.md"));

        Assert.Equal("write-kills", run.Scenario.Name);
        Assert.True(run.AllHeld);
        Assert.Contains("[    0.002005] dpdk/101: task_isolation mode lost due to syscall 1", doc, StringComparison.Ordinal);
        Assert.Contains(run.Machine.Recorder.Events.OfType<TaskIsolation.Machine.Events.KernelLogged>(), l => l.Time / 1000 == 2_005 && l.Text == "dpdk/101: task_isolation mode lost due to syscall 1");
    }
}
