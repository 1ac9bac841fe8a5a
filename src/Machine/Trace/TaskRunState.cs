namespace TaskIsolation.Machine.Trace;

/// <summary>
/// A task's <c>state</c> bits as 4.7's <c>sched_switch</c> decodes them (<c>include/linux/sched.h</c>); 0 is
/// running. Combinations print joined by <c>|</c>, e.g. <c>TASK_KILLABLE</c> as <c>D|K</c>.
/// </summary>
[Flags]
public enum TaskRunState
{
    /// <summary><c>TASK_RUNNING</c>: <c>R</c>.</summary>
    Running = 0,

    /// <summary><c>TASK_INTERRUPTIBLE</c>: <c>S</c>.</summary>
    Interruptible = 1,

    /// <summary><c>TASK_UNINTERRUPTIBLE</c>: <c>D</c>.</summary>
    Uninterruptible = 2,

    /// <summary><c>__TASK_STOPPED</c>: <c>T</c>.</summary>
    Stopped = 4,

    /// <summary><c>__TASK_TRACED</c>: <c>t</c>.</summary>
    Traced = 8,

    /// <summary><c>EXIT_ZOMBIE</c>: <c>Z</c>.</summary>
    Zombie = 16,

    /// <summary><c>EXIT_DEAD</c>: <c>X</c>.</summary>
    Dead = 32,

    /// <summary><c>TASK_DEAD</c>: <c>x</c>.</summary>
    TaskDead = 64,

    /// <summary><c>TASK_WAKEKILL</c>: <c>K</c>.</summary>
    WakeKill = 128,

    /// <summary><c>TASK_WAKING</c>: <c>W</c>.</summary>
    Waking = 256,

    /// <summary><c>TASK_PARKED</c>: <c>P</c>.</summary>
    Parked = 512,

    /// <summary><c>TASK_NOLOAD</c>: <c>N</c>.</summary>
    NoLoad = 1024,
}

/// <summary>Formatting of <see cref="TaskRunState"/>.</summary>
public static class TaskRunStates
{
    private static readonly (TaskRunState Bit, string Name)[] Table =
    [
        (TaskRunState.Interruptible, "S"),
        (TaskRunState.Uninterruptible, "D"),
        (TaskRunState.Stopped, "T"),
        (TaskRunState.Traced, "t"),
        (TaskRunState.Zombie, "Z"),
        (TaskRunState.Dead, "X"),
        (TaskRunState.TaskDead, "x"),
        (TaskRunState.WakeKill, "K"),
        (TaskRunState.Waking, "W"),
        (TaskRunState.Parked, "P"),
        (TaskRunState.NoLoad, "N"),
    ];

    /// <summary>
    /// <c>R</c> for running, else the set bits' letters joined by <c>|</c> in table order, as <c>__print_flags</c>
    /// prints them; bits outside the table end the list in hex (<c>0x800</c>).
    /// </summary>
    public static string Format(TaskRunState state)
    {
        var bits = (int)state & 2047;
        if (bits == 0)
        {
            return "R";
        }

        var parts = new List<string>();
        foreach (var (bit, name) in Table)
        {
            if ((bits & (int)bit) != 0)
            {
                parts.Add(name);
                bits &= ~(int)bit;
            }
        }

        if (bits != 0)
        {
            parts.Add("0x" + bits.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        return string.Join('|', parts);
    }
}
