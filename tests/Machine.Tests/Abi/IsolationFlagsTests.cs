using TaskIsolation.Machine.Abi;

namespace TaskIsolation.Machine.Tests.Abi;

public class IsolationFlagsTests
{
    [Fact]
    public void The_flag_bits_are_those_of_the_series()
    {
        Assert.Equal(1u, IsolationFlags.EnableBit);
        Assert.Equal(2u, IsolationFlags.UserSigBit);
        Assert.Equal(10u << 8, IsolationFlags.SetSig(Signal.SIGUSR1));
        Assert.Equal(0x7fu << 8, IsolationFlags.SetSig(0xff));
        Assert.Equal(Signal.SIGUSR1, IsolationFlags.GetSig(0x0a03));
        Assert.Equal(IsolationFlags.UserSigBit, IsolationFlags.NoSigBits);
    }

    [Fact]
    public void Enable_alone_notifies_with_SIGKILL()
    {
        Assert.Equal(Signal.SIGKILL, IsolationFlags.Enabled.NotificationSignal);
        Assert.False(IsolationFlags.Enabled.IsNoSig);
    }

    [Fact]
    public void Usersig_with_SET_SIG_notifies_with_that_signal()
    {
        var flags = IsolationFlags.EnabledWithSignal(Signal.SIGUSR1);

        Assert.Equal(0x0a03u, flags.Word);
        Assert.Equal(Signal.SIGUSR1, flags.NotificationSignal);
    }

    [Fact]
    public void A_signal_field_without_usersig_is_ignored_in_v13()
    {
        var flags = new IsolationFlags(IsolationFlags.EnableBit | IsolationFlags.SetSig(Signal.SIGUSR1));

        Assert.Equal(Signal.SIGKILL, flags.NotificationSignal);
    }

    [Fact]
    public void Nosig_mode_is_signal_zero()
    {
        Assert.True(IsolationFlags.EnabledNoSig.IsNoSig);
        Assert.Equal(0, IsolationFlags.EnabledNoSig.NotificationSignal);
        Assert.Equal(3u, IsolationFlags.EnabledNoSig.Word);
    }

    [Fact]
    public void Flags_print_as_their_c_spelling()
    {
        Assert.Equal("0", IsolationFlags.None.ToString());
        Assert.Equal("ENABLE", IsolationFlags.Enabled.ToString());
        Assert.Equal("ENABLE|NOSIG", IsolationFlags.EnabledNoSig.ToString());
        Assert.Equal("ENABLE|USERSIG|SET_SIG(SIGUSR1)", IsolationFlags.EnabledWithSignal(Signal.SIGUSR1).ToString());
        Assert.Equal("ENABLE|0x10000", new IsolationFlags(0x10001).ToString());
    }
}
