using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>What the loader builds from good files, and where it points for bad ones.</summary>
public sealed class ScenarioLoaderTests
{
    private const string Minimal = """
        cpus: 4
        cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
        duration: 50ms
        tasks:
          - name: iso
            cpus: 3
            program:
              - prctl: enable
              - compute: 1ms
              - syscall: write
        expectations:
          - killed: {task: iso, signal: SIGKILL, reason: syscall 1}
        """;

    private static ScenarioError Single(string yaml)
    {
        var ex = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(yaml, "t.yaml"));
        return Assert.Single(ex.Errors);
    }

    [Fact]
    public void A_minimal_scenario_loads_with_the_defaults_filled_in()
    {
        var s = ScenarioLoader.Load(Minimal, "t.yaml", "minimal");

        Assert.Equal("minimal", s.Name);
        Assert.Equal(4, s.Cpus);
        Assert.Equal(50_000_000, s.DurationNs);
        Assert.Equal(ResidualTick.OneHz, s.Model.Switches.ResidualTick);
        var t = Assert.Single(s.Tasks);
        Assert.Equal(CpuMask.Single(4, 3), t.Affinity);
        Assert.Equal(new Prctl(PrctlOptions.SetTaskIsolation, 1), t.Program[0]);
        Assert.Equal(new Compute(1_000_000), t.Program[1]);
        Assert.Equal(new Syscall("write"), t.Program[2]);
        Assert.Equal(new Killed("iso", Signal.SIGKILL, "syscall 1"), Assert.Single(s.Expectations));
    }

    [Theory]
    [InlineData("500us", 500_000L)]
    [InlineData("2ms", 2_000_000L)]
    [InlineData("1.5s", 1_500_000_000L)]
    [InlineData("10m", 600_000_000_000L)]
    [InlineData("0", 0L)]
    [InlineData("7ns", 7L)]
    [InlineData("1.234567ms", 1_234_567L)]
    public void Durations_read_as_users_write_them(string text, long ns) =>
        Assert.Equal(ns, ScenarioNames.ParseDuration(text, out _));

    [Theory]
    [InlineData("-2ms", "negative")]
    [InlineData("2", "no unit")]
    [InlineData("2 parsecs", "unknown unit")]
    [InlineData("1.5ns", "whole number of nanoseconds")]
    [InlineData("99999999999999999999h", "too long")]
    [InlineData("ms", "not a number")]
    public void Bad_durations_say_why(string text, string why)
    {
        Assert.Null(ScenarioNames.ParseDuration(text, out var error));
        Assert.Contains(why, error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_is_placed_and_gets_a_suggestion()
    {
        var e = Single(Minimal.Replace("duration: 50ms", "durration: 50ms", StringComparison.Ordinal));

        Assert.Equal(("t.yaml", 3, 1), (e.File, e.Line, e.Column));
        Assert.Contains("unknown key 'durration' (did you mean 'duration'?)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_affinity_outside_the_machine_is_ERANGE_at_its_place()
    {
        var e = Single(Minimal.Replace("cpus: 3", "cpus: 4", StringComparison.Ordinal));

        Assert.Equal((6, 11), (e.Line, e.Column));
        Assert.Contains("ERANGE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_error_is_reported_not_just_the_first()
    {
        var yaml = Minimal
            .Replace("compute: 1ms", "compute: -1ms", StringComparison.Ordinal)
            .Replace("syscall: write", "syscall: wirte", StringComparison.Ordinal)
            .Replace("task: iso,", "task: isa,", StringComparison.Ordinal);
        var ex = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(yaml, "t.yaml"));

        Assert.Equal(3, ex.Errors.Length);
        Assert.Contains("negative", ex.Errors[0].Message, StringComparison.Ordinal);
        Assert.Contains("unknown syscall 'wirte' for this arch (did you mean 'write'?)", ex.Errors[1].Message, StringComparison.Ordinal);
        Assert.Contains("no task named 'isa' (did you mean 'iso'?)", ex.Errors[2].Message, StringComparison.Ordinal);
        Assert.StartsWith("t.yaml:9:18: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Syscalls_resolve_against_the_arch_table()
    {
        var arm = ScenarioLoader.Load(Minimal.Replace("cpus: 4\n", "cpus: 4\narch: arm64\n", StringComparison.Ordinal)
            .Replace("syscall: write", "syscall: 172", StringComparison.Ordinal));

        Assert.Equal(new Syscall("getpid"), arm.Tasks[0].Program[2]);
        var e = Single(Minimal.Replace("cpus: 4\n", "cpus: 4\narch: arm64\n", StringComparison.Ordinal)
            .Replace("syscall: write", "syscall: fork", StringComparison.Ordinal));
        Assert.Contains("unknown syscall 'fork' for this arch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_yaml_syntax_error_is_a_ScenarioException_with_a_place()
    {
        var e = Single("cpus: 4\ntasks: [\n  - name: x\n");

        Assert.Equal("t.yaml", e.File);
        Assert.Contains("YAML syntax", e.Message, StringComparison.Ordinal);
        Assert.True(e.Line >= 2);
    }

    [Fact]
    public void A_file_that_is_not_UTF8_is_refused_at_its_first_invalid_byte()
    {
        var dir = Directory.CreateTempSubdirectory("taskisol-utf8-");
        try
        {
            var path = Path.Combine(dir.FullName, "latin1.yaml");
            File.WriteAllBytes(path, [.. "name: caf"u8, 0xE9, .. "\ncpus: 4\n"u8]);
            var bom = Path.Combine(dir.FullName, "bom.yaml");
            File.WriteAllBytes(bom, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(Minimal)]);

            var ex = Assert.Throws<ScenarioException>(() => ScenarioLoader.LoadFile(path));

            Assert.Equal(new ScenarioError(path, 1, 10, "invalid UTF-8: byte 0xE9 at byte offset 9; a scenario file is UTF-8"), Assert.Single(ex.Errors));
            Assert.Equal(4, ScenarioLoader.LoadFile(bom).Cpus);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Deep_nesting_and_aliases_are_refused_before_they_can_hurt()
    {
        Assert.Contains("nesting deeper", Single(new string('[', 100_000)).Message, StringComparison.Ordinal);
        Assert.Contains("alias", Single("cpus: &a 4\nduration: *a\n").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_Kconfig_combination_is_reported_at_the_config()
    {
        var e = Single("cpus: 4\nconfig:\n  NO_HZ_FULL: n\n");

        Assert.Equal((3, 3), (e.Line, e.Column));
        Assert.Contains("CONFIG_TASK_ISOLATION=y requires CONFIG_NO_HZ_FULL=y", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_canonical_text_loads_back_equal_and_is_a_fixed_point()
    {
        var s = BuiltInScenarios.Load(BuiltInScenarios.DefaultName);
        var text = ScenarioWriter.Write(s);
        var again = ScenarioLoader.Load(text, "canonical");

        Assert.Equal(s, again);
        Assert.Equal(text, ScenarioWriter.Write(again));
        Assert.Equal(s.Hash, again.Hash);
        Assert.Matches("^[0-9a-f]{64}$", s.Hash);
    }

    [Fact]
    public void The_osnoise_section_selects_cpus_period_and_warm_up_and_is_written_only_when_set()
    {
        var s = ScenarioLoader.Load(Minimal + "\nosnoise:\n  cpus: 1,3\n  period: 100ms\n  warm_up: 5ms\n", "t.yaml");

        Assert.Equal(new OsnoiseSettings { Cpus = CpuMask.Of(4, 1, 3), PeriodNs = 100_000_000, WarmUpNs = 5_000_000 }, s.Osnoise);
        var text = ScenarioWriter.Write(s);
        Assert.Contains("osnoise:\n  cpus: \"1,3\"\n  period: 100ms\n  warm_up: 5ms\n", text, StringComparison.Ordinal);
        Assert.Equal(s, ScenarioLoader.Load(text, "canonical"));

        // Without it, every CPU, one-second periods, no warm-up, and the canonical text (so the hash) has no such section.
        var plain = ScenarioLoader.Load(Minimal, "t.yaml");
        Assert.Equal(OsnoiseSettings.Default, plain.Osnoise);
        Assert.DoesNotContain("osnoise", ScenarioWriter.Write(plain), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("osnoise: {cpus: 4}", 13, "osnoise.cpus: invalid CPU list: ERANGE")]
    [InlineData("osnoise: {cpus: x}", 13, "osnoise.cpus: invalid CPU list: EINVAL")]
    [InlineData("osnoise: {cpus: ','}", 13, "osnoise.cpus: ',' names no CPU")]
    [InlineData("osnoise: {period: 0}", 13, "osnoise.period: found '0', expected a duration above 0")]
    [InlineData("osnoise: {warm_up: -1ms}", 13, "osnoise.warm_up: '-1ms' is negative")]
    [InlineData("osnoise: {cpu: 1}", 13, "unknown key 'cpu' (did you mean 'cpus'?)")]
    public void A_bad_osnoise_setting_is_an_error_at_its_place(string line, int line1, string message)
    {
        var e = Single(Minimal + "\n" + line + "\n");

        Assert.Equal(line1, e.Line);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
