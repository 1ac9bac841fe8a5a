namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol run</c> and <c>taskisol scenarios</c>: what they print and what they return.</summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string yaml)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void Run_with_no_argument_runs_the_default_scenario_and_exits_0()
    {
        var r = Taskisol.Run("run");

        Assert.Equal(0, r.Exit);
        Assert.Equal("", r.Err);
        Assert.StartsWith("scenario default (", r.Out, StringComparison.Ordinal);
        Assert.Contains("[    0.000000] NO_HZ: Full dynticks CPUs: 1-3.", r.Out, StringComparison.Ordinal);
        Assert.Contains("== violations: 0", r.Out, StringComparison.Ordinal);
        Assert.Contains("held    no violation on any CPU: found none", r.Out, StringComparison.Ordinal);
        Assert.Contains("6 of 6 expectations held", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_expectation_exits_1_and_shows_the_violation_with_its_chain()
    {
        var file = Write("shootdown.yaml", RunReportOptionsTests.Shootdown);
        var r = Taskisol.Run("run", file);

        Assert.Equal(1, r.Exit);
        Assert.Contains("== violations: 1", r.Out, StringComparison.Ordinal);
        Assert.Contains("cpu 0: task sibling/102 on cpu 0: munmap", r.Out, StringComparison.Ordinal);
        Assert.Contains("[    0.5", r.Out, StringComparison.Ordinal);
        Assert.Contains("iso/101: task_isolation mode lost due to", r.Out, StringComparison.Ordinal);
        Assert.Contains("FAILED  no violation on any CPU: found 1", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_seed_same_output_in_controlled_mode()
    {
        var a = Taskisol.Run("run", "residual-tick", "--seed", "5", "--quiet");
        var b = Taskisol.Run("run", "residual-tick", "--seed", "5", "--quiet");

        Assert.Equal(0, a.Exit);
        Assert.Equal(StripWall(a.Out), StripWall(b.Out));
    }

    [Fact]
    public void Quiet_prints_only_the_verdicts_and_the_summary()
    {
        var r = Taskisol.Run("run", "--quiet", "--duration", "100ms");

        Assert.Equal(0, r.Exit);
        Assert.StartsWith("== expectations\n", r.Out, StringComparison.Ordinal);
        Assert.Contains("100ms simulated", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Concurrent_mode_runs_the_default_too()
    {
        var r = Taskisol.Run("run", "default", "--mode", "concurrent", "--duration", "2s", "--quiet");

        Assert.Equal(0, r.Exit);
        Assert.Contains("2s simulated", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_broken_file_exits_2_with_every_error_placed_and_nothing_on_stdout()
    {
        var file = Write("broken.yaml", "cpus: 4\ntasks:\n  - name: x\n    cpus: 7\n    program: [compute: 2 parsecs]\ndurration: 1s\n");
        var before = Directory.GetFiles(_dir);
        var r = Taskisol.Run("run", file);

        Assert.Equal(2, r.Exit);
        Assert.Equal("", r.Out);
        Assert.Equal(
            $"{file}:4:11: tasks[0].cpus: invalid CPU list: ERANGE in region '7' at offset 0 of '7': CPU 7 is past the last CPU 3\n"
            + $"{file}:5:24: tasks[0].program[0].compute: '2 parsecs' has an unknown unit 'parsecs': use ns, us, ms, s, m or h\n"
            + $"{file}:6:1: scenario: unknown key 'durration' (did you mean 'duration'?), expected one of name, description, cpus, arch, config, cmdline, sysctl, model, duration, tasks, noise, osnoise, monitors, expectations\n",
            r.Err);
        Assert.Equal(before, Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData("no-such-scenario", "no scenario file or built-in scenario named 'no-such-scenario'")]
    [InlineData("--mode", "")]
    public void Unknown_scenarios_and_bad_options_exit_2(string arg, string message)
    {
        var r = Taskisol.Run("run", arg);

        Assert.Equal(2, r.Exit);
        Assert.Equal("", r.Out);
        Assert.Contains(message, r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", r.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--mode", "parallel", "--mode: found 'parallel', expected controlled or concurrent")]
    [InlineData("--duration", "-1s", "--duration: '-1s' is negative")]
    [InlineData("--duration", "0", "--duration: '0' is zero")]
    [InlineData("--seed", "x", "")]
    public void Bad_option_values_exit_2_with_the_option_named(string option, string value, string message)
    {
        var r = Taskisol.Run("run", option, value);

        Assert.Equal(2, r.Exit);
        Assert.Equal("", r.Out);
        Assert.Contains(message, r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Scenarios_lists_the_built_in_ones_default_first()
    {
        var r = Taskisol.Run("scenarios");

        Assert.Equal(0, r.Exit);
        var lines = r.Out.TrimEnd('\n').Split('\n');
        Assert.StartsWith("default ", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("residual-tick ", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_exits_with_its_code_as_a_process()
    {
        var r = Taskisol.RunProcess("run", "--quiet", "--duration", "50ms");

        Assert.Equal(0, r.Exit);
        Assert.Contains("expectations held", r.Out, StringComparison.Ordinal);
    }

    private static string StripWall(string output) =>
        System.Text.RegularExpressions.Regex.Replace(output, @"in [0-9.]+ s\n", "in _ s\n");
}
