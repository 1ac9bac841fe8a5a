using Akka.Actor;
using TaskIsolation.Actors.Cpu;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Events;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Noise;

/// <summary>Messages of a noise source.</summary>
internal interface INoiseProtocol : IMachineMessage;

/// <summary>Self-message of a noise source: the next firing is due.</summary>
/// <param name="Serial">The firing's number, from 1.</param>
internal sealed record NoiseDue(long Serial) : INoiseProtocol
{
    /// <summary>Each firing is a root: no cause.</summary>
    public long Cause => 0;
}

/// <summary>
/// Hardware that interrupts CPUs on its own schedule: one device IRQ line, or one NMI source. Each firing is a root
/// event (<see cref="DeviceIrqRaised"/>, <see cref="NmiRaised"/>) and the interrupt it raises carries that event as
/// its cause, so a violation's causal chain starts at the device.
/// </summary>
internal sealed class NoiseSourceActor : SimActor
{
    private readonly MachineTopology _m;
    private readonly DeviceIrqSpec? _irq;
    private readonly NmiSpec? _nmi;

    // What every interrupt of the line carries, made once: a source and a payload per firing would allocate two
    // records per device interrupt for values that never change.
    private readonly InterruptSource _source = NonMaskableInterrupt.Instance;
    private readonly DeviceIrqPayload? _payload;

    public NoiseSourceActor(Simulation.Simulation sim, MachineTopology machine, DeviceIrqSpec? irq, NmiSpec? nmi)
        : base(sim)
    {
        _m = machine;
        _irq = irq;
        _nmi = nmi;
        if (irq is not null)
        {
            _source = irq.Source;
            _payload = new DeviceIrqPayload(irq.Irq, irq.Name);
        }

        // The source's own invariants: one kind, and CPUs of this machine (the only ones it can interrupt).
        if ((irq is null) == (nmi is null))
        {
            throw new ArgumentException("a noise source is one device IRQ line or one NMI source");
        }

        if (irq is not null && (irq.Affinity.IsEmpty || irq.EffectiveCpu >= machine.NrCpus))
        {
            throw new ArgumentException($"{irq.Detail}: affinity '{irq.Affinity}' has no CPU of this {machine.NrCpus}-CPU machine");
        }

        if (nmi is not null && (nmi.Cpus.IsEmpty || nmi.Cpus.Any(c => c >= machine.NrCpus)))
        {
            throw new ArgumentException($"NMI source: CPUs '{nmi.Cpus}' are not all CPUs of this {machine.NrCpus}-CPU machine");
        }
    }

    public static Props ForDeviceIrq(Simulation.Simulation sim, MachineTopology machine, DeviceIrqSpec spec) =>
        ModelProps.Of(() => new NoiseSourceActor(sim, machine, spec, null), sim.Dispatcher);

    public static Props ForNmi(Simulation.Simulation sim, MachineTopology machine, NmiSpec spec) =>
        ModelProps.Of(() => new NoiseSourceActor(sim, machine, null, spec), sim.Dispatcher);

    protected override void OnReceive(object message)
    {
        if (message is not NoiseDue due)
        {
            Unhandled(message);
            return;
        }

        if (_irq is { } irq)
        {
            // The IO-APIC/MSI delivers the line to its effective CPU; the handler there is do_IRQ().
            var cpu = irq.EffectiveCpu;
            var raised = new DeviceIrqRaised(Sim.NewEventId(), Now, cpu, 0, irq.Irq, irq.Name);
            _m.Events.Publish(raised);
            Send(_m.Cpus[cpu], new Irq(raised.Id, _source, -1, _payload));
            SendAfter(irq.PeriodNs, Self, new NoiseDue(due.Serial + 1));
        }
        else if (_nmi is { } nmi)
        {
            foreach (var cpu in nmi.Cpus)
            {
                var raised = new NmiRaised(Sim.NewEventId(), Now, cpu, 0);
                _m.Events.Publish(raised);
                Send(_m.Cpus[cpu], new Irq(raised.Id, NonMaskableInterrupt.Instance, -1));
            }

            SendAfter(nmi.PeriodNs, Self, new NoiseDue(due.Serial + 1));
        }
    }
}
