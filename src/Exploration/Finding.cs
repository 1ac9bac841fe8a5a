using System.Collections.Immutable;
using System.Text.Json.Serialization;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Exploration;

/// <summary>
/// What a schedule found, in the form reproducers and reports carry: the failure, where, and its causal chain.
/// <see cref="Signature"/> groups findings that are the same bug.
/// </summary>
/// <param name="Kind"><c>violation</c>, <c>liveness</c>, <c>double-report</c> or <c>monitor</c>.</param>
/// <param name="Signature">The root cause: kind of the chain's root, interrupt kind, CPU role (see <see cref="FindingSignature"/>).</param>
/// <param name="Cpu">CPU of the failure.</param>
/// <param name="Interrupt">The interrupt kind of a violation (its <c>InterruptKind</c> name); null for liveness.</param>
/// <param name="Task">The task hit, as <c>comm/pid</c> (empty for a monitor failure about no task).</param>
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

        return Of(findings[before], machine);
    }

    /// <summary>The first finding of a finished machine, or null.</summary>
    public static FindingInfo? FirstOf(SimulatedMachine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        foreach (var e in machine.Recorder.Events)
        {
            if (Of(e, machine) is { } f)
            {
                return f;
            }
        }

        return null;
    }

    /// <summary>
    /// <paramref name="finding"/>, an event a monitor of <paramref name="machine"/> raised, as a finding; null for any
    /// other event. Kinds: <c>violation</c>, <c>liveness</c> and <c>double-report</c> (docs/model.md §9 R14).
    /// </summary>
    public static FindingInfo? Of(MachineEvent finding, SimulatedMachine machine)
    {
        ArgumentNullException.ThrowIfNull(finding);
        ArgumentNullException.ThrowIfNull(machine);
        switch (finding)
        {
            case ViolationDetected v:
                return new FindingInfo("violation", FindingSignature.Of(v, machine), v.Cpu, v.Kind.ToString(), v.Task.ToString(), v.Time, [.. v.Chain.Select(l => l.What)]);
            case LivenessViolated l:
                var chain = machine.Recorder.Find(l.Cause) is { } began ? machine.Recorder.ChainOf(began) : [];
                return new FindingInfo("liveness", FindingSignature.Of(l, machine), l.Cpu, null, l.Task.ToString(), l.Time, [.. chain.Select(c => c.What), l.What]);
            case DoubleReport d:
                return new FindingInfo(DoubleReportKind, FindingSignature.Of(d, machine), d.Cpu, null, d.Task.ToString(), d.Time, [.. d.Chain.Select(l => l.What)]);
            case MonitorFailed m:
                return new FindingInfo(MonitorKind, FindingSignature.Of(m, machine), m.Cpu, null, m.Task?.ToString() ?? string.Empty, m.Time, [.. m.Chain.Select(l => l.What), m.What]);
            case NoProgressDetected n:
                return Of(n, machine);
            default:
                return null;
        }
    }

    /// <summary>
    /// <paramref name="n"/> as a finding: it names no task (a loop may be of kernel actors alone; <c>-</c>), and its
    /// chain is its one line, what looped.
    /// </summary>
    public static FindingInfo Of(NoProgressDetected n, SimulatedMachine machine)
    {
        ArgumentNullException.ThrowIfNull(n);
        ArgumentNullException.ThrowIfNull(machine);
        return new FindingInfo(NoProgressKind, FindingSignature.Of(n, FindingSignature.CpuRole(machine, n.Cpu)), n.Cpu, null, "-", n.Time, [n.What]);
    }

    /// <summary>The kinds of finding, as <see cref="Kind"/> names them.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["violation", "liveness", DoubleReportKind, NoProgressKind, MonitorKind];

    /// <summary>The <see cref="Kind"/> of a <see cref="NoProgressDetected"/>: simulated time stopped at one instant (docs/model.md §12).</summary>
    public const string NoProgressKind = "no-progress";

    /// <summary>The <see cref="Kind"/> a monitor's finding event has; null for an event that is no finding.</summary>
    public static string? KindOf(MachineEvent e) => e switch
    {
        ViolationDetected => "violation",
        LivenessViolated => "liveness",
        DoubleReport => DoubleReportKind,
        MonitorFailed => MonitorKind,
        NoProgressDetected => NoProgressKind,
        _ => null,
    };

    /// <summary>The <see cref="Kind"/> of a <see cref="MonitorFailed"/>: a property of a scenario's <c>monitors:</c> or a user's monitor broke.</summary>
    public const string MonitorKind = "monitor";

    /// <summary>The <see cref="Kind"/> of a <see cref="DoubleReport"/>: one loss of isolation reported twice (§9 R14).</summary>
    public const string DoubleReportKind = "double-report";
}

/// <summary>
/// A finding's signature: its root cause, so one bug counts once however many schedules (or soak hours) reach it and by
/// whatever path. It is made of three typed parts and nothing else:
/// <list type="bullet">
/// <item>the kind of the causal chain's root (<see cref="Root"/>): the program step of a task (<c>task step munmap</c>),
/// a device irq by name, an NMI, a timer by kind, a task's creation, a kworker's work…;</item>
/// <item>for a violation, the kind of the interrupt that reached the CPU (its <see cref="TaskIsolation.Machine.Abi.InterruptKind"/>);</item>
/// <item>the receiving CPU's role on the booted machine (<see cref="CpuRole(SimulatedMachine, int)"/>): the boot sets it is in
/// (<c>nohz_full</c>, <c>isolcpus</c>, <c>task_isolation</c>) or <c>housekeeping</c> when none.</item>
/// </list>
/// No times, event ids, pids, task names or CPU numbers, and none of the intermediate links: a residual tick re-armed
/// ten times is one finding, not ten, and so is a TLB shootdown whose IPI was held once on its way.
/// </summary>
public static class FindingSignature
{
    /// <summary>The signature of a violation on <paramref name="machine"/>.</summary>
    public static string Of(ViolationDetected v, SimulatedMachine machine)
    {
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(machine);
        return Of(v, machine.Recorder.RootOf(v), CpuRole(machine, v.Cpu));
    }

    /// <summary>The signature of a liveness failure on <paramref name="machine"/>.</summary>
    public static string Of(LivenessViolated l, SimulatedMachine machine)
    {
        ArgumentNullException.ThrowIfNull(l);
        ArgumentNullException.ThrowIfNull(machine);
        return Of(l, machine.Recorder.RootOf(l), CpuRole(machine, l.Cpu));
    }

    /// <summary>
    /// The signature of a double report on <paramref name="machine"/>: the roots of both reports' chains, in a fixed
    /// order, since which of two racing senders reports second is the schedule's doing, not a different bug.
    /// </summary>
    public static string Of(DoubleReport d, SimulatedMachine machine)
    {
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(machine);
        var second = machine.Recorder.RootOf(d);
        var first = machine.Recorder.Find(d.FirstReport) is { } line ? machine.Recorder.RootOf(line) : second;
        return Of(d, first, second, CpuRole(machine, d.Cpu));
    }

    /// <summary>The signature of a double report whose two reports' chains start at <paramref name="first"/> and <paramref name="second"/>.</summary>
    public static string Of(DoubleReport d, MachineEvent first, MachineEvent second, string role)
    {
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(role);
        string[] roots = [Root(first), Root(second)];
        Array.Sort(roots, StringComparer.Ordinal);
        return $"double-report on a {role} cpu; roots: {roots[0]} and {roots[1]}";
    }

    /// <summary>The signature of a violation whose chain starts at <paramref name="root"/>, on a CPU of <paramref name="role"/>.</summary>
    public static string Of(ViolationDetected v, MachineEvent root, string role)
    {
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(role);
        return $"violation {v.Kind} on a {role} cpu; root: {Root(root)}";
    }

    /// <summary>The signature of a liveness failure whose chain starts at <paramref name="root"/>, on a CPU of <paramref name="role"/>.</summary>
    public static string Of(LivenessViolated l, MachineEvent root, string role)
    {
        ArgumentNullException.ThrowIfNull(l);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(role);
        return $"liveness on a {role} cpu; root: {Root(root)}";
    }

    /// <summary>The signature of a monitor failure on <paramref name="machine"/>.</summary>
    public static string Of(MonitorFailed m, SimulatedMachine machine)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(machine);
        var root = machine.Recorder.Find(m.Cause) is { } cause ? machine.Recorder.RootOf(cause) : m;
        return Of(m, root, CpuRole(machine, m.Cpu));
    }

    /// <summary>
    /// The signature of a monitor failure whose chain starts at <paramref name="root"/>, on a CPU of
    /// <paramref name="role"/>: the monitor's name and kind and how it failed are part of it (two monitors are two properties).
    /// </summary>
    public static string Of(MonitorFailed m, MachineEvent root, string role)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(role);
        return $"monitor {m.Monitor} ({m.MonitorKind}) {MonitorFailures.Text(m.Failure)} on a {role} cpu; root: {Root(root)}";
    }

    /// <summary>
    /// The signature of a run whose simulated time stopped: the role of the loop's first CPU and the message types of
    /// the loop (typed names, no actor, pid or count), so the same loop is one finding whichever schedule reached it.
    /// </summary>
    public static string Of(NoProgressDetected n, string role)
    {
        ArgumentNullException.ThrowIfNull(n);
        ArgumentNullException.ThrowIfNull(role);
        return $"no-progress on a {role} cpu; loop: {string.Join(", ", n.MessageTypes)}";
    }

    /// <summary>
    /// The role of <paramref name="cpu"/> on <paramref name="machine"/>'s boot: the sets it is in, among
    /// <c>nohz_full</c>, <c>isolcpus</c> and <c>task_isolation</c> (the map a task may isolate on, for the machine's
    /// kernel variant), joined by <c>+</c>; <c>housekeeping</c> when it is in none.
    /// </summary>
    public static string CpuRole(SimulatedMachine machine, int cpu)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var booted = machine.Booted;
        return CpuRole(cpu, booted.NohzFull, booted.Isolated, SimulatedMachine.TaskIsolationMap(booted, machine.Options.Variant));
    }

    /// <summary>The role of <paramref name="cpu"/> given the boot's <c>nohz_full</c>, <c>isolcpus</c> and task isolation sets.</summary>
    public static string CpuRole(int cpu, CpuMask nohzFull, CpuMask isolated, CpuMask taskIsolation)
    {
        ArgumentNullException.ThrowIfNull(nohzFull);
        ArgumentNullException.ThrowIfNull(isolated);
        ArgumentNullException.ThrowIfNull(taskIsolation);
        var sets = new List<string>(3);
        if (Has(nohzFull, cpu))
        {
            sets.Add("nohz_full");
        }

        if (Has(isolated, cpu))
        {
            sets.Add("isolcpus");
        }

        if (Has(taskIsolation, cpu))
        {
            sets.Add("task_isolation");
        }

        return sets.Count == 0 ? "housekeeping" : string.Join('+', sets);
    }

    /// <summary>
    /// The kind of a chain's root, from its typed fields: a task's program step, a task's creation, an interrupt by its
    /// source (a timer by kind, a device irq by name, an NMI), a system call by name, a kworker's work function, a tick
    /// state change, a signal; otherwise the event's type.
    /// </summary>
    public static string Root(MachineEvent root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return root switch
        {
            OperationStarted o => $"task step {o.Step.Name}",
            TaskCreated t => t.Thread ? "thread created" : "task created",
            DeviceIrqRaised d => $"device irq {d.Name}",
            NmiRaised => "nmi",
            InterruptSent s => Source(s.Source),
            InterruptHeld h => Source(h.Source),
            InterruptTaken t => Source(t.Source),
            SyscallEntered s => $"syscall {s.Name}",
            WorkExecuted w => $"kworker {WorkFunctions.Name(w.Function)}",
            TickStopAttempted t => t.Success ? "tick stop" : $"tick stop failed {TickDependencies.TraceName(t.Dependency)}",
            TickRestarted t => $"tick restart {t.Reason}",
            SignalSent s => $"signal {s.Signal} sent",
            _ => root.GetType().Name,
        };
    }

    private static string Source(InterruptSource source) => source switch
    {
        TimerExpiry t => $"timer {t.Timer}",
        DeviceInterrupt d => $"device irq {d.Name}",
        NonMaskableInterrupt => "nmi",
        _ => $"interrupt {source.Kind}",
    };

    private static bool Has(CpuMask mask, int cpu) => cpu >= 0 && cpu < mask.NBits && mask.Test(cpu);
}
