namespace TaskIsolation.Machine.Events;

/// <summary>The work functions the model queues on a CPU's kworker.</summary>
public enum WorkFunction
{
    /// <summary><c>vmstat_update</c>: folds the CPU's vmstat diffs (queued by the vmstat shepherd or re-armed by itself).</summary>
    VmstatUpdate,

    /// <summary><c>lru_add_drain_per_cpu</c>: drains the CPU's LRU pagevecs (queued by <c>lru_add_drain_all()</c>).</summary>
    LruAddDrainPerCpu,
}

/// <summary>The kernel's names of <see cref="WorkFunction"/>s.</summary>
public static class WorkFunctions
{
    /// <summary>The function's symbol, as <c>workqueue_execute_start</c> prints it: <c>vmstat_update</c>, <c>lru_add_drain_per_cpu</c>.</summary>
    public static string Name(WorkFunction function) => function switch
    {
        WorkFunction.VmstatUpdate => "vmstat_update",
        WorkFunction.LruAddDrainPerCpu => "lru_add_drain_per_cpu",
        _ => throw new ArgumentOutOfRangeException(nameof(function), function, "unknown work function"),
    };
}
