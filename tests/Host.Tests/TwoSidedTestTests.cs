using System.Text.Json.Nodes;
using TaskIsolation.Host.Tests.Docs;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// Generates the two-sided regression tests of <c>taskisol minimize --mitigation</c> once for the suite: R9 with
/// <c>deferred_tlb_flush</c>, R1 (a liveness failure) with <c>bounded_wait=10ms</c>, and the two violations of R14 (its
/// two senders, each with the switch that fixes its path) written into one directory.
/// </summary>
public sealed class TwoSidedTestFixture : IDisposable
{
    public TwoSidedTestFixture()
    {
        R09 = Generate("r09", "r09-tlb-shootdown", "deferred_tlb_flush", 1, null);
        R01 = Generate("r01", "r01-tick-dependency-loop", "bounded_wait=10ms", 1, null);
        R14Ipi = Generate("r14", "r14-two-senders", "deferred_tlb_flush", 40, "CallFunctionIpi");
        R14IrqWork = Generate("r14", "r14-two-senders", "targeted_tick_dep_kick", 40, "IrqWork");
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("taskisol-two-sided-").FullName;

    public Generated R09 { get; }

    public Generated R01 { get; }

    public Generated R14Ipi { get; }

    public Generated R14IrqWork { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>Explores <paramref name="scenario"/>, minimizes the finding of <paramref name="interrupt"/> (the first when null) with the mitigation.</summary>
    private Generated Generate(string name, string scenario, string mitigation, int schedules, string? interrupt)
    {
        var found = Path.Combine(Root, name, "found");
        if (!Directory.Exists(found))
        {
            var explore = Taskisol.Run("explore", scenario, "--iterations", schedules.ToString(System.Globalization.CultureInfo.InvariantCulture), "--workers", "2", "--out", found);
            Assert.True(explore.Exit == 1, explore.Out + explore.Err);
        }

        var reproducer = Directory.GetFiles(found, "finding-*.json").Order(StringComparer.Ordinal)
            .First(f => interrupt is null || JsonNode.Parse(File.ReadAllText(f))!["finding"]!["interrupt"]?.GetValue<string>() == interrupt);
        var dir = Path.Combine(Root, name, "test");
        var before = Directory.Exists(dir) ? Directory.GetFiles(dir, "*.cs") : [];
        var r = Taskisol.Run("minimize", reproducer, "--out", dir, "--mitigation", mitigation, "--max-runs", "200");
        Assert.True(r.Exit == 0, r.Out + r.Err);
        var cs = Directory.GetFiles(dir, "*.cs").Except(before).Single();
        return new Generated(cs, File.ReadAllText(cs), r.Out);
    }
}

/// <summary>A generated test: its file, its text, and what <c>minimize</c> printed.</summary>
public sealed record Generated(string Path, string Source, string Output)
{
    /// <summary>The minimized scenario's file beside the test.</summary>
    public string Scenario => Directory.GetFiles(System.IO.Path.GetDirectoryName(Path)!, "*.min.yaml").Single(f => Source.Contains(System.IO.Path.GetFileName(f), StringComparison.Ordinal));
}

/// <summary>
/// <c>taskisol minimize --mitigation</c>: the two-sided tests it writes compile and pass as they stand (with Roslyn, as a
/// user's xunit project would compile them, reading the scenario beside them), and fail, each with its own clear
/// message, when the finding disappears (side a), when the mitigation is replaced by a switch that does not fix the
/// race (side b), and when the scenario changes under the recorded schedule (the first divergent decision named).
/// </summary>
public sealed class TwoSidedTestTests(TwoSidedTestFixture fixture) : IClassFixture<TwoSidedTestFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-two-sided-edit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Minimize_runs_both_sides_and_says_so()
    {
        Assert.Contains("side (a): the minimized schedule", fixture.R09.Output, StringComparison.Ordinal);
        Assert.Contains("side (b): with deferred_tlb_flush=true, explored all ", fixture.R09.Output, StringComparison.Ordinal);
        Assert.Contains("within the bounds: no finding", fixture.R09.Output, StringComparison.Ordinal);
        Assert.Contains("side (b): with bounded_wait=10ms, explored all ", fixture.R01.Output, StringComparison.Ordinal);
        Assert.Contains("IsolationExplorer.ExploreAll(scenario, maxSchedules: 1000, maxSteps: 200000, find: \"violation\")", fixture.R09.Source, StringComparison.Ordinal);
        Assert.Contains("find: \"liveness\"", fixture.R01.Source, StringComparison.Ordinal);
        Assert.Contains("IsolationScenario.FromFileBeside(ScenarioFile)", fixture.R09.Source, StringComparison.Ordinal);
        Assert.DoesNotContain("tasks:", fixture.R09.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Docs_exploration_md_shows_the_test_minimize_writes_for_r09()
    {
        var doc = File.ReadAllText(Path.Combine(GoldenOutputTests.RepoRoot, "docs", "exploration.md"));
        Assert.Contains("```csharp\n" + fixture.R09.Source + "```", doc, StringComparison.Ordinal);
    }

    [Fact]
    public void The_generated_tests_of_two_races_compile_and_pass()
    {
        Assert.Empty(CSharpExamples.CompileAndRun(fixture.R09.Source, fixture.R09.Path));
        Assert.Empty(CSharpExamples.CompileAndRun(fixture.R01.Source, fixture.R01.Path));
    }

    [Fact]
    public void Two_findings_of_one_scenario_give_two_tests_that_compile_together_and_pass()
    {
        var a = fixture.R14Ipi;
        var b = fixture.R14IrqWork;
        Assert.NotEqual(a.Path, b.Path);
        Assert.NotEqual(a.Scenario, b.Scenario);
        Assert.Equal(Path.GetDirectoryName(a.Path), Path.GetDirectoryName(b.Path));
        Assert.Contains("public sealed class R14TwoSenders_ViolationCallFunctionIpi_", a.Source, StringComparison.Ordinal);
        Assert.Contains("public sealed class R14TwoSenders_ViolationIrqWork_", b.Source, StringComparison.Ordinal);
        Assert.Contains("The_minimized_schedule_reaches_the_CallFunctionIpi_violation", a.Source, StringComparison.Ordinal);
        Assert.Contains("The_minimized_schedule_reaches_the_IrqWork_violation", b.Source, StringComparison.Ordinal);

        // One assembly, as one test project holds both: no name collides.
        Assert.Empty(CSharpExamples.CompileAndRun([(a.Source, a.Path), (b.Source, b.Path)]));
    }

    [Fact]
    public void Side_a_fails_with_the_replay_s_message_when_the_finding_disappears()
    {
        // The fix lands in the scenario itself: the recorded schedule no longer reaches the finding.
        var (source, path, scenario) = Copy(fixture.R09);
        File.WriteAllText(scenario, File.ReadAllText(scenario).Replace("deferred_tlb_flush: false", "deferred_tlb_flush: true", StringComparison.Ordinal));

        var problems = CSharpExamples.CompileAndRun(source, path);

        var a = Assert.Single(problems, p => p.Contains(".The_minimized_schedule_reaches_the_CallFunctionIpi_violation failed", StringComparison.Ordinal));
        Assert.Contains("IsolationAssertException: IsolationAssert.Reproduces failed: expected the reproducer to reproduce its finding", a, StringComparison.Ordinal);
        Assert.Contains("the target text was edited", a, StringComparison.Ordinal);
        Assert.Matches("replay diverged at decision [0-9]+|found nothing", a);
    }

    [Fact]
    public void Side_b_fails_naming_the_finding_when_the_mitigation_is_replaced_by_one_that_does_not_fix_the_race()
    {
        var (source, path, _) = Copy(fixture.R09);
        var unfixed = source.Replace("\"deferred_tlb_flush=true\"", "\"shepherd_skips_isolated=true\"", StringComparison.Ordinal);
        Assert.NotEqual(source, unfixed);

        var problems = CSharpExamples.CompileAndRun(unfixed, path);

        var b = Assert.Single(problems);
        Assert.Contains(".With_deferred_tlb_flush_true_no_schedule_finds_a_violation failed: IsolationAssertException: IsolationAssert.NoFinding failed: expected no finding in any schedule, but schedule 1 of the exhaustive search found violation CallFunctionIpi", b, StringComparison.Ordinal);
        Assert.Contains("task sibling/102 on cpu 0: munmap", b, StringComparison.Ordinal);
    }

    [Fact]
    public void Side_b_of_a_liveness_failure_fails_when_the_bounded_wait_is_replaced()
    {
        var (source, path, _) = Copy(fixture.R01);
        var problems = CSharpExamples.CompileAndRun(source.Replace("\"bounded_wait=10ms\"", "\"deferred_tlb_flush=true\"", StringComparison.Ordinal), path);

        var b = Assert.Single(problems);
        Assert.Contains("IsolationAssert.NoFinding failed: expected no finding in any schedule, but schedule 1 of the exhaustive search found liveness", b, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scenario_change_fails_side_a_naming_the_first_divergent_decision()
    {
        // Two jitter values instead of four: the recorded IPI latency choice among 4 no longer exists.
        var (source, path, scenario) = Copy(fixture.R09);
        var text = File.ReadAllText(scenario);
        Assert.Contains("ipi_jitter_steps: 4", text, StringComparison.Ordinal);
        File.WriteAllText(scenario, text.Replace("ipi_jitter_steps: 4", "ipi_jitter_steps: 2", StringComparison.Ordinal));
        var start = source.IndexOf("Decisions: \"", StringComparison.Ordinal) + "Decisions: \"".Length;
        var decisions = source[start..source.IndexOf('"', start)].Split(' ');
        var index = Array.FindIndex(decisions, d => d.StartsWith('c') && d.EndsWith("/4", StringComparison.Ordinal));
        Assert.True(index >= 0, string.Join(' ', decisions));

        var problems = CSharpExamples.CompileAndRun(source, path);

        var a = Assert.Single(problems, p => p.Contains(".The_minimized_schedule_reaches_the_CallFunctionIpi_violation failed", StringComparison.Ordinal));
        Assert.Contains($"replay diverged at decision {index}: recorded a choice among 4, but the run asked for a choice among 2", a, StringComparison.Ordinal);
        Assert.DoesNotContain("Timeout", a, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_bad_mitigation_is_one_line_exit_2_and_writes_nothing()
    {
        var reproducer = Directory.GetFiles(Path.Combine(fixture.Root, "r09", "found"), "finding-*.json").Order(StringComparer.Ordinal).First();
        var outDir = Path.Combine(_dir, "out");
        foreach (var (mitigation, message) in new[]
        {
            ("defered_tlb_flush", "--mitigation: unknown model switch 'defered_tlb_flush' (did you mean 'deferred_tlb_flush'?), expected one of variant, residual_tick, "),
            ("deferred_tlb_flush=maybe", "--mitigation: deferred_tlb_flush: 'maybe' is not a boolean, expected deferred_tlb_flush=true or deferred_tlb_flush=false"),
            ("variant", "--mitigation: variant needs a value: expected variant=v13 or variant=v16"),
            ("bounded_wait=soon", "--mitigation: bounded_wait: "),
            ("residual_tick=offloaded", "--mitigation: scenario r09-tlb-shootdown already has residual_tick: offloaded; a mitigation must change the model"),
            ("liveness_bound=1s", "--mitigation: liveness_bound is not a mitigation"),
            ("ipi_jitter=2us", "--mitigation: 'ipi_jitter' is a timing (model.timings), not a mitigation"),
            ("=true", "--mitigation: '=true' names no model switch"),
        })
        {
            var r = Taskisol.Run("minimize", reproducer, "--out", outDir, "--mitigation", mitigation);

            Assert.Equal(2, r.Exit);
            Assert.Equal(string.Empty, r.Out);
            var line = Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
            Assert.StartsWith("taskisol minimize: " + message, line, StringComparison.Ordinal);
            Assert.False(Directory.Exists(outDir), mitigation);
        }
    }

    /// <summary>The test and its scenario copied to a directory of this test's own, to be edited there.</summary>
    private (string Source, string Path, string Scenario) Copy(Generated g)
    {
        var path = Path.Combine(_dir, Path.GetFileName(g.Path));
        var scenario = Path.Combine(_dir, Path.GetFileName(g.Scenario));
        File.Copy(g.Path, path);
        File.Copy(g.Scenario, scenario);
        return (g.Source, path, scenario);
    }
}
