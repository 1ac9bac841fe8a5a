using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.V13;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Tests.Abi;

public class PrctlV13Tests
{
    private const int NCpus = 8;
    private static readonly TaskIdentity Spin = new("spin", 1234);
    private static readonly CpuMask Map = CpuMask.Range(NCpus, 1, 7);

    private static PrctlContext PinnedTo(int cpu, bool canStopTick = true, IsolationFlags? current = null) =>
        new(Spin, current ?? IsolationFlags.None, CpuMask.Single(NCpus, cpu), cpu, Map, canStopTick);

    [Fact]
    public void Enable_pinned_to_an_isolation_cpu_succeeds_and_sets_tif()
    {
        var r = PrctlV13.Set(IsolationFlags.Enabled, PinnedTo(3));

        Assert.Equal(PrctlOutcome.FlagsSet, r.Outcome);
        Assert.Equal(0, r.ReturnValue);
        Assert.Equal(IsolationFlags.Enabled, r.Flags);
        Assert.True(r.TifTaskIsolation);
        Assert.Empty(r.Log);
    }

    [Fact]
    public void Enable_with_multi_cpu_affinity_fails_with_EINVAL()
    {
        var context = PinnedTo(3) with { Affinity = CpuMask.Range(NCpus, 0, 7) };

        var r = PrctlV13.Set(IsolationFlags.Enabled, context);

        Assert.Equal(PrctlOutcome.InvalidAffinity, r.Outcome);
        Assert.Equal(-Errno.EINVAL, r.ReturnValue);
        Assert.Equal(IsolationFlags.None, r.Flags);
        Assert.False(r.TifTaskIsolation);
    }

    [Fact]
    public void Enable_pinned_to_a_non_isolation_cpu_fails_with_EINVAL()
    {
        var r = PrctlV13.Set(IsolationFlags.Enabled, PinnedTo(0));

        Assert.Equal(PrctlOutcome.InvalidAffinity, r.Outcome);
        Assert.Equal(-Errno.EINVAL, r.ReturnValue);
    }

    [Fact]
    public void Enable_checks_the_cpu_it_runs_on_not_the_one_it_is_pinned_to()
    {
        var context = PinnedTo(3) with { Cpu = 0 };

        Assert.Equal(-Errno.EINVAL, PrctlV13.Set(IsolationFlags.Enabled, context).ReturnValue);
    }

    [Fact]
    public void Enable_while_a_tick_dependency_holds_fails_with_EAGAIN()
    {
        var r = PrctlV13.Set(IsolationFlags.Enabled, PinnedTo(3, canStopTick: false));

        Assert.Equal(PrctlOutcome.TickNotStoppable, r.Outcome);
        Assert.Equal(-Errno.EAGAIN, r.ReturnValue);
        Assert.Equal(IsolationFlags.None, r.Flags);
    }

    [Fact]
    public void EINVAL_is_checked_before_EAGAIN()
    {
        var r = PrctlV13.Set(IsolationFlags.Enabled, PinnedTo(0, canStopTick: false));

        Assert.Equal(-Errno.EINVAL, r.ReturnValue);
    }

    [Fact]
    public void Nosig_with_bad_affinity_warns_and_proceeds()
    {
        var context = PinnedTo(3) with { Affinity = CpuMask.Range(NCpus, 0, 7) };

        var r = PrctlV13.Set(IsolationFlags.EnabledNoSig, context);

        Assert.Equal(PrctlOutcome.FlagsSetWithWarning, r.Outcome);
        Assert.Equal(0, r.ReturnValue);
        Assert.Equal(IsolationFlags.EnabledNoSig, r.Flags);
        Assert.True(r.TifTaskIsolation);
        var line = Assert.Single(r.Log);
        Assert.Equal(KernelLogLevel.Warning, line.Level);
        Assert.Equal(
            "spin/1234: enabling non-signalling task isolation\nand not bound to a single task isolation core",
            line.Text);
    }

    [Fact]
    public void Nosig_never_returns_EAGAIN()
    {
        var r = PrctlV13.Set(IsolationFlags.EnabledNoSig, PinnedTo(3, canStopTick: false));

        Assert.Equal(PrctlOutcome.FlagsSet, r.Outcome);
        Assert.Equal(0, r.ReturnValue);
    }

    [Fact]
    public void Flags_zero_always_succeed_and_clear_isolation()
    {
        var everythingWrong = new PrctlContext(
            Spin, IsolationFlags.Enabled, CpuMask.Range(NCpus, 0, 7), 0, CpuMask.Empty(NCpus), CanStopTickNow: false);

        var r = PrctlV13.Set(IsolationFlags.None, everythingWrong);

        Assert.Equal(0, r.ReturnValue);
        Assert.Equal(IsolationFlags.None, r.Flags);
        Assert.False(r.TifTaskIsolation);
    }

    [Fact]
    public void Non_zero_flags_without_enable_are_checked_but_leave_tif_clear()
    {
        var sigOnly = new IsolationFlags(IsolationFlags.UserSigBit | IsolationFlags.SetSig(Signal.SIGUSR1));

        Assert.Equal(-Errno.EINVAL, PrctlV13.Set(sigOnly, PinnedTo(0)).ReturnValue);
        var ok = PrctlV13.Set(sigOnly, PinnedTo(3));
        Assert.Equal(0, ok.ReturnValue);
        Assert.Equal(sigOnly, ok.Flags);
        Assert.False(ok.TifTaskIsolation);
    }

    [Fact]
    public void Prctl_set_takes_the_flags_from_arg2()
    {
        var call = new PrctlCall(PrctlOptions.SetTaskIsolation, IsolationFlags.EnabledWithSignal(Signal.SIGUSR1).Word);

        var r = PrctlV13.Prctl(call, PinnedTo(3));

        Assert.Equal(0, r.ReturnValue);
        Assert.Equal(Signal.SIGUSR1, r.Flags.NotificationSignal);
    }

    [Fact]
    public void Prctl_set_keeps_only_the_low_32_bits_of_arg2()
    {
        var call = new PrctlCall(PrctlOptions.SetTaskIsolation, 0x1_0000_0000UL);

        var r = PrctlV13.Prctl(call, PinnedTo(0, current: IsolationFlags.Enabled));

        Assert.Equal(0, r.ReturnValue);
        Assert.Equal(IsolationFlags.None, r.Flags);
    }

    [Fact]
    public void Prctl_get_returns_the_flags_word()
    {
        var flags = IsolationFlags.EnabledWithSignal(Signal.SIGUSR1);

        var r = PrctlV13.Prctl(new PrctlCall(PrctlOptions.GetTaskIsolation), PinnedTo(3, current: flags));

        Assert.Equal(PrctlOutcome.FlagsReturned, r.Outcome);
        Assert.Equal(0x0a03, r.ReturnValue);
        Assert.Equal(flags, r.Flags);
        Assert.Equal(0x0a03, PrctlV13.Get(flags));
    }

    [Fact]
    public void Unknown_prctl_option_fails_with_EINVAL_and_changes_nothing()
    {
        var r = PrctlV13.Prctl(new PrctlCall(4242, 1), PinnedTo(3, current: IsolationFlags.Enabled));

        Assert.Equal(PrctlOutcome.UnknownOption, r.Outcome);
        Assert.Equal(-Errno.EINVAL, r.ReturnValue);
        Assert.Equal(IsolationFlags.Enabled, r.Flags);
    }

    [Theory]
    [InlineData(PrctlOptions.SetTaskIsolation, IsolationFlags.EnableBit | IsolationFlags.NoSigBits)] // NOSIG: no warning either
    [InlineData(PrctlOptions.SetTaskIsolation, IsolationFlags.EnableBit)]
    [InlineData(PrctlOptions.SetTaskIsolation, 0UL)]
    [InlineData(PrctlOptions.GetTaskIsolation, 0UL)]
    public void Without_CONFIG_TASK_ISOLATION_both_options_fall_to_default_and_fail_with_EINVAL(int option, ulong arg)
    {
        var r = PrctlV13.Prctl(new PrctlCall(option, arg), PinnedTo(3) with { Configured = false });

        Assert.Equal(PrctlOutcome.UnknownOption, r.Outcome);
        Assert.Equal(-Errno.EINVAL, r.ReturnValue);
        Assert.Equal(IsolationFlags.None, r.Flags);
        Assert.Empty(r.Log);
    }

    [Fact]
    public void Failed_set_keeps_the_previous_flags()
    {
        var r = PrctlV13.Set(IsolationFlags.Enabled, PinnedTo(0, current: IsolationFlags.EnabledNoSig));

        Assert.Equal(IsolationFlags.EnabledNoSig, r.Flags);
    }

    [Fact]
    public void Results_compare_by_value()
    {
        Assert.Equal(PrctlV13.Set(IsolationFlags.EnabledNoSig, PinnedTo(0)), PrctlV13.Set(IsolationFlags.EnabledNoSig, PinnedTo(0)));
    }
}
