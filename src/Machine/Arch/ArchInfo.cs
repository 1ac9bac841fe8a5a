namespace TaskIsolation.Machine.Arch;

/// <summary>
/// What the model needs to know about one architecture (docs/model.md §2): its system call numbers, how it flushes other
/// CPUs' TLBs, whether its clockevent can be put in the oneshot-stopped state, and how it names the synchronous
/// exceptions that cost a task its isolation. One immutable instance per <see cref="Arch"/>, from <see cref="For"/>.
/// </summary>
public sealed record ArchInfo
{
    private ArchInfo(Arch arch, SyscallTable syscalls)
    {
        Arch = arch;
        Syscalls = syscalls;
    }

    /// <summary>The architecture.</summary>
    public Arch Arch { get; }

    /// <summary>Its canonical name (<c>x86_64</c>, <c>arm64</c>, <c>tile</c>).</summary>
    public string Name => ArchNames.Name(Arch);

    /// <summary>Its system call numbers.</summary>
    public SyscallTable Syscalls { get; }

    /// <summary><c>__NR_prctl</c>: 157 on x86_64, 167 on asm-generic.</summary>
    public int PrctlNr => Syscalls["prctl"];

    /// <summary><c>__NR_exit</c>: 60 on x86_64, 93 on asm-generic.</summary>
    public int ExitNr => Syscalls["exit"];

    /// <summary><c>__NR_exit_group</c>: 231 on x86_64, 94 on asm-generic.</summary>
    public int ExitGroupNr => Syscalls["exit_group"];

    /// <summary>
    /// Whether flushing a user address space from other CPUs interrupts them with an IPI. x86
    /// (<c>native_flush_tlb_others()</c>: a call-function IPI to every other CPU of the mm's cpumask, waited for)
    /// and tile (a hypervisor-delivered IPI) do; arm64 does not — it broadcasts a <c>TLBI ... IS</c> instruction
    /// that the hardware carries out on every CPU with no interrupt, which is why selftest 6 (§8) skips arm64.
    /// </summary>
    public required bool TlbFlushUsesIpi { get; init; }

    /// <summary>
    /// Whether the per-CPU clockevent device supports the oneshot-stopped state, so that stopping the tick also
    /// cancels the last programmed expiry. x86 (lapic) and arm64 (arch timer) do; tile's does not before patch 10
    /// of the series, so after the tick stops the last programmed timer still fires once (§9 R5).
    /// </summary>
    public required bool ClockeventHasOneshotStopped { get; init; }

    /// <summary><c>CONFIG_HAVE_ARCH_TASK_ISOLATION</c>: the series adds it to all three architectures.</summary>
    public required bool HaveArchTaskIsolation { get; init; }

    /// <summary>
    /// The name the architecture gives an unaligned-access fixup that it handles silently in the kernel, or null
    /// where there is none. Only tile has one: TILE-Gx fixes unaligned user loads and stores by JIT-compiling a
    /// replacement bundle sequence (<c>arch/tile/kernel/unaligned.c</c>), a trap the user never sees and so a
    /// "quiet exception" for isolation (§8 selftest 7).
    /// </summary>
    public string? UnalignedFixupName { get; private init; }

    /// <summary>The numbers printed as <c>vector=</c> by the x86-style ftrace interrupt events of §11.</summary>
    /// <remarks>
    /// Only x86 has these IDT vectors and the <c>irq_vectors</c> tracepoints. arm64 does not print them (see
    /// <see cref="IrqTraceStyle"/>); tile, whose 4.7 kernel has no per-vector tracepoints (its IPIs are hypervisor
    /// messages), prints them as a convention of the model, so that traces of one workload compare across arches.
    /// </remarks>
    public TraceVectors Vectors { get; private init; } = TraceVectors.X86;

    /// <summary>
    /// Which tracepoints the arch's interrupt entries and exits print in the ftrace text (docs/reports.md): x86's
    /// <c>irq_vectors</c> events (x86, and tile by the model's convention), or arm64's <c>ipi_entry</c>/<c>ipi_exit</c>
    /// and <c>irq_handler_entry</c>/<c>irq_handler_exit</c> for its timer.
    /// </summary>
    public IrqTraceStyle IrqTraceStyle { get; private init; } = IrqTraceStyle.X86Vectors;

    /// <summary>
    /// The Linux IRQ number of the per-CPU timer when it is an ordinary (per-CPU) interrupt, as
    /// <c>irq_handler_entry</c> prints it: arm64's <c>arch_timer</c> PPI, IRQ 3 on a GICv2 device-tree board such as
    /// QEMU's <c>virt</c> machine (<c>/proc/interrupts</c>: <c>3: ... GIC-0 27 Level arch_timer</c>); -1 where the timer
    /// has a vector of its own (x86's local APIC timer) or the model uses the vector convention (tile).
    /// </summary>
    public int TimerIrq { get; private init; } = -1;

    /// <summary>The timer interrupt's action name as <c>irq_handler_entry</c> prints it (<c>arch_timer</c> on arm64), or null.</summary>
    public string? TimerIrqName { get; private init; }

    /// <summary>
    /// The reason an isolated task loses isolation on a page fault that the kernel resolves without a signal:
    /// <c>page fault at %#lx</c> as the series' fault handlers pass to <c>task_isolation_quiet_exception()</c>.
    /// The kernel's <c>%#lx</c> prints <c>0x</c> even for zero (unlike glibc), so 0 gives <c>page fault at 0x0</c>.
    /// </summary>
    public static string PageFaultReason(ulong address) =>
        $"page fault at 0x{address.ToString("x", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The reason for a silent unaligned-access fixup at user <paramref name="pc"/>, <c>unaligned JIT at 0x&lt;pc&gt;</c>
    /// on tile; null on architectures without such a fixup. The wording is the model's: it names tile's JIT fixup
    /// in the same <c>&lt;what&gt; at %#lx</c> form as the page-fault reason.
    /// </summary>
    public string? UnalignedFixupReason(ulong pc) =>
        UnalignedFixupName is null
            ? null
            : $"{UnalignedFixupName} at 0x{pc.ToString("x", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>x86_64.</summary>
    public static ArchInfo X86_64 { get; } = new(Arch.X86_64, SyscallTable.X86_64)
    {
        TlbFlushUsesIpi = true,
        ClockeventHasOneshotStopped = true,
        HaveArchTaskIsolation = true,
    };

    /// <summary>arm64: asm-generic syscalls, broadcast TLB invalidation.</summary>
    public static ArchInfo Arm64 { get; } = new(Arch.Arm64, SyscallTable.AsmGeneric)
    {
        IrqTraceStyle = IrqTraceStyle.Arm64Ipi,
        TimerIrq = 3,
        TimerIrqName = "arch_timer",
        TlbFlushUsesIpi = false,
        ClockeventHasOneshotStopped = true,
        HaveArchTaskIsolation = true,
    };

    /// <summary>tile (TILE-Gx): asm-generic syscalls, IPI TLB flushes, no oneshot-stopped clockevent, JIT fixups.</summary>
    public static ArchInfo Tile { get; } = new(Arch.Tile, SyscallTable.AsmGeneric)
    {
        TlbFlushUsesIpi = true,
        ClockeventHasOneshotStopped = false,
        HaveArchTaskIsolation = true,
        UnalignedFixupName = "unaligned JIT",
    };

    /// <summary>The facts for <paramref name="arch"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="Arch"/>.</exception>
    public static ArchInfo For(Arch arch) => arch switch
    {
        Arch.X86_64 => X86_64,
        Arch.Arm64 => Arm64,
        Arch.Tile => Tile,
        _ => throw new ArgumentOutOfRangeException(nameof(arch), arch, "not an architecture the model knows"),
    };

    /// <summary>The canonical name.</summary>
    public override string ToString() => Name;
}
