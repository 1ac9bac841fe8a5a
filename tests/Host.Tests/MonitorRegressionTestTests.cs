using TaskIsolation.Exploration;
using TaskIsolation.Host.Tests.Docs;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// <c>taskisol minimize</c> of a monitor's failure writes a regression test that waits for <c>MonitorFailed</c> (not for
/// a liveness failure, which would time out) and asserts its CPU, task and chain root; the test compiles and passes as
/// written, and fails when the property is kept. The scenario is the doc's <c>quiet-cpu3.yaml</c> (docs/scenarios.md).
/// </summary>
public sealed class MonitorRegressionTestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-monitor-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Minimize_of_a_monitor_failure_writes_a_test_that_replays_to_it_and_passes()
    {
        var scenario = Path.Combine(_dir, "quiet-cpu3.yaml");
        File.WriteAllText(scenario, QuietCpu3());
        var found = Path.Combine(_dir, "found");
        var explore = Taskisol.Run("explore", scenario, "--find", "monitor", "--iterations", "20", "--workers", "1", "--out", found);
        Assert.True(explore.Exit == 1, explore.Out + explore.Err);

        var testDir = Path.Combine(_dir, "test");
        var minimize = Taskisol.Run("minimize", Path.Combine(found, "finding-1.json"), "--out", testDir);
        Assert.True(minimize.Exit == 0, minimize.Out + minimize.Err);

        var path = Directory.GetFiles(testDir, "*.cs").Single();
        var source = File.ReadAllText(path);
        Assert.Contains("Sys.EventStream.Subscribe(probe, typeof(MonitorFailed));", source, StringComparison.Ordinal);
        Assert.Contains("public void Replays_to_the_monitor_failure()", source, StringComparison.Ordinal);
        Assert.Contains("monitor quiet-cpu3 (no_interrupt) failed", source, StringComparison.Ordinal);
        Assert.Empty(CSharpExamples.CompileAndRun(source, path));

        // Kept property: the test generated from the same reproducer on a scenario whose monitor watches another kind of
        // interrupt (its hash updated to match) fails, as a regression test must when the finding is gone.
        var reproducer = Reproducer.Parse(File.ReadAllText(Directory.GetFiles(testDir, "*.min.json").Single()));
        var text = reproducer.Target.Text.Replace("kind: call_function_ipi", "kind: nmi", StringComparison.Ordinal);
        Assert.NotEqual(reproducer.Target.Text, text);
        var kept = reproducer with { Target = reproducer.Target with { Text = text, Hash = TargetHash.Of(text) } };
        var className = Path.GetFileNameWithoutExtension(path);
        var keptSource = RegressionTestGenerator.Generate(kept, new RegressionTestOptions("Regression", className, "ScenarioTarget.Load", []));
        var problems = CSharpExamples.CompileAndRun(keptSource, path);
        Assert.NotEmpty(problems);
        Assert.DoesNotContain(problems, p => p.StartsWith("does not compile", StringComparison.Ordinal));
    }

    /// <summary>The doc's <c>quiet-cpu3.yaml</c>: the TLB race with a <c>no_interrupt</c> monitor on CPU 3.</summary>
    private static string QuietCpu3()
    {
        var doc = File.ReadAllText(Path.Combine(GoldenOutputTests.RepoRoot, "docs", "scenarios.md"));
        var start = doc.IndexOf("<!-- doctest: file quiet-cpu3.yaml -->\n```yaml\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/scenarios.md no longer holds quiet-cpu3.yaml");
        start = doc.IndexOf('\n', doc.IndexOf("```yaml", start, StringComparison.Ordinal)) + 1;
        return doc[start..doc.IndexOf("```", start, StringComparison.Ordinal)];
    }
}
