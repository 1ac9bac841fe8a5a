using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.V13;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Tests.Abi;

public class KernelLogLineTests
{
    [Fact]
    public void Isolation_loss_prints_as_dmesg_shows_it()
    {
        var line = KernelLogLine.Warn(KernelEntryV13.LostMessage(new TaskIdentity("spin", 1234), "syscall 1"));

        Assert.Equal(["[    5.123456] spin/1234: task_isolation mode lost due to syscall 1"], line.ToDmesgLines(5_123_456_789L));
        Assert.Equal(KernelLogLevel.Warning, line.Level);
    }

    [Fact]
    public void A_two_line_message_prints_both_lines_under_one_timestamp()
    {
        var context = new PrctlContext(
            new TaskIdentity("nosig", 42), IsolationFlags.None, CpuMask.Full(4), 1, CpuMask.Range(4, 1, 3), true);
        var warning = Assert.Single(PrctlV13.Set(IsolationFlags.EnabledNoSig, context).Log);

        Assert.Equal(
            [
                "[    1.000000] nosig/42: enabling non-signalling task isolation",
                "[    1.000000] and not bound to a single task isolation core",
            ],
            warning.ToDmesgLines(1_000_000_000L));
    }
}
