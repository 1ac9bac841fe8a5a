using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Sched;

/// <summary><c>sched_setaffinity()</c> (<c>kernel/sched/core.c</c>): which masks it accepts and where a task pushed off its CPU goes.</summary>
public static class Affinity
{
    /// <summary>
    /// The errno a new mask fails with, or 0: a mask must be one of the machine's size and allow at least one CPU
    /// (<c>-EINVAL</c> otherwise; every CPU of the model is online).
    /// </summary>
    /// <param name="mask">The requested mask.</param>
    /// <param name="nrCpus">The machine's CPU count.</param>
    public static int Check(CpuMask mask, int nrCpus)
    {
        ArgumentNullException.ThrowIfNull(mask);
        return mask.NBits != nrCpus || mask.IsEmpty ? Errno.EINVAL : 0;
    }

    /// <summary>
    /// Where a task no longer allowed on its CPU moves (<c>set_cpus_allowed_ptr()</c> →
    /// <c>cpumask_any_and(new_mask, cpu_active_mask)</c>): the first CPU of its new mask, the model having no load
    /// balancer to pick another.
    /// </summary>
    public static int MigrationTarget(CpuMask mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        return mask.First();
    }
}
