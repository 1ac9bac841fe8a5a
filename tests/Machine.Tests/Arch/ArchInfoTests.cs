using TaskIsolation.Machine.Arch;
using ArchId = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Machine.Tests.Arch;

public class ArchInfoTests
{
    [Theory]
    [InlineData(ArchId.X86_64, 157, 60, 231)]
    [InlineData(ArchId.Arm64, 167, 93, 94)]
    [InlineData(ArchId.Tile, 167, 93, 94)]
    public void Prctl_exit_and_exit_group_numbers_follow_the_arch(ArchId arch, int prctl, int exit, int exitGroup)
    {
        var info = ArchInfo.For(arch);

        Assert.Equal(prctl, info.PrctlNr);
        Assert.Equal(exit, info.ExitNr);
        Assert.Equal(exitGroup, info.ExitGroupNr);
    }

    [Theory]
    [InlineData("read", 0, 63)]
    [InlineData("write", 1, 64)]
    [InlineData("getpid", 39, 172)]
    [InlineData("kill", 62, 129)]
    [InlineData("munmap", 11, 215)]
    [InlineData("mmap", 9, 222)]
    [InlineData("mlock", 149, 228)]
    [InlineData("close", 3, 57)]
    [InlineData("nanosleep", 35, 101)]
    [InlineData("clock_nanosleep", 230, 115)]
    [InlineData("sched_yield", 24, 124)]
    [InlineData("mprotect", 10, 226)]
    [InlineData("futex", 202, 98)]
    [InlineData("sched_setaffinity", 203, 122)]
    [InlineData("rt_sigaction", 13, 134)]
    [InlineData("getppid", 110, 173)]
    [InlineData("clone", 56, 220)]
    public void Common_syscalls_have_their_x86_64_and_asm_generic_numbers(string name, int x86, int generic)
    {
        Assert.Equal(x86, ArchInfo.X86_64.Syscalls[name]);
        Assert.Equal(generic, ArchInfo.Arm64.Syscalls[name]);
        Assert.Equal(generic, ArchInfo.Tile.Syscalls[name]);
    }

    [Fact]
    public void Asm_generic_has_no_fork_only_clone()
    {
        Assert.False(ArchInfo.Arm64.Syscalls.Contains("fork"));
        Assert.False(ArchInfo.Tile.Syscalls.TryGetNumber("fork", out _));
        Assert.Equal(57, ArchInfo.X86_64.Syscalls["fork"]);
        Assert.Throws<KeyNotFoundException>(() => ArchInfo.Arm64.Syscalls["fork"]);
    }

    [Fact]
    public void Syscall_numbers_map_back_to_names()
    {
        Assert.Equal("write", ArchInfo.X86_64.Syscalls.NameOf(1));
        Assert.Equal("write", ArchInfo.Arm64.Syscalls.NameOf(64));
        Assert.True(ArchInfo.Tile.Syscalls.TryGetName(167, out var name));
        Assert.Equal("prctl", name);
        Assert.Null(ArchInfo.X86_64.Syscalls.NameOf(100_000));
    }

    [Fact]
    public void A_syscall_table_rejects_duplicate_numbers()
    {
        var entries = new Dictionary<string, int> { ["a"] = 1, ["b"] = 1 };

        Assert.Throws<ArgumentException>(() => new SyscallTable(entries));
    }

    [Fact]
    public void Only_arm64_flushes_other_cpus_tlbs_without_an_ipi()
    {
        Assert.True(ArchInfo.X86_64.TlbFlushUsesIpi);
        Assert.False(ArchInfo.Arm64.TlbFlushUsesIpi);
        Assert.True(ArchInfo.Tile.TlbFlushUsesIpi);
    }

    [Fact]
    public void Only_tile_lacks_the_oneshot_stopped_clockevent_state()
    {
        Assert.True(ArchInfo.X86_64.ClockeventHasOneshotStopped);
        Assert.True(ArchInfo.Arm64.ClockeventHasOneshotStopped);
        Assert.False(ArchInfo.Tile.ClockeventHasOneshotStopped);
    }

    [Fact]
    public void Tile_patch_10_fix_is_expressible_as_a_variant_of_the_arch()
    {
        var fixedTile = ArchInfo.Tile with { ClockeventHasOneshotStopped = true };

        Assert.True(fixedTile.ClockeventHasOneshotStopped);
        Assert.Equal(ArchId.Tile, fixedTile.Arch);
    }

    [Theory]
    [InlineData(ArchId.X86_64)]
    [InlineData(ArchId.Arm64)]
    [InlineData(ArchId.Tile)]
    public void Every_supported_arch_has_arch_task_isolation(ArchId arch) =>
        Assert.True(ArchInfo.For(arch).HaveArchTaskIsolation);

    [Theory]
    [InlineData(0x7f0000001000UL, "page fault at 0x7f0000001000")]
    [InlineData(0xABCUL, "page fault at 0xabc")]
    [InlineData(0UL, "page fault at 0x0")]
    public void Page_fault_reason_prints_the_address_as_kernel_hash_lx(ulong address, string expected) =>
        Assert.Equal(expected, ArchInfo.PageFaultReason(address));

    [Fact]
    public void Only_tile_names_an_unaligned_fixup()
    {
        Assert.Equal("unaligned JIT at 0x10a40", ArchInfo.Tile.UnalignedFixupReason(0x10a40));
        Assert.Null(ArchInfo.X86_64.UnalignedFixupReason(0x10a40));
        Assert.Null(ArchInfo.Arm64.UnalignedFixupName);
    }

    [Fact]
    public void Trace_vectors_are_the_x86_ones_on_every_arch_that_prints_them()
    {
        foreach (var arch in Enum.GetValues<ArchId>())
        {
            var v = ArchInfo.For(arch).Vectors;
            Assert.Equal((239, 253, 252, 246), (v.LocalTimer, v.Reschedule, v.CallFunction, v.IrqWork));
        }

        Assert.Equal(IrqTraceStyle.X86Vectors, ArchInfo.X86_64.IrqTraceStyle);
        Assert.Equal(IrqTraceStyle.X86Vectors, ArchInfo.Tile.IrqTraceStyle);
        Assert.Equal(IrqTraceStyle.Arm64Ipi, ArchInfo.Arm64.IrqTraceStyle);
        Assert.Equal((3, "arch_timer"), (ArchInfo.Arm64.TimerIrq, ArchInfo.Arm64.TimerIrqName));
        Assert.Equal(-1, ArchInfo.X86_64.TimerIrq);
    }
}
