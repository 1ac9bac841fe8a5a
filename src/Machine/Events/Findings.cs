using System.Collections.Immutable;
using TaskIsolation.Machine.Abi;

namespace TaskIsolation.Machine.Events;

/// <summary>One link of a causal chain: when, where, what.</summary>
public sealed record ChainLink(long TimeNs, int Cpu, string What);

/// <summary>
/// An isolation violation (docs/model.md §7): an asynchronous interrupt reached a CPU while its current task had isolation
/// enabled and was in user mode. <see cref="Chain"/> runs from the root cause to the interrupt.
/// </summary>
public sealed record ViolationDetected(long Id, long Time, int Cpu, long Cause, TaskRef Task, InterruptSource Source, ImmutableArray<ChainLink> Chain)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>The interrupt's kind, from its <see cref="Source"/>.</summary>
    public InterruptKind Kind => Source.Kind;

    /// <summary>How traces and chains name the interrupt (display only: decide on <see cref="Source"/>).</summary>
    public string Detail => Source.Text;

    /// <summary>The chain as one line: <c>task hk/101 on cpu 0: munmap → TLB shootdown IPI → cpu 3</c>.</summary>
    public string ChainText => string.Join(" → ", Chain.Select(l => l.What));

    /// <inheritdoc />
    public override string What => $"VIOLATION on cpu {Cpu}: {Detail} reached {Task} in user mode; chain: {ChainText}";
}

/// <summary>A task asked to return to user space and had not got there within the bound (§9 R1).</summary>
public sealed record LivenessViolated(long Id, long Time, int Cpu, long Cause, TaskRef Task, long SinceNs, long BoundNs)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <inheritdoc />
    public override string What => $"LIVENESS on cpu {Cpu}: {Task} has been returning to user since {SinceNs} ns (bound {BoundNs} ns)";
}
