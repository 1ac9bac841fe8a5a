using Akka.Actor;
using TaskIsolation.Actors.Cpu;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Events;
using TaskIsolation.Simulation;
using MmState = TaskIsolation.Machine.Mm.VmstatState;
using VmstatRules = TaskIsolation.Machine.Mm.Vmstat;

namespace TaskIsolation.Actors.Vmstat;

/// <summary>Messages of the vmstat worker and shepherd.</summary>
internal interface IVmstatProtocol : IMachineMessage;

/// <summary>This CPU's vm counters changed (an allocation, a fault, a write).</summary>
internal sealed record VmstatDirtied(long Cause) : IVmstatProtocol;

/// <summary><c>quiet_vmstat_sync()</c>: cancel the work and fold the diffs now; answered with <see cref="VmstatState"/>.</summary>
internal sealed record QuietVmstat(long Cause, long RequestId) : IVmstatProtocol;

/// <summary>The kworker ran <c>vmstat_update</c> on this CPU.</summary>
internal sealed record VmstatUpdateRan(long Cause) : IVmstatProtocol;

/// <summary>
/// The shepherd, having read this CPU's state as needing an update, queues the work: <c>queue_delayed_work_on(cpu,
/// ..., 0)</c>, which succeeds if the work is not pending now, whatever the diffs have become since the read.
/// </summary>
internal sealed record ShepherdQueue(long Cause, int ShepherdCpu) : IVmstatProtocol;

/// <summary>Self-message of the shepherd: time for another round.</summary>
internal sealed record ShepherdRound(long Cause) : IVmstatProtocol;

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
    private long _dirtyCause;

    public VmstatWorkerActor(Simulation.Simulation sim, MachineTopology machine, int cpu, IActorRef cpuRef)
        : base(sim)
    {
        _m = machine;
        _cpuId = cpu;
        _cpu = cpuRef;
    }

    public static Props Props(Simulation.Simulation sim, MachineTopology machine, int cpu, IActorRef cpuRef) =>
        ModelProps.Of(() => new VmstatWorkerActor(sim, machine, cpu, cpuRef), sim.Dispatcher);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case VmstatDirtied d:
                _state = VmstatRules.Dirtied(_state);
                _dirtyCause = d.Cause;
                Publish();

                // Nothing is armed by dirtying (4.7): the deadline of a pending deferrable work item stands.
                Send(_cpu, new Cpu.VmstatState(d.Cause, false, NoChangeDue));
                break;
            case QuietVmstat q:
                _state = VmstatRules.QuietSync();
                Publish();
                Send(_cpu, new Cpu.VmstatState(q.Cause, true, long.MaxValue));
                Send(_cpu, new Ack(q.Cause, q.RequestId));
                break;
            case VmstatUpdateRan r:
                _state = VmstatRules.UpdateRan(_state);
                Publish();
                Send(_cpu, new Cpu.VmstatState(r.Cause, _state.Idle, _state.WorkPending ? Now + _m.StatIntervalNs : long.MaxValue));
                break;
            case ShepherdQueue c:
                var (queued, ok) = VmstatRules.QueueWork(_state);
                if (ok)
                {
                    // queue_delayed_work_on(cpu, ..., 0): the work is queued now, and waking the kworker on that CPU
                    // is a reschedule IPI from the shepherd's CPU (it still lands if the CPU cancels the work first).
                    _state = queued;
                    Publish();
                    Send(_cpu, new Cpu.VmstatState(c.Cause, false, long.MaxValue));
                    var sent = new InterruptSent(Sim.NewEventId(), Now, c.ShepherdCpu, c.Cause, new WorkWakeup(WorkFunction.VmstatUpdate), _cpuId);
                    _m.Events.Publish(sent);
                    var irq = new Irq(sent.Id, sent.Source, c.ShepherdCpu, new WorkPayload(WorkFunction.VmstatUpdate, _m.Timings.VmstatWorkNs, -1, 0));
                    SendAfter(c.ShepherdCpu == _cpuId ? 0 : IpiLatency(), _cpu, irq);
                }

                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>"Keep the deadline you have": the CPU treats a due time of 0 as unchanged.</summary>
    private const long NoChangeDue = 0;

    /// <summary>Makes the state readable by the shepherd on another CPU.</summary>
    private void Publish() => _m.Memory.Cpu(_cpuId).SetVmstat(_state.Diffs, _state.WorkPending, _dirtyCause);

    /// <summary>An IPI's latency with its jitter, a choice as for every other IPI of the model.</summary>
    private long IpiLatency()
    {
        var t = _m.Timings;
        var steps = Math.Max(1, t.IpiJitterSteps);
        var pick = Sim.Choose(steps);
        return t.IpiLatencyNs + (steps == 1 ? 0 : t.IpiJitterNs * pick / (steps - 1));
    }
}

/// <summary>
/// The vmstat shepherd on a housekeeping CPU: every <c>vm.stat_interval</c> it looks at every CPU and queues the
/// worker on those with diffs and no work pending (<c>vmstat_shepherd()</c>), on what it read of them. With the
/// mainline mitigation it skips task-isolation CPUs.
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
        ModelProps.Of(() => new VmstatShepherdActor(sim, machine, cpu), sim.Dispatcher);

    protected override void OnReceive(object message)
    {
        if (message is not ShepherdRound r)
        {
            Unhandled(message);
            return;
        }

        for (var cpu = 0; cpu < _m.NrCpus; cpu++)
        {
            // need_update(cpu) and delayed_work_pending() read remotely, unlocked: the queueing below reaches the CPU's
            // worker as a message, and the CPU may fold and cancel in between (§9 R6).
            var (diffs, pending, dirtyCause) = _m.Memory.Cpu(cpu).Vmstat;
            if (VmstatRules.ShepherdQueues(new MmState(diffs, pending), _m.TaskIsolation.Test(cpu), _m.Switches.ShepherdSkipsIsolated))
            {
                Send(_m.VmstatWorkers[cpu], new ShepherdQueue(dirtyCause != 0 ? dirtyCause : r.Cause, _cpu));
            }
        }

        SendAfter(_m.StatIntervalNs, Self, new ShepherdRound(0));
    }
}
