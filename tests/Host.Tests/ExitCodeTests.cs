namespace TaskIsolation.Host.Tests;

/// <summary>
/// Each exit code means one thing, whatever the command: 0 success, 1 an expectation failed or a finding was found,
/// 2 bad input, 3 internal error; and <c>--help</c> says so.
/// </summary>
public sealed class ExitCodeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-exit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_codes_are_0_1_2_3()
    {
        Assert.Equal(0, ExitCodes.Ok);
        Assert.Equal(1, ExitCodes.Failed);
        Assert.Equal(2, ExitCodes.BadInput);
        Assert.Equal(3, ExitCodes.InternalError);
    }

    [Fact]
    public void Success_is_0()
    {
        var r = Taskisol.Run("run", "--quiet", "--duration", "10ms");

        Assert.Equal(ExitCodes.Ok, r.Exit);
        Assert.Equal("", r.Err);
    }

    [Fact]
    public void An_expectation_that_failed_is_1()
    {
        var file = Path.Combine(_dir, "shootdown.yaml");
        File.WriteAllText(file, RunReportOptionsTests.Shootdown);

        var r = Taskisol.Run("run", file, "--quiet");

        Assert.Equal(ExitCodes.Failed, r.Exit);
        Assert.Contains("FAILED", r.Out, StringComparison.Ordinal);
        Assert.Equal("", r.Err);
    }

    [Fact]
    public void A_finding_is_1_as_a_failed_expectation_is()
    {
        // The built-in residual-tick scenario: 4.7's 1 Hz tick reaches the isolated task within its first second.
        var r = Taskisol.Run("soak", "residual-tick", "--for", "2s", "--snapshot-every", "1s", "--out", Path.Combine(_dir, "soak"));

        Assert.Equal(ExitCodes.Failed, r.Exit);
        Assert.Equal("", r.Err);
    }

    [Theory]
    [InlineData("run", "--seed", "x")]
    [InlineData("run", "no-such-scenario")]
    [InlineData("explore", "default", "--iterations", "0")]
    [InlineData("soak", "default", "--for", "0s")]
    [InlineData("replay", "/no/such/reproducer.json")]
    [InlineData("cpulist", "--nbits", "4", "0-4")]
    [InlineData("no-such-command")]
    [InlineData("soak", "default", "--out", "")]
    [InlineData("bench", "--report", "")]
    [InlineData("bench", "--report", "/proc/self/x.json")]
    [InlineData("worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:1", "--cluster-config", "")]
    [InlineData("worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:1", "--host", "1_000")]
    public void Bad_input_is_2_and_names_the_problem_without_a_stack_trace(params string[] args)
    {
        var r = Taskisol.Run(args);

        Assert.Equal(ExitCodes.BadInput, r.Exit);
        Assert.StartsWith("taskisol", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void An_exception_no_command_expected_is_3_with_its_stack_trace()
    {
        // Standard output that fails under the command (a full disk behind a redirection): neither the model's answer
        // nor the user's mistake, so an internal error with everything a bug report needs.
        using var stdout = new FailingWriter();
        using var stderr = new StringWriter { NewLine = "\n" };

        var exit = Program.Run(["scenarios"], stdout, stderr);

        Assert.Equal(ExitCodes.InternalError, exit);
        Assert.StartsWith("taskisol scenarios: internal error: System.IO.IOException: No space left on device", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("   at ", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_the_codes_for_the_program_and_for_every_command()
    {
        var root = Taskisol.Run("--help");
        Assert.Equal(0, root.Exit);
        Assert.Contains(ExitCodes.Help, Unwrapped(root.Out), StringComparison.Ordinal);

        foreach (var command in Cli.BuildRoot().Subcommands.Select(c => c.Name))
        {
            var r = Taskisol.Run(command, "--help");
            Assert.Equal(0, r.Exit);
            var text = Unwrapped(r.Out);
            Assert.Contains("Exit codes: 0 ", text, StringComparison.Ordinal);
            Assert.Contains("2 bad input, 3 internal error.", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_option_whose_placeholder_lists_its_values_lists_every_value_it_completes()
    {
        var checkedOptions = 0;
        foreach (var command in Cli.BuildRoot().Subcommands)
        {
            foreach (var option in command.Options.Where(o => o.HelpName?.Contains('|', StringComparison.Ordinal) == true))
            {
                var completions = option.GetCompletions(System.CommandLine.Completions.CompletionContext.Empty).Select(c => c.Label).ToHashSet(StringComparer.Ordinal);
                if (completions.Count == 0)
                {
                    continue;
                }

                Assert.True(completions.SetEquals(option.HelpName!.Split('|')), $"{command.Name} {option.Name}: placeholder {option.HelpName}, completes {string.Join('|', completions.Order(StringComparer.Ordinal))}");
                checkedOptions++;
            }
        }

        Assert.True(checkedOptions > 0);
    }

    /// <summary>Help text with its line wrapping undone.</summary>
    private static string Unwrapped(string help) => string.Join(' ', help.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    /// <summary>A writer whose every write fails, as one on a full disk does.</summary>
    private sealed class FailingWriter : StringWriter
    {
        public override void Write(char value) => throw new IOException("No space left on device");

        public override void Write(string? value) => throw new IOException("No space left on device");

        public override void WriteLine(string? value) => throw new IOException("No space left on device");
    }
}
