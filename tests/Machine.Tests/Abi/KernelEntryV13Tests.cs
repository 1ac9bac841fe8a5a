using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.V13;
using TaskIsolation.Machine.Arch;

namespace TaskIsolation.Machine.Tests.Abi;

public class KernelEntryV13Tests
{
    private static readonly TaskIdentity Spin = new("spin", 1234);

    [Fact]
    public void Syscall_while_isolated_kills_with_SIGKILL()
    {
        var write = ArchInfo.X86_64.Syscalls["write"];

        var d = KernelEntryV13.OnSyscall(ArchInfo.X86_64, IsolationFlags.Enabled, Spin, write);

        Assert.Equal(KernelEntryOutcome.IsolationLost, d.Outcome);
        Assert.Equal(Signal.SIGKILL, d.Response.SignalSent);
        Assert.False(d.RunsSyscall);
        Assert.Equal(-513, d.ReturnValue);
    }

    [Fact]
    public void Syscall_while_isolated_with_usersig_sends_the_chosen_signal()
    {
        var d = KernelEntryV13.OnSyscall(
            ArchInfo.X86_64, IsolationFlags.EnabledWithSignal(Signal.SIGUSR1), Spin, ArchInfo.X86_64.Syscalls["write"]);

        Assert.Equal(Signal.SIGUSR1, d.Response.SignalSent);
    }

    [Fact]
    public void Syscall_loss_logs_then_clears_then_signals()
    {
        var d = KernelEntryV13.OnSyscall(ArchInfo.Arm64, IsolationFlags.Enabled, Spin, 64);

        Assert.Equal<IsolationAction>(
            [
                new IsolationAction.Log(KernelLogLine.Lost("spin/1234: task_isolation mode lost due to syscall 64", Spin, "syscall 64")),
                IsolationAction.ClearFlags.Instance,
                new IsolationAction.SendSignal(Signal.SIGKILL),
            ],
            d.Response.Actions);
        Assert.True(d.Response.ClearsFlags);
    }

    [Theory]
    [InlineData("prctl")]
    [InlineData("exit")]
    [InlineData("exit_group")]
    public void Exempt_syscalls_run_and_keep_isolation_on_every_arch(string name)
    {
        foreach (var arch in new[] { ArchInfo.X86_64, ArchInfo.Arm64, ArchInfo.Tile })
        {
            var d = KernelEntryV13.OnSyscall(arch, IsolationFlags.Enabled, Spin, arch.Syscalls[name]);

            Assert.Equal(KernelEntryOutcome.Exempt, d.Outcome);
            Assert.True(d.RunsSyscall);
            Assert.Null(d.ReturnValue);
            Assert.True(d.Response.IsEmpty);
        }
    }

    [Fact]
    public void Exemption_goes_by_the_arch_numbers()
    {
        // 60 is exit on x86_64 but another call on asm-generic, where exit is 93.
        Assert.True(KernelEntryV13.IsExemptSyscall(ArchInfo.X86_64, 60));
        Assert.False(KernelEntryV13.IsExemptSyscall(ArchInfo.Arm64, 60));
        Assert.True(KernelEntryV13.IsExemptSyscall(ArchInfo.Arm64, 93));
        Assert.False(KernelEntryV13.IsExemptSyscall(ArchInfo.X86_64, 93));
        Assert.True(KernelEntryV13.IsExemptSyscall(ArchInfo.Tile, 167));
        Assert.False(KernelEntryV13.IsExemptSyscall(ArchInfo.Tile, 157));
    }

    [Fact]
    public void Nosig_syscall_runs_and_isolation_stays()
    {
        var d = KernelEntryV13.OnSyscall(ArchInfo.X86_64, IsolationFlags.EnabledNoSig, Spin, 1);

        Assert.Equal(KernelEntryOutcome.AllowedNoSig, d.Outcome);
        Assert.True(d.RunsSyscall);
        Assert.True(d.Response.IsEmpty);
    }

    [Fact]
    public void Syscall_without_isolation_is_not_checked()
    {
        var d = KernelEntryV13.OnSyscall(ArchInfo.X86_64, IsolationFlags.None, Spin, 1);

        Assert.Equal(KernelEntryOutcome.NotIsolated, d.Outcome);
        Assert.True(d.RunsSyscall);
    }

    [Fact]
    public void Page_fault_while_isolated_kills_with_the_fault_address_as_reason()
    {
        var d = KernelEntryV13.OnPageFault(IsolationFlags.Enabled, Spin, 0x7f12_3456_7000);

        Assert.Equal(KernelEntryOutcome.IsolationLost, d.Outcome);
        Assert.Equal(
            "spin/1234: task_isolation mode lost due to page fault at 0x7f1234567000",
            Assert.Single(d.Response.LogLines).Text);
        Assert.Equal(Signal.SIGKILL, d.Response.SignalSent);
        Assert.True(d.RunsSyscall);
        Assert.Null(d.ReturnValue);
    }

    [Fact]
    public void Page_fault_with_usersig_sends_SIGUSR1()
    {
        var d = KernelEntryV13.OnPageFault(IsolationFlags.EnabledWithSignal(Signal.SIGUSR1), Spin, 0x1000);

        Assert.Equal(Signal.SIGUSR1, d.Response.SignalSent);
    }

    [Fact]
    public void Nosig_page_fault_is_silent()
    {
        var d = KernelEntryV13.OnPageFault(IsolationFlags.EnabledNoSig, Spin, 0x1000);

        Assert.Equal(KernelEntryOutcome.AllowedNoSig, d.Outcome);
        Assert.True(d.Response.IsEmpty);
    }

    [Fact]
    public void Tile_unaligned_fixup_while_isolated_kills()
    {
        var d = KernelEntryV13.OnUnalignedFixup(ArchInfo.Tile, IsolationFlags.Enabled, Spin, 0x10a40);

        Assert.Equal(
            "spin/1234: task_isolation mode lost due to unaligned JIT at 0x10a40",
            Assert.Single(d.Response.LogLines).Text);
        Assert.Equal(Signal.SIGKILL, d.Response.SignalSent);
    }

    [Fact]
    public void Unaligned_fixup_on_an_arch_without_one_is_a_model_error() =>
        Assert.Throws<InvalidOperationException>(
            () => KernelEntryV13.OnUnalignedFixup(ArchInfo.X86_64, IsolationFlags.Enabled, Spin, 0));

    [Fact]
    public void Signal_delivery_and_fork_leave_no_isolation_flags()
    {
        Assert.Equal(IsolationFlags.None, KernelEntryV13.FlagsAfterSignalDelivery);
        Assert.Equal(IsolationFlags.None, KernelEntryV13.ForkChildFlags);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(128)] // GET_SIG() keeps 7 bits: no flags word gives this
    public void Delivering_a_signal_no_flags_word_can_name_is_a_model_error(int signal) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelEntryV13.DeliverSignal(Spin, "x", signal));

    [Fact]
    public void A_break_with_an_unvalidated_signal_above_64_still_logs_clears_and_sends_it()
    {
        // task_isolation_set() never checked SET_SIG(100); the send itself is what fails (SignalDelivery.Generates).
        var d = KernelEntryV13.OnSyscall(ArchInfo.X86_64, IsolationFlags.EnabledWithSignal(100), Spin, 1);

        Assert.Equal(KernelEntryOutcome.IsolationLost, d.Outcome);
        Assert.False(d.RunsSyscall);
        Assert.Equal(
            new IsolationResponse([
                new IsolationAction.Log(KernelLogLine.Lost(KernelEntryV13.LostMessage(Spin, "syscall 1"), Spin, "syscall 1")),
                IsolationAction.ClearFlags.Instance,
                new IsolationAction.SendSignal(100),
            ]),
            d.Response);
    }

    [Fact]
    public void Long_command_names_are_cut_to_15_characters_as_the_kernel_keeps_them()
    {
        var task = new TaskIdentity("a-very-long-command-name", 7);

        Assert.Equal("a-very-long-com", task.Comm);
        Assert.Equal("a-very-long-com/7", task.ToString());
    }
}
