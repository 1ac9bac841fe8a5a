using System.Collections.Frozen;
using System.Globalization;

namespace TaskIsolation.Machine.Abi;

/// <summary>
/// Linux error numbers (<c>include/uapi/asm-generic/errno-base.h</c>, <c>errno.h</c>, and the kernel-internal
/// restart codes of <c>include/linux/errno.h</c>). x86_64, arm64 and tile all use these generic values. A system
/// call fails by returning the negated number, e.g. <c>-EINVAL</c> = -22.
/// </summary>
public static class Errno
{
    /// <summary>Operation not permitted.</summary>
    public const int EPERM = 1;

    /// <summary>No such file or directory.</summary>
    public const int ENOENT = 2;

    /// <summary>No such process.</summary>
    public const int ESRCH = 3;

    /// <summary>Interrupted system call.</summary>
    public const int EINTR = 4;

    /// <summary>I/O error.</summary>
    public const int EIO = 5;

    /// <summary>Bad file number.</summary>
    public const int EBADF = 9;

    /// <summary>No child processes.</summary>
    public const int ECHILD = 10;

    /// <summary>Try again: the task-isolation prctl's "not ready yet, retry".</summary>
    public const int EAGAIN = 11;

    /// <summary>Out of memory.</summary>
    public const int ENOMEM = 12;

    /// <summary>Permission denied.</summary>
    public const int EACCES = 13;

    /// <summary>Bad address.</summary>
    public const int EFAULT = 14;

    /// <summary>Device or resource busy.</summary>
    public const int EBUSY = 16;

    /// <summary>File exists.</summary>
    public const int EEXIST = 17;

    /// <summary>No such device.</summary>
    public const int ENODEV = 19;

    /// <summary>Invalid argument.</summary>
    public const int EINVAL = 22;

    /// <summary>Math result not representable: a CPU list names a CPU past the mask (§3).</summary>
    public const int ERANGE = 34;

    /// <summary>Resource deadlock would occur.</summary>
    public const int EDEADLK = 35;

    /// <summary>Invalid system call number.</summary>
    public const int ENOSYS = 38;

    /// <summary>Value too large for defined data type: a CPU list number past 32 bits (§3).</summary>
    public const int EOVERFLOW = 75;

    /// <summary>Operation not supported.</summary>
    public const int EOPNOTSUPP = 95;

    /// <summary>Connection timed out.</summary>
    public const int ETIMEDOUT = 110;

    /// <summary>Kernel-internal: restart the call if the signal handler allows (<c>SA_RESTART</c>).</summary>
    public const int ERESTARTSYS = 512;

    /// <summary>
    /// Kernel-internal: always restart the call after the signal is handled. A syscall refused to an isolated
    /// task returns this, so with a caught signal it runs again once the handler returns (docs/model.md §6).
    /// </summary>
    public const int ERESTARTNOINTR = 513;

    /// <summary>Kernel-internal: restart if no handler ran.</summary>
    public const int ERESTARTNOHAND = 514;

    /// <summary>Kernel-internal: restart through <c>restart_syscall</c>.</summary>
    public const int ERESTART_RESTARTBLOCK = 516;

    private static readonly FrozenDictionary<int, string> Names = new Dictionary<int, string>
    {
        [EPERM] = nameof(EPERM),
        [ENOENT] = nameof(ENOENT),
        [ESRCH] = nameof(ESRCH),
        [EINTR] = nameof(EINTR),
        [EIO] = nameof(EIO),
        [EBADF] = nameof(EBADF),
        [ECHILD] = nameof(ECHILD),
        [EAGAIN] = nameof(EAGAIN),
        [ENOMEM] = nameof(ENOMEM),
        [EACCES] = nameof(EACCES),
        [EFAULT] = nameof(EFAULT),
        [EBUSY] = nameof(EBUSY),
        [EEXIST] = nameof(EEXIST),
        [ENODEV] = nameof(ENODEV),
        [EINVAL] = nameof(EINVAL),
        [ERANGE] = nameof(ERANGE),
        [EDEADLK] = nameof(EDEADLK),
        [ENOSYS] = nameof(ENOSYS),
        [EOVERFLOW] = nameof(EOVERFLOW),
        [EOPNOTSUPP] = nameof(EOPNOTSUPP),
        [ETIMEDOUT] = nameof(ETIMEDOUT),
        [ERESTARTSYS] = nameof(ERESTARTSYS),
        [ERESTARTNOINTR] = nameof(ERESTARTNOINTR),
        [ERESTARTNOHAND] = nameof(ERESTARTNOHAND),
        [ERESTART_RESTARTBLOCK] = nameof(ERESTART_RESTARTBLOCK),
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, int> Numbers =
        Names.ToFrozenDictionary(kv => kv.Value, kv => kv.Key, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The symbolic name of error <paramref name="errno"/> (sign ignored, so a syscall's <c>-22</c> prints as
    /// <c>EINVAL</c>); a number the table does not know prints as its decimal value.
    /// </summary>
    public static string Name(int errno)
    {
        var n = errno == int.MinValue ? errno : Math.Abs(errno);
        return Names.TryGetValue(n, out var name) ? name : n.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A syscall return value as people write it: <c>0</c>, <c>-EINVAL</c>, or a plain number for successful
    /// non-zero results (<c>PR_GET_TASK_ISOLATION</c> returns the flags word).
    /// </summary>
    public static string FormatReturn(long value) =>
        value < 0 && value >= -4095 ? "-" + Name((int)-value) : value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The positive number for a name such as <c>EINVAL</c> (any case), or a decimal number.</summary>
    public static bool TryParse(string? text, out int errno)
    {
        errno = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        if (Numbers.TryGetValue(text, out errno))
        {
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            errno = n;
            return true;
        }

        errno = 0;
        return false;
    }

    /// <summary>As <see cref="TryParse"/>, throwing on failure.</summary>
    /// <exception cref="FormatException">Neither a known name nor a positive decimal number.</exception>
    public static int Parse(string text) =>
        TryParse(text, out var errno) ? errno : throw new FormatException($"not an errno name or number: '{text}'");
}
