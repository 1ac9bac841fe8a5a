namespace TaskIsolation.Machine.Abi;

/// <summary>Which version of the task-isolation series the machine runs (docs/model.md §10).</summary>
public enum KernelVariant
{
    /// <summary>
    /// v13 (July 2016) with patches 05, 11 and 12 of its series: <c>PR_SET/GET_TASK_ISOLATION</c>, the
    /// <c>task_isolation=</c> boot argument, the enter/ready loop on every return to user space. The default.
    /// </summary>
    V13,

    /// <summary>
    /// v16 (November 2017): one <c>PR_TASK_ISOLATION</c>, the map is isolcpus ∩ nohz_full, one check on the way out
    /// of the prctl instead of a loop, NORMAL/ISOLATED/WARNED per task.
    /// </summary>
    V16,
}
