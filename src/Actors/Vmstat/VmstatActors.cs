using Akka.Actor;
using TaskIsolation.Actors.Cpu;
using TaskIsolation.Actors.Events;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Simulation;
using TaskIsolation.Machine.Abi;
using MmState = TaskIsolation.Machine.Mm.VmstatState;
using VmstatRules = TaskIsolation.Machine.Mm.Vmstat;

namespace TaskIsolation.Actors.Vmstat;

/// <summary>Messages of the vmstat worker and shepherd.</summary>
public interface IVmstatProtocol : IMachineMessage;

/// <summary>This CPU's vm counters changed (an allocation, a fault, a write).</summary>
public sealed record VmstatDirtied(long Cause) : IVmstatProtocol;

/// <summary><c>quiet_vmstat_sync()</c>: cancel the work and fold the diffs now; answered with <see cref="VmstatState"/>.</summary>
public sealed record QuietVmstat(long Cause, long RequestId) : IVmstatProtocol;

/// <summary>The kworker ran <c>vmstat_update</c> on this CPU.</summary>
public sealed record VmstatUpdateRan(long Cause) : IVmstatProtocol;

/// <summary>The shepherd asks whether this CPU needs its worker (<c>need_update()</c> and no work pending).</summary>
public sealed record ShepherdCheck(long Cause, int ShepherdCpu) : IVmstatProtocol;

/// <summary>Self-message of the shepherd: time for another round.</summary>
public sealed record ShepherdRound(long Cause) : IVmstatProtocol;

/// <summary>
/// One CPU's vmstat state and work item: the per-CPU counter diffs not yet folded and whether the deferrable
/// <c>vmstat_update</c> work is pending. The CPU learns the state from <see cref="VmstatState"/> answers, so a change
/// made by the shepherd reaches it as a message, as the remote write reaches it in the kernel.
/// </summary>
internal sealed class VmstatWorkerActor : SimActor
{
    private readonly MachineTopology _m;
    private readonly int _cpuId;
    private readonly IActorRef _cpu;
    private MmState _state;

    public VmstatWorkerActor(Simulation.Simulation sim, MachineTopology machine, int cpu, IActorRef cpuRef)
        : base(sim)
    {
        _m = machine;
        _cpuId = cpu;
        _cpu = cpuRef;
    }

    public static Props Props(Simulation.Simulation sim, MachineTopology machine, int cpu, IActorRef cpuRef) =>
        Akka.Actor.Props.Create(() => new VmstatWorkerActor(sim, machine, cpu, cpuRef)).WithDispatcher(sim.Dispatcher);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case VmstatDirtied d:
                var (dirtied, arm) = VmstatRules.Dirtied(_state);
                _state = dirtied;

                // Armed now: the deferrable work is due one vm.stat_interval from now; otherwise the deadline stands.
                Send(_cpu, new Cpu.VmstatState(d.Cause, false, arm ? Now + _m.StatIntervalNs : NoChangeDue));
                break;
            case QuietVmstat q:
                _state = VmstatRules.QuietSync();
                Send(_cpu, new Cpu.VmstatState(q.Cause, true, long.MaxValue));
                Send(_cpu, new Ack(q.Cause, q.RequestId));
                break;
            case VmstatUpdateRan r:
                _state = VmstatRules.UpdateRan(_state);
                Send(_cpu, new Cpu.VmstatState(r.Cause, _state.Idle, _state.WorkPending ? Now + _m.StatIntervalNs : long.MaxValue));
                break;
            case ShepherdCheck c:
                if (VmstatRules.ShepherdQueues(_state, _m.TaskIsolation.Test(_cpuId), _m.Switches.ShepherdSkipsIsolated))
                {
                    // queue_delayed_work_on(cpu, ..., 0): the work is queued now, and waking the kworker on that CPU
                    // is a reschedule IPI from the shepherd's CPU.
                    _state = _state with { WorkPending = true };
                    Send(_cpu, new Cpu.VmstatState(c.Cause, false, long.MaxValue));
                    var sent = new InterruptSent(Sim.NewEventId(), Now, c.ShepherdCpu, c.Cause, InterruptKind.VmstatWork, "reschedule IPI (vmstat_update work)", _cpuId);
                    _m.Events.Publish(sent);
                    var irq = new Irq(sent.Id, InterruptKind.VmstatWork, "reschedule IPI (vmstat_update work)", c.ShepherdCpu, new WorkPayload("vmstat_update", _m.Timings.VmstatWorkNs, -1, 0));
                    SendAfter(_m.Timings.IpiLatencyNs, _cpu, irq);
                }

                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>"Keep the deadline you have": the CPU treats a due time of 0 as unchanged.</summary>
    private const long NoChangeDue = 0;
}

/// <summary>
/// The vmstat shepherd on a housekeeping CPU: every <c>vm.stat_interval</c> it looks at every CPU and queues the
/// worker on those with diffs and no work pending (<c>vmstat_shepherd()</c>). With the mainline mitigation it skips
/// task-isolation CPUs (each worker applies <c>Vmstat.ShepherdQueues</c>).
/// </summary>
internal sealed class VmstatShepherdActor : SimActor
{
    private readonly MachineTopology _m;
    private readonly int _cpu;

    public VmstatShepherdActor(Simulation.Simulation sim, MachineTopology machine, int cpu)
        : base(sim)
    {
        _m = machine;
        _cpu = cpu;
    }

    public static Props Props(Simulation.Simulation sim, MachineTopology machine, int cpu) =>
        Akka.Actor.Props.Create(() => new VmstatShepherdActor(sim, machine, cpu)).WithDispatcher(sim.Dispatcher);

    protected override void OnReceive(object message)
    {
        if (message is not ShepherdRound r)
        {
            Unhandled(message);
            return;
        }

        for (var cpu = 0; cpu < _m.NrCpus; cpu++)
        {
            Send(_m.VmstatWorkers[cpu], new ShepherdCheck(r.Cause, _cpu));
        }

        SendAfter(_m.StatIntervalNs, Self, new ShepherdRound(0));
    }
}
