using TaskIsolation.Machine.Boot;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Machine.Tests.Boot;

public class KernelConfigTests
{
    [Fact]
    public void Defaults_are_a_kernel_built_for_task_isolation()
    {
        var c = KernelConfig.Default;

        Assert.True(c.NoHzFull);
        Assert.True(c.TaskIsolation);
        Assert.False(c.TaskIsolationAll);
        Assert.Equal(1000, c.Hz);
    }

    [Theory]
    [InlineData("NO_HZ_FULL=n", "TASK_ISOLATION=n")]
    [InlineData("TASK_ISOLATION=n", "NO_HZ_FULL=n")]
    public void Assignments_apply_in_any_order(string first, string second)
    {
        var c = KernelConfig.Parse([first, second], MachineArch.X86_64);

        Assert.False(c.NoHzFull);
        Assert.False(c.TaskIsolation);
    }

    [Theory]
    [InlineData("TASK_ISOLATION_ALL=y")]
    [InlineData("CONFIG_TASK_ISOLATION_ALL=y")]
    [InlineData("config_task_isolation_all=Y")]
    [InlineData(" TASK_ISOLATION_ALL = y ")]
    public void Names_take_an_optional_CONFIG_prefix_in_any_case(string assignment) =>
        Assert.True(KernelConfig.Default.With(assignment).TaskIsolationAll);

    [Theory]
    [InlineData(100)]
    [InlineData(250)]
    [InlineData(300)]
    [InlineData(1000)]
    public void HZ_takes_the_kconfig_choices(int hz) =>
        Assert.Equal(hz, KernelConfig.Parse([$"HZ={hz}"], MachineArch.Arm64).Hz);

    [Theory]
    [InlineData("HZ=200", "CONFIG_HZ must be one of 100, 250, 300, 1000, not '200'")]
    [InlineData("HZ=fast", "CONFIG_HZ must be one of 100, 250, 300, 1000, not 'fast'")]
    [InlineData("NO_HZ_FULL=m", "CONFIG_NO_HZ_FULL is a bool: use y or n, not 'm'")]
    [InlineData("TASK_ISOLATION=yes", "CONFIG_TASK_ISOLATION is a bool: use y or n, not 'yes'")]
    [InlineData("SMP=y", "unknown config option 'SMP' (known: NO_HZ_FULL, TASK_ISOLATION, TASK_ISOLATION_ALL, HZ, RCU_NOCB_CPU)")]
    [InlineData("TASK_ISOLATION", "config setting 'TASK_ISOLATION' is not NAME=VALUE")]
    [InlineData("=y", "config setting '=y' is not NAME=VALUE")]
    public void A_bad_setting_is_a_configuration_error_naming_it(string assignment, string message)
    {
        var ex = Assert.Throws<ConfigException>(() => KernelConfig.Default.With(assignment));

        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Task_isolation_without_nohz_full_is_an_error_naming_the_missing_dependency()
    {
        var ex = Assert.Throws<ConfigException>(() => KernelConfig.Parse(["NO_HZ_FULL=n"], MachineArch.X86_64));

        Assert.Equal("CONFIG_TASK_ISOLATION=y requires CONFIG_NO_HZ_FULL=y", ex.Message);
    }

    [Fact]
    public void Task_isolation_all_without_task_isolation_is_an_error_naming_the_missing_dependency()
    {
        var ex = Assert.Throws<ConfigException>(
            () => KernelConfig.Parse(["TASK_ISOLATION=n", "TASK_ISOLATION_ALL=y"], MachineArch.X86_64));

        Assert.Equal("CONFIG_TASK_ISOLATION_ALL=y requires CONFIG_TASK_ISOLATION=y", ex.Message);
    }

    [Fact]
    public void Every_unmet_dependency_is_reported()
    {
        var ex = Assert.Throws<ConfigException>(
            () => KernelConfig.Parse(["NO_HZ_FULL=n", "TASK_ISOLATION_ALL=y"], MachineArch.X86_64));

        Assert.Contains("requires CONFIG_NO_HZ_FULL=y", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("requires CONFIG_TASK_ISOLATION=y", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Task_isolation_all_with_its_dependencies_is_valid() =>
        Assert.True(KernelConfig.Parse(["TASK_ISOLATION_ALL=y"], MachineArch.Tile).TaskIsolationAll);

    [Theory]
    [InlineData(MachineArch.X86_64)]
    [InlineData(MachineArch.Arm64)]
    [InlineData(MachineArch.Tile)]
    public void Every_arch_of_the_series_supports_task_isolation(MachineArch arch) =>
        Assert.True(KernelConfig.ArchHasTaskIsolation(arch));

    [Fact]
    public void An_arch_without_support_cannot_have_task_isolation()
    {
        var ex = Assert.Throws<ConfigException>(() => KernelConfig.Default.Validate((MachineArch)99));

        Assert.Contains("HAVE_ARCH_TASK_ISOLATION", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_hz_set_directly_is_checked_too() =>
        Assert.Throws<ConfigException>(() => (KernelConfig.Default with { Hz = 7 }).Validate(MachineArch.X86_64));

    [Fact]
    public void Options_print_as_dot_config_lines() =>
        Assert.Equal(
            ["CONFIG_NO_HZ_FULL=y", "CONFIG_TASK_ISOLATION=y", "# CONFIG_TASK_ISOLATION_ALL is not set", "CONFIG_HZ=1000", "CONFIG_RCU_NOCB_CPU=y"],
            KernelConfig.Default.ToKconfigLines());

    [Fact]
    public void No_hz_full_selects_rcu_nocb_cpu_so_it_cannot_be_turned_off()
    {
        // kernel/time/Kconfig in 4.7: config NO_HZ_FULL ... select RCU_NOCB_CPU (§9 R16 cannot happen on a nohz_full CPU).
        var ex = Assert.Throws<ConfigException>(() => KernelConfig.Parse(["RCU_NOCB_CPU=n"], MachineArch.X86_64));

        Assert.Contains("CONFIG_NO_HZ_FULL=y selects CONFIG_RCU_NOCB_CPU", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rcu_nocb_cpu_may_be_off_without_no_hz_full()
    {
        var c = KernelConfig.Parse(["NO_HZ_FULL=n", "TASK_ISOLATION=n", "RCU_NOCB_CPU=n"], MachineArch.X86_64);

        Assert.False(c.RcuNocbCpu);
        Assert.Contains("# CONFIG_RCU_NOCB_CPU is not set", c.ToKconfigLines());
    }
}

public class SysctlTests
{
    [Fact]
    public void Vm_stat_interval_defaults_to_one_second()
    {
        Assert.Equal(1, Sysctl.Default.VmStatIntervalSeconds);
        Assert.Equal(1_000_000_000L, Sysctl.Default.VmStatIntervalNs);
    }

    [Theory]
    [InlineData("vm.stat_interval=3")]
    [InlineData("vm/stat_interval=3")]
    [InlineData(" vm.stat_interval = 3 ")]
    public void Vm_stat_interval_is_set_as_sysctl_writes_it(string assignment) =>
        Assert.Equal(3, Sysctl.Default.With(assignment).VmStatIntervalSeconds);

    [Theory]
    [InlineData("vm.stat_interval=0")]
    [InlineData("vm.stat_interval=-1")]
    [InlineData("vm.stat_interval=1.5")]
    [InlineData("vm.dirty_ratio=5")]
    [InlineData("vm.stat_interval")]
    public void A_bad_sysctl_is_a_configuration_error(string assignment) =>
        Assert.Throws<ConfigException>(() => Sysctl.Default.With(assignment));
}
