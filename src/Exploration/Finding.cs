using System.Collections.Immutable;
using System.Text.Json.Serialization;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Exploration;

/// <summary>
/// What a schedule found, in the form reproducers and reports carry: the failure, where, and its causal chain.
/// <see cref="Signature"/> groups findings that are the same bug.
/// </summary>
/// <param name="Kind"><c>violation</c> or <c>liveness</c>.</param>
/// <param name="Signature">Kind and the shape of the causal chain (see <see cref="FindingSignature"/>).</param>
/// <param name="Cpu">CPU of the failure.</param>
/// <param name="Interrupt">The interrupt kind of a violation (its <c>InterruptKind</c> name); null for liveness.</param>
/// <param name="Task">The task hit, as <c>comm/pid</c>.</param>
/// <param name="TimeNs">Virtual time of the finding.</param>
/// <param name="Chain">The causal chain, root first, one line per link.</param>
public sealed record FindingInfo(string Kind, string Signature, int Cpu, string? Interrupt, string Task, long TimeNs, ImmutableArray<string> Chain)
{
    /// <summary>The root of the chain (<c>task sibling/102 on cpu 0: munmap</c>).</summary>
    [JsonIgnore]
    public string Root => Chain.IsDefaultOrEmpty ? string.Empty : Chain[0];

    /// <summary>The chain as one line.</summary>
    [JsonIgnore]
    public string ChainText => string.Join(" → ", Chain);

    /// <summary>Value equality, the chain compared element by element (an <see cref="ImmutableArray{T}"/> compares by reference).</summary>
    public bool Equals(FindingInfo? other) =>
        other is not null && Kind == other.Kind && Signature == other.Signature && Cpu == other.Cpu && Interrupt == other.Interrupt
        && Task == other.Task && TimeNs == other.TimeNs && Chain.SequenceEqual(other.Chain);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, Signature, Cpu, Task, TimeNs);

    /// <summary>
    /// The finding after <paramref name="before"/> others (0: the first) of a finished machine, in the order the
    /// monitors raised them, or null when it found fewer.
    /// </summary>
    public static FindingInfo? NthOf(SimulatedMachine machine, int before)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var findings = machine.Recorder.Findings;
        if (before < 0 || before >= findings.Count)
        {
            return null;
        }

        switch (findings[before])
        {
            case ViolationDetected v:
                return new FindingInfo("violation", FindingSignature.Of(v, machine.Recorder), v.Cpu, v.Kind.ToString(), v.Task.ToString(), v.Time, [.. v.Chain.Select(l => l.What)]);
            case LivenessViolated l:
                var chain = machine.Recorder.Find(l.Cause) is { } began ? machine.Recorder.ChainOf(began) : [];
                return new FindingInfo("liveness", FindingSignature.Of(l, machine.Recorder), l.Cpu, null, l.Task.ToString(), l.Time, [.. chain.Select(c => c.What), l.What]);
            default:
                return null;
        }
    }

    /// <summary>The first finding of a finished machine, or null.</summary>
    public static FindingInfo? FirstOf(SimulatedMachine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        foreach (var e in machine.Recorder.Events)
        {
            switch (e)
            {
                case ViolationDetected v:
                    return new FindingInfo("violation", FindingSignature.Of(v, machine.Recorder), v.Cpu, v.Kind.ToString(), v.Task.ToString(), v.Time, [.. v.Chain.Select(l => l.What)]);
                case LivenessViolated l:
                    var chain = machine.Recorder.Find(l.Cause) is { } began ? machine.Recorder.ChainOf(began) : [];
                    return new FindingInfo("liveness", FindingSignature.Of(l, machine.Recorder), l.Cpu, null, l.Task.ToString(), l.Time, [.. chain.Select(c => c.What), l.What]);
            }
        }

        return null;
    }
}

/// <summary>
/// A finding's signature: the failure kind and the shape of its causal chain — each link's event type with its
/// interrupt kind, CPU state, task name or step name, but no times, event ids, pids or CPU numbers — so the same bug
/// reached by different schedules at different instants counts once.
/// </summary>
public static class FindingSignature
{
    /// <summary>The signature of a violation.</summary>
    public static string Of(ViolationDetected v, EventRecorder history)
    {
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(history);
        return $"violation {v.Kind}: {Shape(history.Find(v.Cause), history)}";
    }

    /// <summary>The signature of a liveness failure.</summary>
    public static string Of(LivenessViolated l, EventRecorder history)
    {
        ArgumentNullException.ThrowIfNull(l);
        ArgumentNullException.ThrowIfNull(history);
        return $"liveness {l.Task.Comm}: {Shape(history.Find(l.Cause), history)}";
    }

    private static string Shape(MachineEvent? last, EventRecorder history)
    {
        var links = new List<string>();
        for (var cur = last; cur is not null && links.Count <= 64; cur = cur.Cause == 0 ? null : history.Find(cur.Cause))
        {
            links.Add(cur switch
            {
                OperationStarted o => $"{o.Task.Comm}: {o.Step.Name}",
                InterruptSent s => $"send {s.Kind}",
                InterruptHeld h => $"held {h.Kind}",
                InterruptTaken t => $"take {t.Kind} in {t.State}",
                SyscallEntered s => $"{s.Task.Comm}: syscall {s.Name}",
                ReturnToUserBegan r => $"{r.Task.Comm}: return to user",
                WorkExecuted w => $"kworker: {WorkFunctions.Name(w.Function)}",
                TickStopAttempted t => t.Success ? "tick stop" : $"tick stop failed {TickDependencies.TraceName(t.Dependency)}",
                TickRestarted t => $"tick restart {t.Reason}",
                _ => cur.GetType().Name,
            });
        }

        links.Reverse();
        return string.Join(" → ", links);
    }
}
