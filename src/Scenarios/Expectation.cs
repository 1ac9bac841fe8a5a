using System.Collections.Immutable;
using System.Globalization;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using Sig = TaskIsolation.Machine.Abi.Signal;

namespace TaskIsolation.Scenarios;

/// <summary>How many of something: at least, at most, both (exactly), or neither (any number).</summary>
/// <param name="AtLeast">Lower bound, inclusive; null for none.</param>
/// <param name="AtMost">Upper bound, inclusive; null for none.</param>
public sealed record CountRange(long? AtLeast, long? AtMost)
{
    /// <summary>At least one.</summary>
    public static CountRange Some { get; } = new(1, null);

    /// <summary>Whether <paramref name="n"/> is in range.</summary>
    public bool Contains(long n) => (AtLeast is null || n >= AtLeast) && (AtMost is null || n <= AtMost);

    /// <summary><c>exactly 3</c>, <c>at least 1</c>, <c>between 2 and 5</c>, <c>any number of</c>.</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        return (AtLeast, AtMost) switch
        {
            (null, null) => "any number of",
            ({ } lo, { } hi) when lo == hi => string.Create(c, $"exactly {lo}"),
            ({ } lo, null) => string.Create(c, $"at least {lo}"),
            (null, { } hi) => string.Create(c, $"at most {hi}"),
            ({ } lo, { } hi) => string.Create(c, $"between {lo} and {hi}"),
        };
    }
}

/// <summary>How long something took: at least, at most, both, or neither (any time), in nanoseconds.</summary>
/// <param name="AtLeastNs">Lower bound, inclusive; null for none.</param>
/// <param name="AtMostNs">Upper bound, inclusive; null for none.</param>
public sealed record DurationRange(long? AtLeastNs, long? AtMostNs)
{
    /// <summary>Whether <paramref name="ns"/> is in range.</summary>
    public bool Contains(long ns) => (AtLeastNs is null || ns >= AtLeastNs) && (AtMostNs is null || ns <= AtMostNs);

    /// <summary><c>at most 500ns</c>, <c>between 400ms and 600ms</c>, <c>any time</c>.</summary>
    public string Describe() => (AtLeastNs, AtMostNs) switch
    {
        (null, null) => "any time",
        ({ } lo, { } hi) when lo == hi => "exactly " + Durations.Format(lo),
        ({ } lo, null) => "at least " + Durations.Format(lo),
        (null, { } hi) => "at most " + Durations.Format(hi),
        ({ } lo, { } hi) => $"between {Durations.Format(lo)} and {Durations.Format(hi)}",
    };
}

/// <summary>What a run recorded, as the expectations read it.</summary>
/// <param name="Events">Every event of the run, in order.</param>
/// <param name="NrCpus">CPUs of the machine.</param>
public sealed record RunRecord(IReadOnlyList<MachineEvent> Events, int NrCpus)
{
    /// <summary>Simulated time the run ended at (the last event's time unless told).</summary>
    public long EndNs { get; init; } = Events.Count == 0 ? 0 : Events[^1].Time;

    /// <summary>The timings the machine ran with: noise accounting charges handlers by them.</summary>
    public ModelTimings Timings { get; init; } = new();

    /// <summary>The sysfs CPU files of the booted machine (docs/model.md §2), as a read returns them.</summary>
    public IReadOnlyList<SysfsFile> Sysfs { get; init; } = [];

    /// <summary>The scenario's noise measurement settings: <c>max_noise</c> measures with its period and warm-up.</summary>
    public OsnoiseSettings Osnoise { get; init; } = OsnoiseSettings.Default;
}

/// <summary>The verdict on one expectation.</summary>
/// <param name="Expectation">What was expected.</param>
/// <param name="Text">The expectation in words.</param>
/// <param name="Held">Whether it held.</param>
/// <param name="Detail">What was found, in words (counts, the first offending event).</param>
public sealed record ExpectationResult(Expectation Expectation, string Text, bool Held, string Detail);

/// <summary>Something the run must show (the <c>expectations:</c> section of a scenario).</summary>
public abstract record Expectation
{
    /// <summary>The expectation in words: <c>no violation on CPUs 1-2</c>.</summary>
    public abstract string Describe();

    /// <summary>Judges the run.</summary>
    public ExpectationResult Evaluate(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var (held, detail) = Judge(run);
        return new ExpectationResult(this, Describe(), held, detail);
    }

    /// <summary>The verdict and what was found.</summary>
    protected abstract (bool Held, string Detail) Judge(RunRecord run);

    /// <summary><c>CPUs 1-3</c>, or <c>any CPU</c> for null.</summary>
    protected static string On(CpuMask? cpus) => cpus is null ? "any CPU" : (cpus.Count == 1 ? "CPU " : "CPUs ") + cpus.ToList();

    /// <summary>Whether <paramref name="cpu"/> is in <paramref name="cpus"/> (null: every CPU).</summary>
    protected static bool In(CpuMask? cpus, int cpu) => cpus is null || (cpu >= 0 && cpu < cpus.NBits && cpus.Test(cpu));

    /// <summary>The count of <paramref name="found"/> and the first of them, in words.</summary>
    protected static string Found<T>(IReadOnlyList<T> found, Func<T, string> describe)
    {
        var n = found.Count.ToString(CultureInfo.InvariantCulture);
        return found.Count == 0 ? "found none" : $"found {n}; first: {describe(found[0])}";
    }

    /// <summary>A measured time for people: whole units as written in scenarios (<c>3s</c>, <c>500ns</c>), others in
    /// milliseconds to the nanosecond (<c>501.998800ms</c>).</summary>
    internal static string Show(long ns)
    {
        var abs = Math.Abs(ns);
        var text = abs < 1_000_000 || abs % 1_000_000 == 0
            ? Durations.Format(abs)
            : (abs / 1e6).ToString("0.000000", CultureInfo.InvariantCulture) + "ms";
        return ns < 0 ? "-" + text : text;
    }

    /// <summary>A violation in one line with its time.</summary>
    protected static string Line(ViolationDetected v) =>
        string.Create(CultureInfo.InvariantCulture, $"{v.Time} ns cpu {v.Cpu}: {v.Detail} → {v.Task}; chain: {v.ChainText}");
}

/// <summary>No isolation violation on <see cref="Cpus"/> (every CPU when null).</summary>
public sealed record NoViolations(CpuMask? Cpus) : Expectation
{
    /// <inheritdoc />
    public override string Describe() => $"no violation on {On(Cpus)}";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var found = run.Events.OfType<ViolationDetected>().Where(v => In(Cpus, v.Cpu)).ToList();
        return (found.Count == 0, Found(found, Line));
    }
}

/// <summary>A number of violations, optionally of one kind and against one task.</summary>
public sealed record ViolationCount(CpuMask? Cpus, InterruptKind? Kind, string? Task, CountRange Count) : Expectation
{
    /// <inheritdoc />
    public override string Describe() =>
        $"{Count.Describe()} {(Kind is null ? string.Empty : ScenarioNames.KindName(Kind.Value) + " ")}violation(s) on {On(Cpus)}{(Task is null ? string.Empty : " against " + Task)}";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var found = run.Events.OfType<ViolationDetected>()
            .Where(v => In(Cpus, v.Cpu) && (Kind is null || v.Kind == Kind) && (Task is null || v.Task.Comm == Task))
            .ToList();
        return (Count.Contains(found.Count), Found(found, Line));
    }
}

/// <summary>A number of interrupts taken (of one kind, when given) on some CPUs, whatever the CPU was doing.</summary>
public sealed record InterruptCount(CpuMask? Cpus, InterruptKind? Kind, CountRange Count) : Expectation
{
    /// <inheritdoc />
    public override string Describe() =>
        $"{Count.Describe()} {(Kind is null ? string.Empty : ScenarioNames.KindName(Kind.Value) + " ")}interrupt(s) on {On(Cpus)}";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var found = run.Events.OfType<InterruptTaken>().Where(i => In(Cpus, i.Cpu) && (Kind is null || i.Kind == Kind)).ToList();
        return (Count.Contains(found.Count), Found(found, i => string.Create(CultureInfo.InvariantCulture, $"{i.Time} ns cpu {i.Cpu}: {i.What}")));
    }
}

/// <summary>The task was killed by a signal (any, when <see cref="Signal"/> is null), having lost isolation for
/// <see cref="Reason"/> when given (the reason of its <c>task_isolation … lost due to &lt;reason&gt;</c> line).</summary>
public sealed record Killed(string Task, int? Signal, string? Reason) : Expectation
{
    /// <inheritdoc />
    public override string Describe() =>
        $"{Task} killed by {(Signal is null ? "a signal" : Sig.Name(Signal.Value))}{(Reason is null ? string.Empty : $" after losing isolation due to {Reason}")}";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var exit = run.Events.OfType<TaskExited>().FirstOrDefault(e => e.Task.Comm == Task);
        if (exit is null)
        {
            return (false, $"{Task} did not exit");
        }

        var how = exit.What;
        if (exit.Signal == 0 || (Signal is { } s && exit.Signal != s))
        {
            return (false, how);
        }

        if (Reason is null)
        {
            return (true, how);
        }

        var line = run.Events.OfType<KernelLogged>().FirstOrDefault(l => l.Line.Loss is { } loss && loss.Task.Comm == Task && loss.Reason == Reason);
        return line is null
            ? (false, $"{how}, but no dmesg line says it lost isolation due to {Reason}")
            : (true, $"{how}; dmesg: {line.Text}");
    }
}

/// <summary>The task exited by itself (not by a signal) with <see cref="Code"/>.</summary>
public sealed record Exited(string Task, int Code) : Expectation
{
    /// <inheritdoc />
    public override string Describe() => string.Create(CultureInfo.InvariantCulture, $"{Task} exits with code {Code}");

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var exit = run.Events.OfType<TaskExited>().FirstOrDefault(e => e.Task.Comm == Task);
        return exit is null ? (false, $"{Task} did not exit") : (exit.Signal == 0 && exit.Code == Code, exit.What);
    }
}

/// <summary>The task's <see cref="Call"/>-th <c>prctl()</c> (1-based) returned <see cref="Returns"/>.</summary>
public sealed record PrctlReturns(string Task, int Call, long Returns) : Expectation
{
    /// <inheritdoc />
    public override string Describe() =>
        string.Create(CultureInfo.InvariantCulture, $"{(Call == 1 ? "the first" : $"call {Call} of")} prctl of {Task} returns {Errno.FormatReturn(Returns)}");

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var calls = run.Events.OfType<PrctlReturned>().Where(p => p.Task.Comm == Task).ToList();
        if (calls.Count < Call)
        {
            return (false, string.Create(CultureInfo.InvariantCulture, $"{Task} made {calls.Count} prctl call(s)"));
        }

        var p = calls[Call - 1];
        return (p.Result == Returns, $"returned {Errno.FormatReturn(p.Result)}");
    }
}

/// <summary>A number of signals sent to the task (of one signal, when given), by anyone, for any reason.</summary>
public sealed record SignalCount(string Task, int? Signal, CountRange Count) : Expectation
{
    /// <inheritdoc />
    public override string Describe() =>
        $"{Count.Describe()} {(Signal is null ? "signal(s)" : Sig.Name(Signal.Value))} sent to {Task}";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var found = run.Events.OfType<SignalSent>()
            .Where(s => s.Task.Comm == Task && s.Signal != 0 && (Signal is null || s.Signal == Signal))
            .ToList();
        return (Count.Contains(found.Count), Found(found, s => s.What));
    }
}

/// <summary>No liveness failure (docs/model.md §7): no task stayed out of user mode past the bound.</summary>
public sealed record NoLivenessFailures : Expectation
{
    /// <inheritdoc />
    public override string Describe() => "no liveness failure";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var found = run.Events.OfType<LivenessViolated>().ToList();
        return (found.Count == 0, Found(found, l => l.What));
    }
}

/// <summary>A liveness failure of <see cref="Task"/> (of any task when null): it got stuck (docs/model.md §7).</summary>
public sealed record LivenessFailure(string? Task) : Expectation
{
    /// <inheritdoc />
    public override string Describe() => $"a liveness failure{(Task is null ? string.Empty : " of " + Task)}";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var found = run.Events.OfType<LivenessViolated>().Where(l => Task is null || l.Task.Comm == Task).ToList();
        return (found.Count > 0, Found(found, l => l.What));
    }
}

/// <summary>A kernel log line containing <see cref="Text"/> appears (or, with <see cref="Absent"/>, never does).</summary>
public sealed record DmesgLine(string Text, bool Absent) : Expectation
{
    /// <inheritdoc />
    public override string Describe() => Absent ? $"no dmesg line contains \"{Text}\"" : $"a dmesg line contains \"{Text}\"";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var found = run.Events.OfType<KernelLogged>().Where(l => l.Text.Contains(Text, StringComparison.Ordinal)).ToList();
        return (Absent ? found.Count == 0 : found.Count > 0, Found(found, l => l.Text));
    }
}

/// <summary>
/// The sysfs file <c>/sys/devices/system/cpu/&lt;File&gt;</c> reads as the list <see cref="Cpus"/> plus a newline
/// (docs/model.md §2): the kernel selftest reads <c>task_isolation</c> to find a CPU to isolate on.
/// </summary>
public sealed record SysfsReads(string File, CpuMask Cpus) : Expectation
{
    /// <summary>The files of <c>/sys/devices/system/cpu</c> the model has.</summary>
    public static IReadOnlyList<string> Files { get; } = ["possible", "present", "online", "isolated", "nohz_full", "task_isolation"];

    /// <inheritdoc />
    public override string Describe() => $"/sys/devices/system/cpu/{File} reads \"{Cpus.ToList()}\\n\"";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var file = run.Sysfs.FirstOrDefault(f => f.Name == File);
        if (file is null)
        {
            return (false, $"the machine has no {File} file");
        }

        var shown = file.Contents.Replace("\n", "\\n", StringComparison.Ordinal);
        return (file.Contents == Cpus.ToList() + "\n", $"reads \"{shown}\"");
    }
}

/// <summary>Which moment of a task's life an <see cref="Elapsed"/> expectation measures from or to.</summary>
public enum PointKind
{
    /// <summary>The task starts a step (its <c>OperationStarted</c> event).</summary>
    Starts,

    /// <summary>The task is done with a step: it starts its next step, or exits.</summary>
    Ends,

    /// <summary>The task exits (by itself or by a signal).</summary>
    Exits,
}

/// <summary>
/// A moment of a run: <see cref="Task"/> starting (or ending) the <see cref="Occurrence"/>-th step named
/// <see cref="Step"/>, or exiting.
/// </summary>
/// <param name="Task">The task.</param>
/// <param name="Kind">Start of a step, end of a step, or exit.</param>
/// <param name="Step">The step: a scenario operation (<c>fork</c>, <c>thread</c>, <c>sleep</c>, <c>compute</c>, …) or a
/// syscall name (<c>write</c>); null for <see cref="PointKind.Exits"/>.</param>
/// <param name="Occurrence">Which time the task starts that step, from 1.</param>
public sealed record EventPoint(string Task, PointKind Kind, string? Step, int Occurrence)
{
    /// <summary>Scenario operation names whose steps the trace names otherwise.</summary>
    private static readonly Dictionary<string, string> TraceNames = new(StringComparer.Ordinal)
    {
        ["thread"] = "clone",
        ["sleep"] = "nanosleep",
        ["exit"] = "exit_group",
        ["wait"] = "wait4",
        ["affinity"] = "sched_setaffinity",
        ["posix_timer"] = "timer_settime",
        ["unaligned"] = "unaligned access",
    };

    /// <summary><c>parent starts fork</c>, <c>parent ends its 2nd write</c>, <c>child exits</c>.</summary>
    public string Describe()
    {
        var nth = Occurrence == 1 ? string.Empty : Ordinal(Occurrence) + " ";
        return Kind switch
        {
            PointKind.Starts => $"{Task} starts its {nth}{Step}",
            PointKind.Ends => $"{Task} is done with its {nth}{Step}",
            _ => $"{Task} exits",
        };
    }

    /// <summary>When it happened, or null with what was missing.</summary>
    public (long? Time, string Detail) Find(IReadOnlyList<MachineEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (Kind == PointKind.Exits)
        {
            var exit = events.OfType<TaskExited>().FirstOrDefault(e => e.Task.Comm == Task);
            return exit is null ? (null, $"{Task} did not exit") : (exit.Time, exit.What);
        }

        var seen = 0;
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is not OperationStarted op || op.Task.Comm != Task || op.Step.Name != StepName || ++seen < Occurrence)
            {
                continue;
            }

            if (Kind == PointKind.Starts)
            {
                return (op.Time, $"{op.Operation} at {Expectation.Show(op.Time)}");
            }

            // Done with it: back in user space at the task's next step, or gone.
            for (var j = i + 1; j < events.Count; j++)
            {
                switch (events[j])
                {
                    case OperationStarted next when next.Task.Comm == Task:
                        return (next.Time, $"{next.Operation} at {Expectation.Show(next.Time)}");
                    case TaskExited x when x.Task.Comm == Task:
                        return (x.Time, x.What);
                }
            }

            return (null, $"{Task} was still in {op.Operation} at the end");
        }

        return (null, string.Create(CultureInfo.InvariantCulture, $"{Task} started {seen} {Step} step(s)"));
    }

    /// <summary>The step's name as events carry it (<see cref="TaskStep.Name"/>): the scenario's word, or the trace's where they differ.</summary>
    internal string StepName => Step is not null && TraceNames.TryGetValue(Step, out var t) ? t : Step ?? string.Empty;

    private static string Ordinal(int n) => string.Create(CultureInfo.InvariantCulture, $"{n}{(n % 100 is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" })}");
}

/// <summary>The simulated time from <see cref="From"/> to <see cref="To"/> is in <see cref="Range"/> (docs/model.md §8
/// selftest 10: 0.4–0.6 s until the NOSIG parent's syscall returns). A negative time means <see cref="To"/> came
/// first, so <c>at_least: 0</c> asserts the order.</summary>
public sealed record Elapsed(EventPoint From, EventPoint To, DurationRange Range) : Expectation
{
    /// <inheritdoc />
    public override string Describe() => $"from \"{From.Describe()}\" to \"{To.Describe()}\": {Range.Describe()}";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var (from, fromDetail) = From.Find(run.Events);
        var (to, toDetail) = To.Find(run.Events);
        if (from is not { } a || to is not { } b)
        {
            return (false, from is null ? fromDetail : toDetail);
        }

        var ns = b - a;
        return (Range.Contains(ns), $"{Show(ns)} ({fromDetail} → {toDetail})");
    }
}

/// <summary>
/// The longest single noise on <see cref="Cpus"/> (rtla osnoise's <c>Max Single</c>, docs/model.md §11, measured by
/// <see cref="NoiseAccountant"/> with the scenario's <c>osnoise</c> period and warm-up, on those CPUs whatever its CPU
/// list) is in <see cref="Range"/>: the selftest's jitter check (§8 selftest 11).
/// </summary>
public sealed record MaxNoise(CpuMask? Cpus, DurationRange Range) : Expectation
{
    /// <inheritdoc />
    public override string Describe() => $"the longest single noise on {On(Cpus)} is {Range.Describe()}";

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var noise = new NoiseAccountant(run.NrCpus, run.Timings, run.Osnoise with { Cpus = null });
        RunObservers.Replay(run.Events, run.EndNs, noise);
        var worst = noise.Cpus.Where(c => c.Measured && In(Cpus, c.Cpu)).MaxBy(c => c.MaxSingleNs);
        if (worst is null)
        {
            return (Range.Contains(0), "no CPU measured");
        }

        var detail = string.Create(CultureInfo.InvariantCulture, $"{Show(worst.MaxSingleNs)} on CPU {worst.Cpu} ({worst.Noises} noise(s), {worst.Irq} IRQ, {worst.Nmi} NMI, {worst.Thread} thread over {Show(worst.RuntimeNs)} runtime)");
        return (Range.Contains(worst.MaxSingleNs), detail);
    }
}

/// <summary>
/// One outcome of a race (an item of <see cref="OneOf"/>): its name, for people, and what holds in the schedules that
/// take it.
/// </summary>
/// <param name="Name">What happens in this outcome, in words: <c>6b, the wake-up lands before ready</c>.</param>
/// <param name="Expectations">What holds when the run takes it; at least one.</param>
public sealed record Outcome(string Name, ImmutableArray<Expectation> Expectations)
{
    /// <inheritdoc />
    public bool Equals(Outcome? other) =>
        other is not null && Name == other.Name && Expectations.SequenceEqual(other.Expectations);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Expectations.Length);

    /// <summary><c>"6b …" (no violation on CPU 3)</c>: the name and its expectations.</summary>
    public string Describe() => $"\"{Name}\" ({string.Join(" and ", Expectations.Select(e => e.Describe()))})";
}

/// <summary>
/// The expectation form of a race (docs/scenarios.md): the run takes one of the <see cref="Outcomes"/>, which one
/// depending on the interleaving. It holds when every expectation of at least one outcome holds. A scenario whose
/// result is a race states its outcomes this way, next to what every schedule shows, so that its expectations hold
/// for every seed and every execution mode.
/// </summary>
/// <param name="Outcomes">The outcomes, at least two, with names unique among them.</param>
public sealed record OneOf(ImmutableArray<Outcome> Outcomes) : Expectation
{
    /// <inheritdoc />
    public bool Equals(OneOf? other) => other is not null && Outcomes.SequenceEqual(other.Outcomes);

    /// <inheritdoc />
    public override int GetHashCode() => Outcomes.Length;

    /// <inheritdoc />
    public override string Describe() => "one of: " + string.Join(" or ", Outcomes.Select(o => o.Describe()));

    /// <summary>The outcomes the run took: those whose every expectation held (none when the expectation failed).</summary>
    public IReadOnlyList<Outcome> Taken(RunRecord run) =>
        [.. Outcomes.Where(o => o.Expectations.All(e => e.Evaluate(run).Held))];

    /// <inheritdoc />
    protected override (bool Held, string Detail) Judge(RunRecord run)
    {
        var verdicts = Outcomes.Select(o => (Outcome: o, Results: o.Expectations.Select(e => e.Evaluate(run)).ToList())).ToList();
        var taken = verdicts.Where(v => v.Results.All(r => r.Held)).ToList();
        if (taken.Count > 0)
        {
            return (true, string.Join("; ", taken.Select(v => $"outcome \"{v.Outcome.Name}\": {string.Join(", ", v.Results.Select(r => r.Detail))}")));
        }

        // Why each outcome failed: its first expectation that did not hold.
        return (false, "no outcome held: " + string.Join("; ", verdicts.Select(v =>
        {
            var failed = v.Results.First(r => !r.Held);
            return $"\"{v.Outcome.Name}\": {failed.Text}: {failed.Detail}";
        })));
    }
}
