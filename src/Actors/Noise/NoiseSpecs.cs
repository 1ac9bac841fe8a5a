using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Actors.Noise;

/// <summary>
/// A device interrupt line (docs/model.md §5): IRQ <paramref name="Irq"/> named <paramref name="Name"/> (as
/// <c>/proc/interrupts</c> shows it, e.g. <c>eth0-rx-0</c>) fires every <paramref name="PeriodNs"/> of simulated time,
/// the first time <paramref name="FirstAtNs"/> after it is added (0: at that instant).
/// </summary>
/// <param name="Irq">The IRQ number (0 or more, unique on the machine).</param>
/// <param name="Name">The handler's name.</param>
/// <param name="Affinity">
/// <c>/proc/irq/&lt;n&gt;/smp_affinity</c>. As on x86 (<c>apic->cpu_mask_to_apicid_and()</c> in 4.7 picks
/// <c>cpumask_first_and(mask, cpu_online_mask)</c>), the interrupt is delivered to the first online CPU of the mask:
/// its effective affinity is one CPU. Every CPU of the model is online, so that is the mask's first CPU.
/// </param>
/// <param name="PeriodNs">Time between two interrupts (more than 0).</param>
/// <param name="FirstAtNs">Delay of the first interrupt after the line is added.</param>
public sealed record DeviceIrqSpec(int Irq, string Name, CpuMask Affinity, long PeriodNs, long FirstAtNs = 0)
{
    /// <summary>The CPU the interrupt is delivered to: the first online CPU of <see cref="Affinity"/>.</summary>
    public int EffectiveCpu => Affinity.First();

    /// <summary>The interrupt source every firing of the line carries.</summary>
    public DeviceInterrupt Source => new(Irq, Name);

    /// <summary>How traces and causal chains name it: <c>irq 24 (eth0)</c> (display only).</summary>
    public string Detail => Source.Text;
}

/// <summary>
/// A periodic NMI source (the perf NMI watchdog, a profiling counter overflow): every <paramref name="PeriodNs"/> an
/// NMI on each CPU of <paramref name="Cpus"/>, the first <paramref name="FirstAtNs"/> after it is added (0: at that
/// instant). An NMI cannot be masked, and nothing may be signalled from it (§7, §9 R12).
/// </summary>
/// <param name="Cpus">The CPUs it hits.</param>
/// <param name="PeriodNs">Time between two NMIs on a CPU (more than 0).</param>
/// <param name="FirstAtNs">Delay of the first NMI after the source is added.</param>
public sealed record NmiSpec(CpuMask Cpus, long PeriodNs, long FirstAtNs = 0);
