using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Isolation;

namespace TaskIsolation.Machine.Tests.Isolation;

public sealed class IsolationReportsTests
{
    [Theory]
    [InlineData(PrctlOptions.SetTaskIsolation, 1ul, 0L, true)]
    [InlineData(PrctlOptions.SetTaskIsolation, 0x0a03ul, 0L, true)]
    [InlineData(PrctlOptions.SetTaskIsolation, 1ul, -22L, false)]
    [InlineData(PrctlOptions.SetTaskIsolation, 0ul, 0L, false)]
    [InlineData(PrctlOptions.GetTaskIsolation, 1ul, 1L, false)]
    public void Only_a_successful_enable_starts_a_new_isolation(int option, ulong arg, long result, bool starts) =>
        Assert.Equal(starts, IsolationReports.StartsIsolation(option, arg, result));

    [Fact]
    public void The_second_report_of_one_isolation_is_one_too_many()
    {
        Assert.False(IsolationReports.IsDoubleReport(0));
        Assert.True(IsolationReports.IsDoubleReport(1));
    }
}
