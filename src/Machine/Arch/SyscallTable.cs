using System.Collections.Frozen;

namespace TaskIsolation.Machine.Arch;

/// <summary>
/// One architecture's system call numbers, name ↔ number (the kernel's <c>__NR_*</c> constants). Only calls whose
/// numbers the model is sure of are listed; a call the architecture lacks (asm-generic has no <c>fork</c>, only
/// <c>clone</c>) is simply absent. Immutable.
/// </summary>
public sealed class SyscallTable
{
    private readonly FrozenDictionary<string, int> _byName;
    private readonly FrozenDictionary<int, string> _byNumber;

    /// <summary>A table from (name, number) pairs; names and numbers must each be unique.</summary>
    /// <exception cref="ArgumentException">A name or a number appears twice, or a number is negative.</exception>
    public SyscallTable(IEnumerable<KeyValuePair<string, int>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var byNumber = new Dictionary<int, string>();
        foreach (var (name, nr) in entries)
        {
            if (nr < 0)
            {
                throw new ArgumentException($"syscall {name} has a negative number {nr}", nameof(entries));
            }

            if (!byName.TryAdd(name, nr))
            {
                throw new ArgumentException($"syscall {name} listed twice", nameof(entries));
            }

            if (!byNumber.TryAdd(nr, name))
            {
                throw new ArgumentException($"syscall number {nr} given to both {byNumber[nr]} and {name}", nameof(entries));
            }
        }

        _byName = byName.ToFrozenDictionary(StringComparer.Ordinal);
        _byNumber = byNumber.ToFrozenDictionary();
    }

    /// <summary>Every (name, number) pair, in no particular order.</summary>
    public IReadOnlyDictionary<string, int> ByName => _byName;

    /// <summary>The number of the call named <paramref name="name"/> (as in <c>__NR_name</c>).</summary>
    /// <exception cref="KeyNotFoundException">The architecture has no such call in this table.</exception>
    public int this[string name] =>
        _byName.TryGetValue(name, out var nr)
            ? nr
            : throw new KeyNotFoundException($"no syscall named '{name}' in this table");

    /// <summary>The number of the call named <paramref name="name"/>, if the table has it.</summary>
    public bool TryGetNumber(string name, out int nr) => _byName.TryGetValue(name, out nr);

    /// <summary>The name of call <paramref name="nr"/>, if the table has it.</summary>
    public bool TryGetName(int nr, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name) =>
        _byNumber.TryGetValue(nr, out name);

    /// <summary>The name of call <paramref name="nr"/>, or null when the table does not list it.</summary>
    public string? NameOf(int nr) => _byNumber.GetValueOrDefault(nr);

    /// <summary>Whether the table lists a call of this name.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>
    /// x86_64 numbers (<c>arch/x86/entry/syscalls/syscall_64.tbl</c>, the 64-bit ABI; these numbers never change
    /// once assigned).
    /// </summary>
    public static SyscallTable X86_64 { get; } = new(new Dictionary<string, int>
    {
        ["read"] = 0,
        ["write"] = 1,
        ["open"] = 2,
        ["close"] = 3,
        ["mmap"] = 9,
        ["mprotect"] = 10,
        ["munmap"] = 11,
        ["brk"] = 12,
        ["rt_sigaction"] = 13,
        ["rt_sigprocmask"] = 14,
        ["rt_sigreturn"] = 15,
        ["ioctl"] = 16,
        ["sched_yield"] = 24,
        ["madvise"] = 28,
        ["nanosleep"] = 35,
        ["getpid"] = 39,
        ["clone"] = 56,
        ["fork"] = 57,
        ["vfork"] = 58,
        ["execve"] = 59,
        ["exit"] = 60,
        ["wait4"] = 61,
        ["kill"] = 62,
        ["getppid"] = 110,
        ["mlock"] = 149,
        ["munlock"] = 150,
        ["prctl"] = 157,
        ["gettid"] = 186,
        ["futex"] = 202,
        ["sched_setaffinity"] = 203,
        ["sched_getaffinity"] = 204,
        ["clock_gettime"] = 228,
        ["clock_nanosleep"] = 230,
        ["exit_group"] = 231,
        ["timer_settime"] = 223,
        ["tgkill"] = 234,
        ["openat"] = 257,
    });

    /// <summary>
    /// The asm-generic numbers (<c>include/uapi/asm-generic/unistd.h</c>) that arm64 and tile (TILE-Gx, 64-bit)
    /// both use. There is no <c>fork</c>, <c>vfork</c> or <c>open</c>: user space calls <c>clone</c> and
    /// <c>openat</c>.
    /// </summary>
    public static SyscallTable AsmGeneric { get; } = new(new Dictionary<string, int>
    {
        ["openat"] = 56,
        ["close"] = 57,
        ["read"] = 63,
        ["write"] = 64,
        ["exit"] = 93,
        ["exit_group"] = 94,
        ["futex"] = 98,
        ["nanosleep"] = 101,
        ["timer_settime"] = 110,
        ["clock_gettime"] = 113,
        ["clock_nanosleep"] = 115,
        ["sched_setaffinity"] = 122,
        ["sched_getaffinity"] = 123,
        ["sched_yield"] = 124,
        ["kill"] = 129,
        ["tgkill"] = 131,
        ["rt_sigaction"] = 134,
        ["rt_sigprocmask"] = 135,
        ["rt_sigreturn"] = 139,
        ["prctl"] = 167,
        ["getpid"] = 172,
        ["getppid"] = 173,
        ["gettid"] = 178,
        ["brk"] = 214,
        ["munmap"] = 215,
        ["clone"] = 220,
        ["execve"] = 221,
        ["mmap"] = 222,
        ["mprotect"] = 226,
        ["mlock"] = 228,
        ["munlock"] = 229,
        ["madvise"] = 233,
        ["wait4"] = 260,
    });
}
