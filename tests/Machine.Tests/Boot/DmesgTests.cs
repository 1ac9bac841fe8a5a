using TaskIsolation.Machine.Boot;

namespace TaskIsolation.Machine.Tests.Boot;

public class DmesgTests
{
    [Theory]
    [InlineData(0L, "[    0.000000] hello")]
    [InlineData(5_123_456_000L, "[    5.123456] hello")]
    [InlineData(5_123_456_999L, "[    5.123456] hello")]
    [InlineData(999L, "[    0.000000] hello")]
    [InlineData(1_000L, "[    0.000001] hello")]
    [InlineData(12_345_000_000_000L, "[12345.000000] hello")]
    [InlineData(123_456_000_000_000L, "[123456.000000] hello")]
    public void Seconds_take_five_columns_and_microseconds_six_digits(long ns, string expected) =>
        Assert.Equal(expected, Dmesg.Format(ns, "hello"));

    [Fact]
    public void Negative_time_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Dmesg.Format(-1, "x"));

    [Fact]
    public void A_boot_log_line_prints_in_dmesg_form() =>
        Assert.Equal(
            "[    1.500000] NO_HZ: Full dynticks CPUs: 1-7.",
            new BootLogLine(1_500_000_000, KernelLogLevel.Info, "NO_HZ: Full dynticks CPUs: 1-7.").ToString());
}
