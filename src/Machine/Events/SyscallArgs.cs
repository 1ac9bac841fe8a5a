using System.Globalization;
using TaskIsolation.Machine.Programs;

namespace TaskIsolation.Machine.Events;

/// <summary>
/// The six argument registers of a system call as <c>sys_enter</c> records them (<c>syscall_get_arguments()</c>), as far
/// as the model knows them: the scalars a step carries (a prctl's option and arguments, a signal number, an exit code, a
/// length, a target pid) and the flags the C library passes (<see cref="For"/>). What the model does not have, user
/// pointers above all, is 0. A value type, so an event carries it without an allocation.
/// </summary>
public readonly record struct SyscallArgs(ulong A0, ulong A1, ulong A2, ulong A3, ulong A4, ulong A5)
{
    /// <summary>glibc's <c>fork()</c> on asm-generic: <c>clone(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, ...)</c>.</summary>
    public const ulong ForkCloneFlags = 0x01200011;

    /// <summary>
    /// glibc's <c>pthread_create()</c>: <c>CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
    /// CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID</c>.
    /// </summary>
    public const ulong ThreadCloneFlags = 0x003d0f00;

    /// <summary>
    /// The arguments of <paramref name="op"/> entered as syscall <paramref name="name"/>; <paramref name="targetPid"/> is
    /// the pid a <c>kill</c> or <c>sched_setaffinity</c> names (0 for the caller itself or when unknown).
    /// </summary>
    public static SyscallArgs For(Operation op, string name, int targetPid = 0)
    {
        ArgumentNullException.ThrowIfNull(op);
        var pid = (ulong)Math.Max(0, targetPid);
        return op switch
        {
            Prctl p => new((ulong)(uint)p.Option, p.Arg, p.Arg3, p.Arg4, p.Arg5, 0),

            // mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            Mmap m => new(0, m.Length, 0x3, 0x22, ulong.MaxValue, 0),
            Munmap u => new(u.Address, 0, 0, 0, 0, 0),
            Mlock l => new(0, l.Length, 0, 0, 0, 0),
            Kill k => new(pid, (ulong)(uint)k.Signal, 0, 0, 0, 0),

            // rt_sigaction(sig, act, oact, sizeof(sigset_t) = 8)
            Sigaction s => new((ulong)(uint)s.Signal, 0, 0, 8, 0, 0),
            SetAffinity => new(pid, 0, 0, 0, 0, 0),
            Exit e => new((ulong)(uint)e.Code, 0, 0, 0, 0, 0),

            // wait4(-1, status, 0, NULL): any child.
            WaitChild => new(ulong.MaxValue, 0, 0, 0, 0, 0),
            Spawn { Thread: true } => new(ThreadCloneFlags, 0, 0, 0, 0, 0),
            Spawn when name == "clone" => new(ForkCloneFlags, 0, 0, 0, 0, 0),
            _ => default,
        };
    }

    /// <summary>The six values as <c>sys_enter</c> prints them: <c>%lx</c> each, comma-separated.</summary>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{A0:x}, {A1:x}, {A2:x}, {A3:x}, {A4:x}, {A5:x}");
}
