using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Machine.Tests.Kernel;

public sealed class KernelMemoryTests
{
    [Fact]
    public void A_remote_clear_is_what_every_reader_sees_until_the_owner_stores_flags_again()
    {
        var m = new KernelMemory(4);
        m.Cpu(3).SetCurrent(101, "iso", IsolationFlags.Enabled.Word);
        Assert.Equal(IsolationFlags.Enabled.Word, m.IsolationFlagsOf(3));
        Assert.False(m.AnyIsolationFlagsClearedRemotely);

        // task_isolation_set_flags(p, 0) by a sender: every later reader sees 0, though CPU 3 still publishes its copy.
        Assert.True(m.ClearIsolationFlagsRemotely(101));
        Assert.False(m.ClearIsolationFlagsRemotely(101));
        Assert.Equal(0u, m.IsolationFlagsOf(3));
        Assert.True(m.AnyIsolationFlagsClearedRemotely);

        // The owner applies it once; a new prctl's store supersedes a clear it has not applied.
        Assert.True(m.TakeIsolationFlagsCleared(101));
        Assert.False(m.TakeIsolationFlagsCleared(101));
        Assert.False(m.AnyIsolationFlagsClearedRemotely);
        m.ClearIsolationFlagsRemotely(101);
        m.StoreIsolationFlags(101);
        Assert.Equal(IsolationFlags.Enabled.Word, m.IsolationFlagsOf(3));
    }
}
