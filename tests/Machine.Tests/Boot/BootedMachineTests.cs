using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Machine.Tests.Boot;

/// <summary>Boot-time CPU sets, log lines and sysfs files (docs/model.md §2).</summary>
public class BootedMachineTests
{
    private static readonly KernelConfig NoTaskIsolation = KernelConfig.Default with { TaskIsolation = false };
    private static readonly KernelConfig NoNohzFull = NoTaskIsolation with { NoHzFull = false };
    private static readonly KernelConfig TaskIsolationAll = KernelConfig.Default with { TaskIsolationAll = true };

    [Fact]
    public void A_plain_boot_has_every_cpu_online_and_nothing_isolated()
    {
        var m = Boot(8, "");

        Assert.Equal(["Kernel command line: "], Messages(m));
        Assert.Equal("0-7", m.Possible.ToList());
        Assert.Equal("0-7", m.Present.ToList());
        Assert.Equal("0-7", m.Online.ToList());
        Assert.True(m.Isolated.IsEmpty);
        Assert.True(m.NohzFull.IsEmpty);
        Assert.True(m.TaskIsolation.IsEmpty);
        Assert.True(m.RcuNocbs.IsEmpty);
        Assert.Equal("0-7", m.IrqAffinity.ToList());
        Assert.Equal("0-7", m.HousekeepingMask.ToList());
        Assert.False(m.TaskIsolationDebug);
        Assert.Empty(m.UnknownParameters);
    }

    [Fact]
    public void Sysfs_files_read_as_a_list_and_a_newline()
    {
        var m = Boot(8, "task_isolation=1-7");

        Assert.Equal(
            [
                ("/sys/devices/system/cpu/possible", "0-7\n"),
                ("/sys/devices/system/cpu/present", "0-7\n"),
                ("/sys/devices/system/cpu/online", "0-7\n"),
                ("/sys/devices/system/cpu/isolated", "1-7\n"),
                ("/sys/devices/system/cpu/nohz_full", "1-7\n"),
                ("/sys/devices/system/cpu/task_isolation", "1-7\n"),
            ],
            m.SysfsFiles.Select(f => (f.Path, f.Contents)));
    }

    [Fact]
    public void An_empty_set_reads_as_a_lone_newline()
    {
        var m = Boot(4, "");

        Assert.Equal("\n", m.ReadSysfs("isolated"));
        Assert.Equal("\n", m.ReadSysfs("nohz_full"));
        Assert.Equal("\n", m.ReadSysfs("task_isolation"));
    }

    [Fact]
    public void Task_isolation_cpus_are_added_to_nohz_full_and_isolated()
    {
        var m = Boot(8, "task_isolation=1-7");

        Assert.Equal("1-7", m.TaskIsolation.ToList());
        Assert.Equal("1-7", m.NohzFull.ToList());
        Assert.Equal("1-7", m.Isolated.ToList());
        Assert.Equal("1-7", m.RcuNocbs.ToList());
        Assert.Equal("0", m.HousekeepingMask.ToList());
        Assert.Equal(["Kernel command line: task_isolation=1-7", "NO_HZ: Full dynticks CPUs: 1-7."], Messages(m));
    }

    [Fact]
    public void Nohz_full_and_isolcpus_alone_do_not_enable_task_isolation()
    {
        var m = Boot(8, "nohz_full=1-7 isolcpus=1-7");

        Assert.True(m.TaskIsolation.IsEmpty);
        Assert.Equal("1-7", m.NohzFull.ToList());
        Assert.Equal("1-7", m.Isolated.ToList());
    }

    [Fact]
    public void Task_isolation_adds_to_what_nohz_full_and_isolcpus_already_hold()
    {
        var m = Boot(8, "nohz_full=4-5 isolcpus=6 task_isolation=2-3");

        Assert.Equal("2-5", m.NohzFull.ToList());
        Assert.Equal("2-3,6", m.Isolated.ToList());
        Assert.Equal("2-3", m.TaskIsolation.ToList());
    }

    [Fact]
    public void A_bad_task_isolation_list_is_logged_and_keeps_its_earlier_regions()
    {
        var m = Boot(8, "task_isolation=1-3,9,5");

        Assert.Equal(
            [
                "Kernel command line: task_isolation=1-3,9,5",
                "task_isolation: Incorrect cpumask '1-3,9,5'",
                "NO_HZ: Full dynticks CPUs: 1-3.",
            ],
            Messages(m));
        Assert.Equal("1-3", m.TaskIsolation.ToList());
        Assert.Equal("1-3", m.NohzFull.ToList());
        Assert.Equal("1-3", m.Isolated.ToList());
        Assert.Equal(KernelLogLevel.Warning, m.Log[1].Level);
    }

    [Fact]
    public void A_task_isolation_list_bad_from_the_start_leaves_no_task_isolation_cpus()
    {
        var m = Boot(8, "task_isolation=x");

        Assert.Equal(["Kernel command line: task_isolation=x", "task_isolation: Incorrect cpumask 'x'"], Messages(m));
        Assert.True(m.TaskIsolation.IsEmpty);
        Assert.True(m.NohzFull.IsEmpty);
    }

    [Fact]
    public void The_boot_cpu_in_task_isolation_is_cleared_from_nohz_full_only()
    {
        var m = Boot(8, "task_isolation=0-7");

        Assert.Equal(
            [
                "Kernel command line: task_isolation=0-7",
                "NO_HZ: Clearing 0 from nohz_full range for timekeeping",
                "NO_HZ: Full dynticks CPUs: 1-7.",
            ],
            Messages(m));
        Assert.Equal("1-7", m.NohzFull.ToList());
        Assert.Equal("0-7", m.TaskIsolation.ToList());
        Assert.Equal("0-7", m.Isolated.ToList());
        Assert.Equal("0-7\n", m.ReadSysfs("task_isolation"));
        Assert.Equal("0", m.HousekeepingMask.ToList());
    }

    [Fact]
    public void The_boot_cpu_is_cleared_from_nohz_full_for_timekeeping()
    {
        var m = Boot(4, "nohz_full=0-3");

        Assert.Equal(
            ["Kernel command line: nohz_full=0-3", "NO_HZ: Clearing 0 from nohz_full range for timekeeping", "NO_HZ: Full dynticks CPUs: 1-3."],
            Messages(m));
        Assert.Equal(KernelLogLevel.Warning, m.Log[1].Level);
        Assert.Equal(KernelLogLevel.Info, m.Log[2].Level);
        Assert.Equal("1-3", m.NohzFull.ToList());
    }

    [Fact]
    public void Full_dynticks_is_announced_with_an_empty_set_when_only_the_boot_cpu_was_asked_for()
    {
        // as tick_nohz_init(): the line is printed whenever full dynticks runs, "CPUs: ." for an empty set.
        var m = Boot(4, "nohz_full=0");

        Assert.Equal(
            ["Kernel command line: nohz_full=0", "NO_HZ: Clearing 0 from nohz_full range for timekeeping", "NO_HZ: Full dynticks CPUs: ."],
            Messages(m));
        Assert.True(m.NohzFull.IsEmpty);
        Assert.Equal("0-3", m.HousekeepingMask.ToList());
        Assert.Equal("\n", m.ReadSysfs("nohz_full"));
    }

    [Fact]
    public void A_task_isolation_list_of_only_the_boot_cpu_runs_full_dynticks_with_an_empty_set()
    {
        var m = Boot(4, "task_isolation=0");

        Assert.Equal(
            ["Kernel command line: task_isolation=0", "NO_HZ: Clearing 0 from nohz_full range for timekeeping", "NO_HZ: Full dynticks CPUs: ."],
            Messages(m));
        Assert.True(m.NohzFull.IsEmpty);
        Assert.Equal("0", m.TaskIsolation.ToList());
    }

    [Fact]
    public void A_bad_nohz_full_list_is_logged_and_alone_starts_no_full_dynticks_but_its_parsed_bits_stay_in_the_mask()
    {
        // as tick_nohz_full_setup() with a static tick_nohz_full_mask: cpulist_parse() set 1-3 before the error,
        // tick_nohz_full_running stays false, and print_cpus_nohz_full() shows the mask as it is.
        var m = Boot(8, "nohz_full=1-3,x");

        Assert.Equal(["Kernel command line: nohz_full=1-3,x", "NO_HZ: Incorrect nohz_full cpumask"], Messages(m));
        Assert.True(m.NohzFull.IsEmpty);
        Assert.Equal("0-7", m.HousekeepingMask.ToList());
        Assert.Equal("1-3\n", m.ReadSysfs("nohz_full"));
    }

    [Fact]
    public void The_bits_a_bad_nohz_full_list_parsed_are_full_dynticks_once_task_isolation_starts_it()
    {
        var m = Boot(8, "nohz_full=0-3,x task_isolation=6");

        Assert.Equal(
            [
                "Kernel command line: nohz_full=0-3,x task_isolation=6",
                "NO_HZ: Incorrect nohz_full cpumask",
                "NO_HZ: Clearing 0 from nohz_full range for timekeeping",
                "NO_HZ: Full dynticks CPUs: 1-3,6.",
            ],
            Messages(m));
        Assert.Equal("1-3,6", m.NohzFull.ToList());
        Assert.Equal("1-3,6\n", m.ReadSysfs("nohz_full"));
        Assert.Equal("6", m.TaskIsolation.ToList());
    }

    [Fact]
    public void A_good_nohz_full_then_a_bad_one_keeps_full_dynticks_running_with_the_second_lists_bits()
    {
        // cpulist_parse() zeroes the mask before parsing; nothing clears tick_nohz_full_running once set.
        var m = Boot(8, "nohz_full=1-7 nohz_full=2,x");

        Assert.Equal(
            [
                "Kernel command line: nohz_full=1-7 nohz_full=2,x",
                "NO_HZ: Incorrect nohz_full cpumask",
                "NO_HZ: Full dynticks CPUs: 2.",
            ],
            Messages(m));
        Assert.Equal("2", m.NohzFull.ToList());
    }

    [Fact]
    public void Setup_messages_come_in_command_line_order_before_the_tick_init_ones()
    {
        var m = Boot(8, "nohz_full=bad task_isolation=0-2,99");

        Assert.Equal(
            [
                "Kernel command line: nohz_full=bad task_isolation=0-2,99",
                "NO_HZ: Incorrect nohz_full cpumask",
                "task_isolation: Incorrect cpumask '0-2,99'",
                "NO_HZ: Clearing 0 from nohz_full range for timekeeping",
                "NO_HZ: Full dynticks CPUs: 1-2.",
            ],
            Messages(m));
    }

    [Fact]
    public void Boot_log_lines_are_at_time_zero_in_dmesg_form()
    {
        var m = Boot(8, "task_isolation=1-7");

        Assert.All(m.Log, l => Assert.Equal(0, l.TimeNs));
        Assert.Equal("[    0.000000] NO_HZ: Full dynticks CPUs: 1-7.", m.Log[^1].ToString());
    }

    [Fact]
    public void Task_isolation_all_isolates_every_cpu_but_the_boot_cpu()
    {
        var m = Boot(8, "", TaskIsolationAll);

        Assert.Equal("1-7", m.TaskIsolation.ToList());
        Assert.Equal("1-7", m.NohzFull.ToList());
        Assert.Equal("1-7", m.Isolated.ToList());
        Assert.Equal(["Kernel command line: ", "NO_HZ: Full dynticks CPUs: 1-7."], Messages(m));
    }

    [Fact]
    public void Task_isolation_all_yields_to_the_boot_argument() =>
        Assert.Equal("2-3", Boot(8, "task_isolation=2-3", TaskIsolationAll).TaskIsolation.ToList());

    [Fact]
    public void Task_isolation_all_on_one_cpu_isolates_nothing()
    {
        var m = Boot(1, "", TaskIsolationAll);

        Assert.True(m.TaskIsolation.IsEmpty);
        Assert.True(m.NohzFull.IsEmpty);
        Assert.Equal(["Kernel command line: "], Messages(m));
    }

    [Fact]
    public void Without_task_isolation_config_its_parameters_are_unknown_and_its_file_is_absent()
    {
        var m = Boot(8, "task_isolation=1-7 task_isolation_debug", NoTaskIsolation);

        Assert.True(m.TaskIsolation.IsEmpty);
        Assert.True(m.NohzFull.IsEmpty);
        Assert.False(m.TaskIsolationDebug);
        Assert.Equal(["task_isolation=1-7", "task_isolation_debug"], m.UnknownParameters.Select(p => p.ToString()));
        Assert.Null(m.ReadSysfs("task_isolation"));
        Assert.DoesNotContain(m.SysfsFiles, f => f.Name == "task_isolation");
    }

    [Fact]
    public void Without_nohz_full_config_nohz_full_is_unknown_and_its_file_is_absent()
    {
        var m = Boot(8, "nohz_full=1-7", NoNohzFull);

        Assert.True(m.NohzFull.IsEmpty);
        Assert.Equal(["nohz_full=1-7"], m.UnknownParameters.Select(p => p.ToString()));
        Assert.Null(m.ReadSysfs("nohz_full"));
        Assert.Equal(["possible", "present", "online", "isolated"], m.SysfsFiles.Select(f => f.Name));
        Assert.Equal(["Kernel command line: nohz_full=1-7"], Messages(m));
    }

    [Fact]
    public void Isolcpus_flag_form_isolates_from_the_domain_and_the_tick()
    {
        var m = Boot(8, "isolcpus=nohz,domain,1-7");

        Assert.Equal("1-7", m.Isolated.ToList());
        Assert.Equal("1-7", m.NohzFull.ToList());
        Assert.True(m.TaskIsolation.IsEmpty);
        Assert.Equal(["Kernel command line: isolcpus=nohz,domain,1-7", "NO_HZ: Full dynticks CPUs: 1-7."], Messages(m));
    }

    [Fact]
    public void Isolcpus_with_only_nohz_does_not_isolate_from_the_domain()
    {
        var m = Boot(8, "isolcpus=nohz,2-3");

        Assert.True(m.Isolated.IsEmpty);
        Assert.Equal("2-3", m.NohzFull.ToList());
    }

    [Fact]
    public void Isolcpus_managed_irq_is_recorded()
    {
        var m = Boot(8, "isolcpus=domain,managed_irq,2-3");

        Assert.Equal("2-3", m.Isolated.ToList());
        Assert.Equal("2-3", m.ManagedIrqIsolated.ToList());
        Assert.True(m.NohzFull.IsEmpty);
    }

    [Fact]
    public void Isolcpus_unknown_flag_is_skipped_with_a_message()
    {
        var m = Boot(8, "isolcpus=foo,1-3");

        Assert.Equal(["Kernel command line: isolcpus=foo,1-3", "isolcpus: Skipped unknown flag foo"], Messages(m));
        Assert.Equal(KernelLogLevel.Info, m.Log[1].Level);
        Assert.Equal("1-3", m.Isolated.ToList());
    }

    [Fact]
    public void Isolcpus_invalid_flag_rejects_the_parameter()
    {
        var m = Boot(8, "isolcpus=f00,1-3");

        Assert.Equal(["Kernel command line: isolcpus=f00,1-3", "isolcpus: Invalid flag f00"], Messages(m));
        Assert.True(m.Isolated.IsEmpty);
        Assert.Equal(["isolcpus=f00,1-3"], m.UnknownParameters.Select(p => p.ToString()));
    }

    [Fact]
    public void Isolcpus_nohz_without_nohz_full_config_is_refused()
    {
        var m = Boot(8, "isolcpus=nohz,1-3", NoNohzFull);

        Assert.Equal(
            ["Kernel command line: isolcpus=nohz,1-3", "Housekeeping: nohz unsupported. Build with CONFIG_NO_HZ_FULL"],
            Messages(m));
        Assert.True(m.Isolated.IsEmpty);
        Assert.Single(m.UnknownParameters);
    }

    [Fact]
    public void A_bad_isolcpus_list_is_silent_and_keeps_its_earlier_regions_as_in_4_7()
    {
        var m = Boot(8, "isolcpus=1-3,x");

        Assert.Equal("1-3", m.Isolated.ToList());
        Assert.Equal(["Kernel command line: isolcpus=1-3,x"], Messages(m));
        Assert.Empty(m.UnknownParameters);
    }

    [Fact]
    public void Rcu_nocbs_adds_to_the_full_dynticks_cpus() =>
        Assert.Equal("2-3,5-6", Boot(8, "rcu_nocbs=2-3 nohz_full=5-6").RcuNocbs.ToList());

    [Fact]
    public void Without_rcu_nocb_cpu_rcu_nocbs_is_an_unknown_parameter()
    {
        var config = KernelConfig.Default with { NoHzFull = false, TaskIsolation = false, RcuNocbCpu = false };

        var m = Boot(8, "rcu_nocbs=2-3", config);

        Assert.True(m.RcuNocbs.IsEmpty);
        Assert.Equal(["rcu_nocbs=2-3"], m.UnknownParameters.Select(p => p.ToString()));
    }

    [Fact]
    public void Irqaffinity_always_includes_the_boot_cpu()
    {
        Assert.Equal("0,2-3", Boot(8, "irqaffinity=2-3").IrqAffinity.ToList());
        Assert.Equal("0", Boot(8, "irqaffinity=x").IrqAffinity.ToList());
    }

    [Theory]
    [InlineData("task_isolation_debug")]
    [InlineData("task-isolation-debug")]
    [InlineData("task_isolation_debug=0")]
    public void Task_isolation_debug_is_a_flag_matched_by_prefix_as_setup_does(string parameter)
    {
        var m = Boot(8, parameter);

        Assert.True(m.TaskIsolationDebug);
        Assert.Empty(m.UnknownParameters);
    }

    [Fact]
    public void Unknown_parameters_are_kept_in_order()
    {
        var m = Boot(8, "BOOT_IMAGE=/vmlinuz quiet task_isolation=1 root=/dev/sda1 splash");

        Assert.Equal(["BOOT_IMAGE=/vmlinuz", "quiet", "root=/dev/sda1", "splash"], m.UnknownParameters.Select(p => p.ToString()));
        Assert.Equal("1", m.TaskIsolation.ToList());
    }

    [Fact]
    public void A_parameter_name_without_equals_is_not_the_list_parameter()
    {
        var m = Boot(8, "nohz_full task_isolation");

        Assert.Equal(2, m.UnknownParameters.Length);
        Assert.True(m.NohzFull.IsEmpty);
    }

    [Fact]
    public void Dashes_and_underscores_in_names_are_alike() =>
        Assert.Equal("1-3", Boot(8, "nohz-full=1-3").NohzFull.ToList());

    [Fact]
    public void A_quoted_value_is_unquoted() =>
        Assert.Equal("1-3", Boot(8, "task_isolation=\"1-3\"").TaskIsolation.ToList());

    [Fact]
    public void A_repeated_parameter_takes_its_last_value() =>
        Assert.Equal("5", Boot(8, "task_isolation=1-3 task_isolation=5").TaskIsolation.ToList());

    [Fact]
    public void Parameters_after_double_dash_go_to_init_not_to_the_kernel()
    {
        var m = Boot(8, "quiet -- task_isolation=1");

        Assert.True(m.TaskIsolation.IsEmpty);
        Assert.Equal(["quiet"], m.UnknownParameters.Select(p => p.ToString()));
        Assert.Equal(["task_isolation=1"], m.CommandLine.InitArguments.ToArray());
    }

    [Fact]
    public void Large_machines_boot_with_lists_using_N()
    {
        var m = Boot(4096, "task_isolation=1-N");

        Assert.Equal("1-4095", m.TaskIsolation.ToList());
        Assert.Equal(4096, m.NohzFull.NBits);
    }

    [Fact]
    public void The_configuration_and_arch_are_kept()
    {
        var m = BootedMachine.Boot(2, MachineArch.Tile, KernelConfig.Default with { Hz = 100 }, "", Sysctl.Default with { VmStatIntervalSeconds = 2 });

        Assert.Equal(2, m.NrCpus);
        Assert.Equal(MachineArch.Tile, m.Arch);
        Assert.Equal(100, m.Config.Hz);
        Assert.Equal(2, m.Sysctl.VmStatIntervalSeconds);
    }

    [Fact]
    public void An_invalid_configuration_does_not_boot() =>
        Assert.Throws<ConfigException>(() => Boot(8, "", KernelConfig.Default with { NoHzFull = false }));

    [Theory]
    [InlineData(0)]
    [InlineData(CpuMask.MaxBits + 1)]
    public void A_cpu_count_outside_the_model_does_not_boot(int nrCpus) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Boot(nrCpus, ""));

    private static BootedMachine Boot(int nrCpus, string cmdline, KernelConfig? config = null) =>
        BootedMachine.Boot(nrCpus, MachineArch.X86_64, config ?? KernelConfig.Default, cmdline);

    private static string[] Messages(BootedMachine m) => [.. m.Log.Select(l => l.Message)];
}
