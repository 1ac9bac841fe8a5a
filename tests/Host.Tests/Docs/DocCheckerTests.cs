using System.Globalization;
using System.Text.RegularExpressions;

namespace TaskIsolation.Host.Tests.Docs;

/// <summary>
/// The doc checker itself: a document that drifts from the program fails, the masking rule hides only wall-clock
/// figures, and the update mode brings a drifted document back to the program without touching its prose.
/// </summary>
[Collection(nameof(DocTestCollection))]
public sealed partial class DocCheckerTests
{
    private const string Cpulist = """
        # A document

        Prose before, which the update must keep.

        ```console
        $ taskisol cpulist --nbits 16 "0-7:2/4,N"
        0-1,4-5,15
        $ taskisol cpulist --nbits 8 0-2,9
        taskisol cpulist: invalid CPU list: ERANGE in region '9' at offset 4 of '0-2,9': CPU 9 is past the last CPU 7
        $ echo $?
        2
        ```

        Prose after, kept too.
        """;

    private static DocOutcome Check(string text) => new DocChecker(GoldenOutputTests.RepoRoot).Check("doc.md", text);

    [Fact]
    public void A_document_that_shows_what_the_program_prints_passes()
    {
        Assert.Empty(Check(Cpulist).Problems);
    }

    [Fact]
    public void A_changed_expected_output_fails_and_the_update_restores_the_document()
    {
        var drifted = Cpulist.Replace("0-1,4-5,15", "0-1,4-5,14", StringComparison.Ordinal);

        var outcome = Check(drifted);

        var problem = Assert.Single(outcome.Problems);
        Assert.Equal(6, problem.Line);
        Assert.Contains("0-1,4-5,14", problem.What, StringComparison.Ordinal);
        Assert.Contains("0-1,4-5,15", problem.What, StringComparison.Ordinal);
        Assert.Equal(Cpulist, outcome.UpdatedText);
    }

    [Fact]
    public void A_changed_exit_code_fails_and_the_update_restores_it()
    {
        var drifted = Cpulist.Replace("$ echo $?\n2", "$ echo $?\n0", StringComparison.Ordinal);

        var outcome = Check(drifted);

        Assert.Equal(10, Assert.Single(outcome.Problems).Line);
        Assert.Equal(Cpulist, outcome.UpdatedText);
    }

    [Fact]
    public void A_missing_or_extra_output_line_fails()
    {
        Assert.Single(Check(Cpulist.Replace("0-1,4-5,15\n", string.Empty, StringComparison.Ordinal)).Problems);
        Assert.Single(Check(Cpulist.Replace("0-1,4-5,15\n", "0-1,4-5,15\nmore\n", StringComparison.Ordinal)).Problems);
    }

    [Fact]
    public void Wall_times_are_masked_but_event_counts_and_simulated_times_are_not()
    {
        // The program writes the document: an empty output updated from the run.
        var written = Check("```console\n$ taskisol run scenarios/tlb-shootdown.yaml --quiet\n```\n").UpdatedText;
        var summary = RunSummary().Match(written);
        Assert.True(summary.Success, written);
        Assert.Empty(Check(written).Problems);

        var otherWall = written.Replace(summary.Value, $"{summary.Groups["events"].Value} events; 1s simulated in 99.99 s", StringComparison.Ordinal);
        Assert.Empty(Check(otherWall).Problems);

        var events = int.Parse(summary.Groups["events"].Value, CultureInfo.InvariantCulture);
        var otherCount = written.Replace(summary.Value, $"{events + 1} events; 1s simulated in {summary.Groups["wall"].Value} s", StringComparison.Ordinal);
        var drifted = Check(otherCount);
        Assert.Single(drifted.Problems);
        Assert.Equal(written.Split('\n').Select(OutputMasks.Key), drifted.UpdatedText.Split('\n').Select(OutputMasks.Key));

        var otherTime = written.Replace(summary.Value, $"{events} events; 2s simulated in {summary.Groups["wall"].Value} s", StringComparison.Ordinal);
        Assert.Single(Check(otherTime).Problems);
    }

    [Fact]
    public void A_run_of_explore_progress_lines_compares_equal_to_another()
    {
        string[] documented = ["exploring x", "  10/20 schedules  5 schedules/s  0 distinct findings", "", "schedules: 20 in 2.00 s (10 schedules/s); 1 failing"];
        string[] printed = ["exploring x", "  7/20 schedules  7 schedules/s  0 distinct findings", "  19/20 schedules  9 schedules/s  1 distinct finding", "  20/20 schedules  9 schedules/s  1 distinct finding", "", "schedules: 20 in 2.31 s (9 schedules/s); 1 failing"];

        Assert.Null(OutputMasks.Difference(documented, printed));
        Assert.Equal(documented, OutputMasks.Merge(documented, printed));
        Assert.NotNull(OutputMasks.Difference(documented, [.. printed[..^1], "schedules: 20 in 2.31 s (9 schedules/s); 2 failing"]));
    }

    [Fact]
    public void A_csharp_example_that_does_not_compile_or_whose_test_fails_fails()
    {
        var missingUsing = Check("```csharp\nvar s = BuiltInScenarios.Load(\"default\");\n```\n");
        Assert.Contains("does not compile", Assert.Single(missingUsing.Problems).What, StringComparison.Ordinal);

        Assert.Empty(Check("```csharp\nusing TaskIsolation.Scenarios;\n\nvar s = BuiltInScenarios.Load(\"default\");\nAssert.Equal(\"default\", s.Name);\n```\n").Problems);

        var failingFact = Check("```csharp\npublic sealed class T\n{\n    [Fact]\n    public void F() => Assert.Equal(1, 2);\n}\n```\n");
        Assert.Contains("T.F failed", Assert.Single(failingFact.Problems).What, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listed_command_must_parse_and_name_a_scenario_that_exists()
    {
        Assert.Empty(Check("```sh\ntaskisol run r09-tlb-shootdown --seed 2   # a comment\ndotnet run --project src/Host -- explore scenarios/tlb-race.yaml \\\n    --iterations 10 | tail -3\ndotnet test\n```\n").Problems);

        Assert.Contains("--sed", Assert.Single(Check("```sh\ntaskisol run --sed 2\n```\n").Problems).What, StringComparison.Ordinal);
        Assert.Contains("no built-in scenario 'r99-none'", Assert.Single(Check("```sh\ntaskisol run r99-none\n```\n").Problems).What, StringComparison.Ordinal);
        Assert.Contains("no scenarios/none.yaml", Assert.Single(Check("```sh\ntaskisol soak scenarios/none.yaml\n```\n").Problems).What, StringComparison.Ordinal);
    }

    [Fact]
    public void Directives_are_checked()
    {
        Assert.Empty(Check("<!-- doctest: skip the output needs a cluster -->\n```console\n$ taskisol worker\nnot run\n```\n").Problems);
        Assert.Single(Check("<!-- doctest: skip -->\n```console\n$ taskisol worker\n```\n").Problems);
        Assert.Single(Check("<!-- doctest: frobnicate -->\n```console\n$ taskisol scenarios\n```\n").Problems);
        Assert.Single(Check("<!-- doctest: skip astray -->\n\nprose\n").Problems);
        Assert.Single(Check("```\n$ taskisol scenarios\n```\n").Problems);
    }

    [Fact]
    public void A_file_block_is_what_the_commands_read_and_a_repository_file_must_match()
    {
        var yaml = "name: tiny\ncpus: 2\nduration: 1ms\n";
        var doc = $"<!-- doctest: file tiny.yaml -->\n```yaml\n{yaml}```\n\n```console\n$ taskisol run tiny.yaml --quiet\n```\n";
        var written = Check(doc).UpdatedText;
        Assert.Contains("0 of 0 expectations held", written, StringComparison.Ordinal);

        var repoFile = File.ReadAllText(Path.Combine(GoldenOutputTests.RepoRoot, "scenarios", "tlb-race.yaml"));
        var stale = $"<!-- doctest: file scenarios/tlb-race.yaml -->\n```yaml\nname: tlb-race\n```\n";
        var outcome = Check(stale);
        Assert.Contains("not the repository's scenarios/tlb-race.yaml", Assert.Single(outcome.Problems).What, StringComparison.Ordinal);
        Assert.Equal($"<!-- doctest: file scenarios/tlb-race.yaml -->\n```yaml\n{repoFile}```\n", outcome.UpdatedText);
    }

    [GeneratedRegex(@"(?<events>[0-9]+) events; 1s simulated in (?<wall>[0-9.]+) s")]
    private static partial Regex RunSummary();
}
