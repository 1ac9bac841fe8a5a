using System.Text.Json;

namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol boot</c> through <see cref="Program.Run"/>.</summary>
public class BootCommandTests
{
    [Fact]
    public void Boot_prints_the_dmesg_lines_then_the_sysfs_files()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "8", "--cmdline", "nohz_full=1-7 isolcpus=1-7 task_isolation=0-7 quiet");

        Assert.Equal(0, r.Exit);
        Assert.Equal("", r.Err);
        Assert.Equal(
            """
            [    0.000000] Kernel command line: nohz_full=1-7 isolcpus=1-7 task_isolation=0-7 quiet
            [    0.000000] NO_HZ: Clearing 0 from nohz_full range for timekeeping
            [    0.000000] NO_HZ: Full dynticks CPUs: 1-7.
            /sys/devices/system/cpu/possible: 0-7
            /sys/devices/system/cpu/present: 0-7
            /sys/devices/system/cpu/online: 0-7
            /sys/devices/system/cpu/isolated: 0-7
            /sys/devices/system/cpu/nohz_full: 1-7
            /sys/devices/system/cpu/task_isolation: 0-7

            """.ReplaceLineEndings("\n"),
            r.Out);
    }

    [Fact]
    public void An_empty_set_prints_without_a_trailing_space()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "2");

        Assert.Contains("/sys/devices/system/cpu/isolated:\n", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_is_one_object_with_the_log_the_sysfs_files_and_the_unknown_parameters()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "4", "--cmdline", "task_isolation=1-3,7 quiet root=/dev/sda1", "--json");

        Assert.Equal(0, r.Exit);
        Assert.Equal(
            """
            {
              "log": [
                "[    0.000000] Kernel command line: task_isolation=1-3,7 quiet root=/dev/sda1",
                "[    0.000000] task_isolation: Incorrect cpumask '1-3,7'",
                "[    0.000000] NO_HZ: Full dynticks CPUs: 1-3."
              ],
              "sysfs": {
                "possible": "0-3\n",
                "present": "0-3\n",
                "online": "0-3\n",
                "isolated": "1-3\n",
                "nohz_full": "1-3\n",
                "task_isolation": "1-3\n"
              },
              "cmdline": {
                "unknown": [
                  "quiet",
                  "root=/dev/sda1"
                ]
              }
            }

            """.ReplaceLineEndings("\n"),
            r.Out);
    }

    [Fact]
    public void Json_sysfs_values_read_exactly_as_the_files_do()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "8", "--cmdline", "task_isolation=2-5", "--json");
        using var doc = JsonDocument.Parse(r.Out);
        var sysfs = doc.RootElement.GetProperty("sysfs");

        Assert.Equal("2-5\n", sysfs.GetProperty("task_isolation").GetString());
        Assert.Equal("2-5\n", sysfs.GetProperty("isolated").GetString());
        Assert.Equal("0-7\n", sysfs.GetProperty("possible").GetString());
        Assert.Empty(doc.RootElement.GetProperty("cmdline").GetProperty("unknown").EnumerateArray());
    }

    [Fact]
    public void Json_keeps_kernel_text_readable() =>
        Assert.Contains("a=<b & c>", Taskisol.Run("boot", "--nr-cpus", "1", "--cmdline", "a=\"<b & c>\"", "--json").Out, StringComparison.Ordinal);

    [Fact]
    public void Config_options_change_which_parameters_and_files_exist()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "4", "--config", "TASK_ISOLATION=n", "--cmdline", "task_isolation=1-3", "--json");
        using var doc = JsonDocument.Parse(r.Out);

        Assert.Equal(0, r.Exit);
        Assert.False(doc.RootElement.GetProperty("sysfs").TryGetProperty("task_isolation", out _));
        Assert.Equal("task_isolation=1-3", doc.RootElement.GetProperty("cmdline").GetProperty("unknown")[0].GetString());
    }

    [Fact]
    public void Task_isolation_all_applies_without_a_boot_argument() =>
        Assert.Contains(
            "/sys/devices/system/cpu/task_isolation: 1-3\n",
            Taskisol.Run("boot", "--nr-cpus", "4", "--config", "TASK_ISOLATION_ALL=y").Out,
            StringComparison.Ordinal);

    [Fact]
    public void An_invalid_config_combination_exits_2_naming_the_missing_dependency()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "4", "--config", "NO_HZ_FULL=n");

        Assert.Equal(2, r.Exit);
        Assert.Equal("", r.Out);
        Assert.Equal("taskisol boot: --config: CONFIG_TASK_ISOLATION=y requires CONFIG_NO_HZ_FULL=y\n", r.Err);
    }

    [Theory]
    [InlineData("HZ=123", "CONFIG_HZ")]
    [InlineData("SMP=y", "'SMP'")]
    [InlineData("TASK_ISOLATION", "NAME=VALUE")]
    public void A_bad_config_setting_exits_2_naming_it(string setting, string named)
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "4", "--config", setting);

        Assert.Equal(2, r.Exit);
        Assert.Contains(named, r.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x86_64")]
    [InlineData("arm64")]
    [InlineData("tile")]
    public void Every_arch_boots(string arch) => Assert.Equal(0, Taskisol.Run("boot", "--nr-cpus", "2", "--arch", arch).Exit);

    [Fact]
    public void An_unknown_arch_exits_2_listing_the_known_ones()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "2", "--arch", "sparc");

        Assert.Equal(2, r.Exit);
        Assert.Contains("'sparc'", r.Err, StringComparison.Ordinal);
        Assert.Contains("x86_64, arm64, tile", r.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("8193")]
    [InlineData("many")]
    public void A_cpu_count_outside_the_model_exits_2(string cpus)
    {
        var r = Taskisol.Run("boot", "--nr-cpus", cpus);

        Assert.Equal(2, r.Exit);
        Assert.Contains("--nr-cpus", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cpu_count_is_required()
    {
        var r = Taskisol.Run("boot", "--cmdline", "quiet");

        Assert.Equal(2, r.Exit);
        Assert.Contains("--nr-cpus", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_cpu_list_on_the_command_line_is_the_kernels_business_not_an_error()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "8", "--cmdline", "nohz_full=x");

        Assert.Equal(0, r.Exit);
        Assert.Contains("[    0.000000] NO_HZ: Incorrect nohz_full cpumask\n", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Nohz_full_of_only_the_boot_cpu_announces_full_dynticks_with_an_empty_set()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "4", "--cmdline", "nohz_full=0");

        Assert.Equal(0, r.Exit);
        Assert.Equal(
            """
            [    0.000000] Kernel command line: nohz_full=0
            [    0.000000] NO_HZ: Clearing 0 from nohz_full range for timekeeping
            [    0.000000] NO_HZ: Full dynticks CPUs: .
            /sys/devices/system/cpu/possible: 0-3
            /sys/devices/system/cpu/present: 0-3
            /sys/devices/system/cpu/online: 0-3
            /sys/devices/system/cpu/isolated:
            /sys/devices/system/cpu/nohz_full:
            /sys/devices/system/cpu/task_isolation:

            """.ReplaceLineEndings("\n"),
            r.Out);
    }

    [Fact]
    public void A_bad_nohz_full_list_keeps_the_cpus_parsed_before_the_error()
    {
        var r = Taskisol.Run("boot", "--nr-cpus", "8", "--cmdline", "nohz_full=1-3,x task_isolation=6");

        Assert.Equal(0, r.Exit);
        Assert.Contains("[    0.000000] NO_HZ: Incorrect nohz_full cpumask\n", r.Out, StringComparison.Ordinal);
        Assert.Contains("[    0.000000] NO_HZ: Full dynticks CPUs: 1-3,6.\n", r.Out, StringComparison.Ordinal);
        Assert.Contains("/sys/devices/system/cpu/nohz_full: 1-3,6\n", r.Out, StringComparison.Ordinal);
    }
}
