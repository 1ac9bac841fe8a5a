using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Machine.Mm;

/// <summary>
/// <c>lru_add_drain_all()</c> (<c>mm/swap.c</c>, called by <c>mlock</c> in 4.7): which CPUs get a
/// <c>lru_add_drain_per_cpu</c> work item, decided on what the caller reads of every CPU's pagevecs, racily and without
/// a lock (docs/model.md §9 R7).
/// </summary>
public static class LruDrain
{
    /// <summary>
    /// The CPUs to queue the drain on, ascending. The caller's own CPU is drained when its batches hold pages. For
    /// every other CPU the caller first counts its item on the target (<see cref="PerCpuShared.WorkQueued"/>, a full
    /// barrier), then reads the target's batches and "no new deferred work" flag and decides with
    /// <see cref="DeferredWork.DrainQueues"/>; an item it does not queue is taken back. With the mitigation off (v13)
    /// the count is never looked at, so the protocol changes nothing but the count.
    /// </summary>
    /// <param name="memory">The racily shared kernel memory.</param>
    /// <param name="callerCpu">The CPU calling <c>lru_add_drain_all()</c>.</param>
    /// <param name="noNewDeferredWork">R7's mitigation (<see cref="ModelSwitches.NoNewDeferredWork"/>).</param>
    public static List<int> AddDrainAllTargets(KernelMemory memory, int callerCpu, bool noNewDeferredWork)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var targets = new List<int>();
        for (var cpu = 0; cpu < memory.NrCpus; cpu++)
        {
            var shared = memory.Cpu(cpu);
            if (cpu == callerCpu)
            {
                if (shared.LruNonEmpty)
                {
                    targets.Add(cpu);
                }

                continue;
            }

            shared.WorkQueued();
            if (DeferredWork.DrainQueues(shared.LruNonEmpty, shared.RefusesNewWork, noNewDeferredWork))
            {
                targets.Add(cpu);
            }
            else
            {
                shared.WorkDone();
            }
        }

        return targets;
    }
}
