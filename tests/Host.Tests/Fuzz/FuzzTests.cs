using Xunit.Abstractions;

namespace TaskIsolation.Host.Tests.Fuzz;

/// <summary>
/// The fuzz suite (docs/testing.md): each source's cases through the real entry point, judged by <see cref="FuzzRun"/>.
/// One class per source, so that xunit runs the sources side by side. A new kind of input is a new
/// <see cref="IFuzzSource"/> and a class here.
/// </summary>
internal static class FuzzAssert
{
    /// <summary>Runs <paramref name="source"/> and fails listing every case that broke a rule.</summary>
    public static void Clean(IFuzzSource source, ITestOutputHelper output)
    {
        var report = FuzzRun.Run(source);
        var text = FuzzRun.Describe(report);
        output.WriteLine(text);
        if (Environment.GetEnvironmentVariable("TASKISOL_FUZZ_REPORT") is { Length: > 0 } file)
        {
            lock (typeof(FuzzAssert))
            {
                File.AppendAllText(file, FuzzRun.Describe(report, most: int.MaxValue) + "\n");
            }
        }

        Assert.True(report.Ran > 0, $"fuzz {source.Name}: no case ran");
        Assert.True(report.Failures.Count == 0, text);
    }
}

[Trait("Category", "Fuzz")]
public sealed class ScenarioFileFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Mutated_scenario_files_are_run_or_refused_in_one_line_naming_the_file() => FuzzAssert.Clean(new ScenarioFileSource(), output);
}

[Trait("Category", "Fuzz")]
public sealed class CommandLineFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Odd_command_lines_exit_0_1_or_2_and_bad_ones_are_refused_before_they_start() => FuzzAssert.Clean(new CommandLineSource(), output);
}

[Trait("Category", "Fuzz")]
public sealed class ReproducerFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Corrupted_reproducers_replay_or_are_refused_saying_what_changed() => FuzzAssert.Clean(new ReproducerSource(), output);
}

[Trait("Category", "Fuzz")]
public sealed class OutputPathFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_output_option_writes_through_links_into_special_files_and_refuses_what_it_cannot_write() => FuzzAssert.Clean(new OutputPathSource(), output);
}
