namespace TaskIsolation.Machine.Arch;

/// <summary>The architectures the series supports (docs/model.md §2). The per-arch facts live in <c>ArchInfo</c>.</summary>
public enum Arch
{
    /// <summary>x86_64, the default.</summary>
    X86_64,

    /// <summary>arm64: TLB flushes are broadcast instructions, not IPIs.</summary>
    Arm64,

    /// <summary>tile (TILE-Gx): asm-generic syscall numbers; its clockevent has no oneshot-stopped state.</summary>
    Tile,
}
