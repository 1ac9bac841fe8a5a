using TaskIsolation.Machine.Events;

namespace TaskIsolation.Host.Bench;

/// <summary>
/// The fewest deliveries a run could have had under two rules the model keeps, counted from its events while it runs
/// (an event observer, <see cref="Actors.Machine.MachineOptions.Observer"/>):
/// <list type="number">
/// <item>A CPU's events are published by its CPU actor at their simulated instant, so that the monitors see the
/// machine's events in the order they happen, across CPUs. Every instant at which a CPU publishes an event is therefore
/// at least one delivery to that CPU: <see cref="CpuInstants"/> counts the distinct (CPU, instant) pairs.</item>
/// <item>A task's program is run by its task actor, which the CPU asks for each operation (<c>ResumeUser</c> or
/// <c>EnterHandler</c>, answered by <c>UserOp</c>): every operation a task starts is a delivery to an actor that is not
/// a CPU. <see cref="OperationsStarted"/> counts them.</item>
/// </list>
/// Everything else the model delivers (a kernel step that publishes nothing, the tick source's programming, the vmstat
/// worker's messages, the answers) is above this floor, so no change that keeps the two rules can take a machine below
/// it. <see cref="CpuInstantsWithoutTicks"/> leaves out the instants whose only events are the periodic tick's
/// (<see cref="TimerKind.Tick"/>): the floor if every periodic tick were accounted in closed form.
/// </summary>
internal sealed class DeliveryFloor
{
    private readonly HashSet<(int Cpu, long Time)> _instants = [];
    private readonly HashSet<(int Cpu, long Time)> _instantsWithoutTicks = [];

    /// <summary>Whether events are counted now (off during a warm-up).</summary>
    public bool Counting { get; set; }

    /// <summary>Events seen while counting (findings left out).</summary>
    public long Events { get; private set; }

    /// <summary>Distinct (CPU, simulated instant) pairs at which a CPU published at least one event.</summary>
    public long CpuInstants => _instants.Count;

    /// <summary>The same, counting only instants with an event other than the periodic tick's interrupt and return.</summary>
    public long CpuInstantsWithoutTicks => _instantsWithoutTicks.Count;

    /// <summary>Operations tasks started: one question to a task actor each.</summary>
    public long OperationsStarted { get; private set; }

    /// <summary>The floor: <see cref="CpuInstants"/> + <see cref="OperationsStarted"/>.</summary>
    public long Deliveries => CpuInstants + OperationsStarted;

    /// <summary>The floor with every periodic tick in closed form: <see cref="CpuInstantsWithoutTicks"/> + <see cref="OperationsStarted"/>.</summary>
    public long DeliveriesWithoutTicks => CpuInstantsWithoutTicks + OperationsStarted;

    /// <summary>Counts one event (the observer).</summary>
    public void Observe(MachineEvent e)
    {
        // A finding is the monitors' judgement of an event, not something a CPU did (the observer sees both).
        if (!Counting || e.Cpu < 0 || e is ViolationDetected or LivenessViolated or DoubleReport or MonitorFailed or NoProgressDetected)
        {
            return;
        }

        Events++;
        _instants.Add((e.Cpu, e.Time));
        if (!IsPeriodicTick(e))
        {
            _instantsWithoutTicks.Add((e.Cpu, e.Time));
        }

        if (e is OperationStarted)
        {
            OperationsStarted++;
        }
    }

    private static bool IsPeriodicTick(MachineEvent e) => e switch
    {
        InterruptTaken { Source: TimerExpiry { Timer: TimerKind.Tick } } => true,
        HandlerReturned { Source: TimerExpiry { Timer: TimerKind.Tick } } => true,
        _ => false,
    };
}
