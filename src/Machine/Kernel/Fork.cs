using TaskIsolation.Machine.Abi.V13;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Kernel;

/// <summary>
/// <c>fork</c> and <c>clone</c>: what a child inherits (<c>copy_process()</c> in <c>kernel/fork.c</c>) and where it first
/// runs (<c>wake_up_new_task()</c>).
/// </summary>
public static class Fork
{
    /// <summary>
    /// <c>copy_process()</c>: the child inherits the parent's affinity, policy and signal handlers, but not its
    /// isolation (the series' <c>task_isolation_set_flags(p, 0)</c>), its pending signals or its timers. A thread
    /// (<c>CLONE_THREAD</c>) shares the parent's thread group, address space and parent; a forked process gets its own
    /// thread group and address space, and the caller is its parent.
    /// </summary>
    /// <param name="parent">The calling task.</param>
    /// <param name="pid">The child's pid (<c>alloc_pid()</c>).</param>
    /// <param name="comm">The child's command name.</param>
    /// <param name="thread">Whether it is a thread of the parent's process.</param>
    /// <returns>The child's task struct.</returns>
    public static TaskStruct CopyProcess(TaskStruct parent, int pid, string comm, bool thread)
    {
        ArgumentNullException.ThrowIfNull(parent);
        return new TaskStruct
        {
            Pid = pid,
            Tgid = thread ? parent.Tgid : pid,
            Comm = comm,
            Affinity = parent.Affinity,
            Policy = parent.Policy,
            Mm = thread ? parent.Mm : pid,
            ParentPid = thread ? parent.ParentPid : parent.Pid,
            IsolationFlags = KernelEntryV13.ForkChildFlags.Word,
            CaughtSignals = parent.CaughtSignals,
        };
    }

    /// <summary>
    /// <c>wake_up_new_task()</c>: the child starts on the parent's CPU when its affinity allows it, else on the first CPU
    /// it may use (the model has no load balancer to pick another).
    /// </summary>
    public static int FirstCpu(CpuMask affinity, int parentCpu)
    {
        ArgumentNullException.ThrowIfNull(affinity);
        return affinity.Test(parentCpu) ? parentCpu : affinity.First();
    }
}
