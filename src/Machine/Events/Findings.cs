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

/// <summary>
/// A task stuck past the liveness bound (docs/model.md §7): it entered the kernel (or was created) and has not got back
/// to user space, outside the time it slept with its wake-up still scheduled. <see cref="Waiting"/> says what it was
/// doing when the bound passed.
/// </summary>
public sealed record LivenessViolated(long Id, long Time, int Cpu, long Cause, TaskRef Task, long SinceNs, long BoundNs)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>What the task was doing when the bound passed; the return-to-user loop (§9 R1) unless set.</summary>
    public LivenessWait Waiting { get; init; } = LivenessWait.ReturningToUser;

    /// <summary>What the task has been doing since <see cref="SinceNs"/>, as the outputs say it (<see cref="LivenessWaits.Text"/>).</summary>
    public string Doing => LivenessWaits.Text(Waiting);

    /// <inheritdoc />
    public override string What => $"LIVENESS on cpu {Cpu}: {Task} has been {Doing} since {SinceNs} ns (bound {BoundNs} ns)";
}

/// <summary>What a task stuck past the liveness bound was doing (docs/model.md §7).</summary>
public enum LivenessWait
{
    /// <summary>An isolated task in the return-to-user loop (<c>ReturnToUserBegan</c>, §9 R1).</summary>
    ReturningToUser,

    /// <summary>Running in the kernel: a syscall, an exception or an interrupt's exit path that does not end.</summary>
    InKernel,

    /// <summary>Runnable but not current on any CPU: created, woken or preempted and never scheduled again.</summary>
    Runnable,
}

/// <summary>The display text of <see cref="LivenessWait"/>: the one place every output (run text, JSON, CLEF, soak) takes it from.</summary>
public static class LivenessWaits
{
    /// <summary><c>returning to user</c>, <c>in the kernel</c>, <c>runnable and not scheduled</c>.</summary>
    public static string Text(LivenessWait waiting) => waiting switch
    {
        LivenessWait.ReturningToUser => "returning to user",
        LivenessWait.InKernel => "in the kernel",
        LivenessWait.Runnable => "runnable and not scheduled",
        _ => throw new ArgumentOutOfRangeException(nameof(waiting), waiting, "unknown liveness wait"),
    };
}

/// <summary>
/// A task's loss of isolation reported twice (docs/model.md §9 R14): a second <c>task_isolation mode lost due to</c> line
/// for a task that has not enabled isolation again since the first. In v13 each report tests the flags and then
/// delivers without a lock (<c>task_isolation_debug_task()</c>), so two CPUs that both test before either clears
/// both log and both signal; the kernel meant one report per break. <see cref="Chain"/> is the second report's,
/// <see cref="FirstReport"/> the id of the first report's log line.
/// </summary>
/// <param name="Id">The event id.</param>
/// <param name="Time">When the second report was logged.</param>
/// <param name="Cpu">The CPU the task was on (the isolated CPU), not the reporting one.</param>
/// <param name="Cause">The second report's log line.</param>
/// <param name="Task">The task reported twice.</param>
/// <param name="FirstReport">The first report's log line.</param>
/// <param name="FirstReportCpu">The CPU that printed the first report.</param>
/// <param name="SecondReportCpu">The CPU that printed the second.</param>
/// <param name="Chain">The second report's causal chain, root first.</param>
public sealed record DoubleReport(long Id, long Time, int Cpu, long Cause, TaskRef Task, long FirstReport, int FirstReportCpu, int SecondReportCpu, ImmutableArray<ChainLink> Chain)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>The chain as one line.</summary>
    public string ChainText => string.Join(" → ", Chain.Select(l => l.What));

    /// <inheritdoc />
    public override string What => $"DOUBLE REPORT on cpu {Cpu}: {Task} lost isolation once and was reported by cpu {FirstReportCpu} and cpu {SecondReportCpu}; chain: {ChainText}";
}

/// <summary>How a monitor's property broke (docs/exploration.md, "Monitors"): the typed part of a <see cref="MonitorFailed"/>.</summary>
public enum MonitorFailure
{
    /// <summary>A safety property broke at an event: the monitor asserted something that did not hold.</summary>
    Assertion,

    /// <summary>A hot state (something owed) was held longer than its bound: bounded liveness.</summary>
    HotTooLong,

    /// <summary>The run ended with the monitor in a hot state: something owed never came (liveness, as in Coyote).</summary>
    HotAtEnd,
}

/// <summary>The display text of <see cref="MonitorFailure"/>, and the word a finding's signature uses.</summary>
public static class MonitorFailures
{
    /// <summary><c>failed</c>, <c>stayed hot past its bound</c>, <c>ended the run hot</c>.</summary>
    public static string Text(MonitorFailure failure) => failure switch
    {
        MonitorFailure.Assertion => "failed",
        MonitorFailure.HotTooLong => "stayed hot past its bound",
        MonitorFailure.HotAtEnd => "ended the run hot",
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, "unknown monitor failure"),
    };
}

/// <summary>
/// A monitor's property broke (a scenario's <c>monitors:</c> section or a monitor of a user's own, docs/exploration.md):
/// a finding like a violation. <see cref="Monitor"/> is the monitor's name, <see cref="MonitorKind"/> its kind
/// (<c>no_interrupt</c>, <c>max_single_noise</c>, <c>reaches_user</c>, or a user's class name), <see cref="Failure"/>
/// how it broke; <see cref="Chain"/> is the causal chain of the event that broke it (for a hot state, the event that
/// made it hot), root first. <see cref="Reason"/> is for people only: decide on the typed fields.
/// </summary>
/// <param name="Id">The event id.</param>
/// <param name="Time">When the monitor failed.</param>
/// <param name="Cpu">The CPU the property is about.</param>
/// <param name="Cause">The event that broke it (or made the monitor hot).</param>
/// <param name="Monitor">The monitor's name, unique on the machine.</param>
/// <param name="MonitorKind">The monitor's kind.</param>
/// <param name="Failure">How it broke.</param>
/// <param name="Task">The task the property is about, if any.</param>
/// <param name="Reason">What broke, in words (display only).</param>
/// <param name="Chain">The cause's causal chain, root first.</param>
public sealed record MonitorFailed(long Id, long Time, int Cpu, long Cause, string Monitor, string MonitorKind, MonitorFailure Failure, TaskRef? Task, string Reason, ImmutableArray<ChainLink> Chain)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>The chain as one line.</summary>
    public string ChainText => string.Join(" → ", Chain.Select(l => l.What));

    /// <inheritdoc />
    public override string What => $"MONITOR {Monitor} ({MonitorKind}) {MonitorFailures.Text(Failure)} on cpu {Cpu}: {Reason}";
}

/// <summary>
/// Simulated time stopped (docs/model.md §12): at <see cref="MachineEvent.Time"/> the machine made
/// <see cref="Deliveries"/> deliveries (the scenario's <c>max_instant_deliveries</c>) without the clock moving, because
/// the actors of <see cref="Loop"/> kept sending each other messages with no delay. The run ends there: nothing after
/// that instant can happen. <see cref="MachineEvent.Cpu"/> is the first CPU in the loop (0 when no CPU is in it).
/// </summary>
/// <param name="Id">The event id.</param>
/// <param name="Time">The instant the clock was held at.</param>
/// <param name="Cpu">The first CPU whose actor is in the loop, or 0.</param>
/// <param name="Cause">0: a loop has no single cause.</param>
/// <param name="Deliveries">Deliveries at that instant.</param>
/// <param name="Loop">The actors that received the instant's last deliveries and the message types each received, by name.</param>
public sealed record NoProgressDetected(long Id, long Time, int Cpu, long Cause, long Deliveries, ImmutableArray<LoopActor> Loop)
    : MachineEvent(Id, Time, Cpu, Cause)
{
    /// <summary>The loop as one line: <c>cpu3 (ReturnStep, SyscallDone), task-101 (Next)</c>.</summary>
    public string LoopText => string.Join(", ", Loop.Select(a => a.ToString()));

    /// <summary>The message types of the loop, each once, sorted: what a signature is made of (no actor names, no pids).</summary>
    public ImmutableArray<string> MessageTypes => [.. Loop.SelectMany(a => a.Messages).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <inheritdoc />
    public override string What => $"no progress in simulated time at {Time} ns: {Deliveries} deliveries at one instant among {LoopText}";
}

/// <summary>An actor of a loop that held simulated time, and the message types it received in it (sorted, by type name).</summary>
/// <param name="Actor">The actor's name (<c>cpu3</c>, <c>task-101</c>).</param>
/// <param name="Messages">The message types.</param>
public sealed record LoopActor(string Actor, ImmutableArray<string> Messages)
{
    /// <summary>Value equality, the messages compared element by element.</summary>
    public bool Equals(LoopActor? other) => other is not null && Actor == other.Actor && Messages.SequenceEqual(other.Messages);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Actor, Messages.Length);

    /// <summary><c>cpu3 (ReturnStep, SyscallDone)</c>.</summary>
    public override string ToString() => $"{Actor} ({string.Join(", ", Messages)})";
}
