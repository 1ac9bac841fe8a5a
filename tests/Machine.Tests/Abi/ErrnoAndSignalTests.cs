using TaskIsolation.Machine.Abi;

namespace TaskIsolation.Machine.Tests.Abi;

public class ErrnoAndSignalTests
{
    [Theory]
    [InlineData(Errno.EPERM, 1)]
    [InlineData(Errno.ESRCH, 3)]
    [InlineData(Errno.EAGAIN, 11)]
    [InlineData(Errno.EINVAL, 22)]
    [InlineData(Errno.ERANGE, 34)]
    [InlineData(Errno.ENOSYS, 38)]
    [InlineData(Errno.EOVERFLOW, 75)]
    [InlineData(Errno.ERESTARTNOINTR, 513)]
    public void Errno_values_are_the_generic_linux_ones(int value, int expected) => Assert.Equal(expected, value);

    [Fact]
    public void Errno_names_print_and_parse()
    {
        Assert.Equal("EINVAL", Errno.Name(22));
        Assert.Equal("EINVAL", Errno.Name(-22));
        Assert.Equal("ERESTARTNOINTR", Errno.Name(513));
        Assert.Equal("4000", Errno.Name(4000));
        Assert.Equal(Errno.EAGAIN, Errno.Parse("EAGAIN"));
        Assert.Equal(Errno.EAGAIN, Errno.Parse("eagain"));
        Assert.Equal(22, Errno.Parse("22"));
        Assert.False(Errno.TryParse("EWHATEVER", out var e));
        Assert.Equal(0, e);
        Assert.Throws<FormatException>(() => Errno.Parse("-1"));
    }

    [Fact]
    public void Syscall_return_values_print_as_negated_names()
    {
        Assert.Equal("-EINVAL", Errno.FormatReturn(-22));
        Assert.Equal("-ERESTARTNOINTR", Errno.FormatReturn(-513));
        Assert.Equal("0", Errno.FormatReturn(0));
        Assert.Equal("2561", Errno.FormatReturn(2561));
    }

    [Theory]
    [InlineData(Signal.SIGKILL, 9)]
    [InlineData(Signal.SIGUSR1, 10)]
    [InlineData(Signal.SIGSEGV, 11)]
    [InlineData(Signal.SIGUSR2, 12)]
    [InlineData(Signal.SIGALRM, 14)]
    [InlineData(Signal.SIGTERM, 15)]
    [InlineData(Signal.SIGCHLD, 17)]
    public void Signal_values_are_the_generic_linux_ones(int value, int expected) => Assert.Equal(expected, value);

    [Fact]
    public void Signal_names_print_and_parse()
    {
        Assert.Equal("SIGUSR1", Signal.Name(10));
        Assert.Equal("SIGKILL", Signal.Name(9));
        Assert.Equal("0", Signal.Name(0));
        Assert.Equal("40", Signal.Name(40));
        Assert.Equal(10, Signal.Parse("SIGUSR1"));
        Assert.Equal(10, Signal.Parse("usr1"));
        Assert.Equal(0, Signal.Parse("0"));
        Assert.Equal(64, Signal.Parse("64"));
        Assert.False(Signal.TryParse("65", out var s));
        Assert.Equal(0, s);
        Assert.Throws<FormatException>(() => Signal.Parse("SIGFOO"));
    }
}
