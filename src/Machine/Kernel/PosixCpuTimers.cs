namespace TaskIsolation.Machine.Kernel;

/// <summary>
/// POSIX CPU timers, the one per-task or per-process timer the model arms: <c>posix_cpu_timer_set()</c> and its expiry
/// in <c>run_posix_cpu_timers()</c> (<c>kernel/time/posix-cpu-timers.c</c>). An armed timer holds the POSIX_TIMER tick
/// dependency, so a nohz_full CPU running its task keeps the tick (docs/model.md §5).
/// </summary>
public static class PosixCpuTimers
{
    /// <summary>
    /// <c>posix_cpu_timer_set()</c>: arm the timer to fire after <paramref name="ns"/> more CPU time of the task,
    /// replacing any armed one.
    /// </summary>
    public static TaskStruct Arm(TaskStruct task, long ns, int signal, bool perProcess)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task with { PosixTimerAtCpuNs = task.CpuTimeNs + ns, PosixTimerSignal = signal, PosixTimerPerProcess = perProcess };
    }

    /// <summary>
    /// Whether arming a per-thread timer newly sets the task's POSIX_TIMER bit (<c>tick_dep_set_task()</c> kicks only
    /// then): when no timer was armed before. A per-process timer's bit lives in the thread group's mask instead.
    /// </summary>
    public static bool SetsTaskDependency(TaskStruct before)
    {
        ArgumentNullException.ThrowIfNull(before);
        return before.PosixTimerAtCpuNs == 0;
    }

    /// <summary>Whether the armed timer has expired (<c>run_posix_cpu_timers()</c> at the tick): the task's CPU time reached it.</summary>
    public static bool Expired(TaskStruct task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.PosixTimerAtCpuNs > 0 && task.CpuTimeNs >= task.PosixTimerAtCpuNs;
    }

    /// <summary>
    /// The timer fired (or the task exits): it is disarmed. For a per-process timer <c>check_process_timers()</c> finds no
    /// process-wide timer left and clears the thread group's POSIX_TIMER bit (<c>tick_dep_clear_signal()</c>).
    /// </summary>
    /// <returns>The task with no timer armed, and whether the per-process bit is to be cleared.</returns>
    public static (TaskStruct Task, bool ClearsProcessDependency) Disarm(TaskStruct task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return (task with { PosixTimerAtCpuNs = 0, PosixTimerPerProcess = false }, task.PosixTimerPerProcess);
    }

    /// <summary>
    /// At exit (<c>posix_cpu_timers_exit_group()</c>): a task that dies with a timer armed while its thread group holds
    /// the POSIX_TIMER bit clears it.
    /// </summary>
    public static bool ExitClearsProcessDependency(TaskStruct task, int processDeps)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.PosixTimerAtCpuNs > 0 && processDeps != 0;
    }
}
