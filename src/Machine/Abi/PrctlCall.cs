namespace TaskIsolation.Machine.Abi;

/// <summary>
/// One <c>prctl(option, arg2, arg3, arg4, arg5)</c> call as the kernel receives it (<c>SYSCALL_DEFINE5(prctl, ...)</c>
/// in <c>kernel/sys.c</c>): the option and four unsigned-long arguments, unused ones zero.
/// </summary>
/// <param name="Option">The option, e.g. <see cref="PrctlOptions.SetTaskIsolation"/>.</param>
/// <param name="Arg2">The second argument: the flags word for the task-isolation options.</param>
/// <param name="Arg3">The third argument.</param>
/// <param name="Arg4">The fourth argument.</param>
/// <param name="Arg5">The fifth argument.</param>
public readonly record struct PrctlCall(int Option, ulong Arg2 = 0, ulong Arg3 = 0, ulong Arg4 = 0, ulong Arg5 = 0);

/// <summary>The prctl options of the series (<c>include/uapi/linux/prctl.h</c> as each version patches it).</summary>
public static class PrctlOptions
{
    /// <summary>v13 <c>PR_SET_TASK_ISOLATION</c>: set the calling task's isolation flags.</summary>
    public const int SetTaskIsolation = 48;

    /// <summary>v13 <c>PR_GET_TASK_ISOLATION</c>: return the calling task's isolation flags word.</summary>
    public const int GetTaskIsolation = 49;

    /// <summary>v16 <c>PR_TASK_ISOLATION</c>: the one option, same number as v13's set; v16 has no get.</summary>
    public const int TaskIsolation = 48;
}
