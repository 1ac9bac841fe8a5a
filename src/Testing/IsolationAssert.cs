using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Testing;

/// <summary>
/// Typed assertions on a run (<see cref="IsolationResult"/>) or an exploration (<see cref="ExplorationResult"/>). Run
/// assertions are judged by the scenario format's own expectations (<see cref="Expectation"/>), so a test and a
/// scenario file's <c>expectations:</c> agree on what "killed by SIGKILL" means. A failure throws
/// <see cref="IsolationAssertException"/> whose message names what was expected, what the check found, and lists
/// everything the run found; a success returns what matched, for further checks.
/// </summary>
public static class IsolationAssert
{
    /// <summary>No isolation violation on <paramref name="cpu"/> (on any CPU when null).</summary>
    public static void NoViolation(IsolationResult result, int? cpu = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        Judge(result, new NoViolations(Cpus(result, cpu)), nameof(NoViolation));
    }

    /// <summary>
    /// At least one violation matching every given filter: on <paramref name="cpu"/>, of interrupt
    /// <paramref name="kind"/>, against the task named <paramref name="task"/>.
    /// </summary>
    /// <returns>The first matching violation (its <see cref="ViolationDetected.Chain"/> runs from the root cause).</returns>
    public static ViolationDetected Violation(IsolationResult result, int? cpu = null, InterruptKind? kind = null, string? task = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        Judge(result, new ViolationCount(Cpus(result, cpu), kind, task, CountRange.Some), nameof(Violation));
        return result.Violations.First(v => (cpu is null || v.Cpu == cpu) && (kind is null || v.Kind == kind) && (task is null || v.Task.Comm == task));
    }

    /// <summary>No liveness failure: no task stayed out of user mode past the bound (docs/model.md §7).</summary>
    public static void NoLivenessFailure(IsolationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Judge(result, new NoLivenessFailures(), nameof(NoLivenessFailure));
    }

    /// <summary>A liveness failure of the task named <paramref name="task"/> (of any task when null).</summary>
    /// <returns>The first matching failure.</returns>
    public static LivenessViolated LivenessFailure(IsolationResult result, string? task = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        Judge(result, new Scenarios.LivenessFailure(task), nameof(LivenessFailure));
        return result.LivenessFailures.First(l => task is null || l.Task.Comm == task);
    }

    /// <summary>
    /// The task named <paramref name="task"/> was killed by <paramref name="signal"/> (by any signal when null), having
    /// lost isolation for <paramref name="reason"/> when given (its <c>task_isolation … lost due to</c> kernel log line).
    /// </summary>
    /// <returns>The task's exit.</returns>
    public static TaskExited KilledBy(IsolationResult result, string task, int? signal = null, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(task);
        Judge(result, new Killed(task, signal, reason), nameof(KilledBy));
        return result.ExitOf(task)!;
    }

    /// <summary>The task named <paramref name="task"/> exited by itself with <paramref name="code"/>.</summary>
    /// <returns>The task's exit.</returns>
    public static TaskExited ExitedWith(IsolationResult result, string task, int code)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(task);
        Judge(result, new Exited(task, code), nameof(ExitedWith));
        return result.ExitOf(task)!;
    }

    /// <summary>At least one <paramref name="signal"/> (any signal when null) was sent to the task named <paramref name="task"/>.</summary>
    /// <returns>The first matching signal.</returns>
    public static SignalSent Signalled(IsolationResult result, string task, int? signal = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(task);
        Judge(result, new SignalCount(task, signal, CountRange.Some), nameof(Signalled));
        return result.Signals.First(s => s.Task.Comm == task && s.Signal != 0 && (signal is null || s.Signal == signal));
    }

    /// <summary>Some kernel log line of the run contains <paramref name="text"/>.</summary>
    public static void KernelLogContains(IsolationResult result, string text)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(text);
        Judge(result, new DmesgLine(text, false), nameof(KernelLogContains));
    }

    /// <summary><paramref name="expectation"/> holds for the run (any expectation a scenario file can state).</summary>
    public static void Holds(IsolationResult result, Expectation expectation)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(expectation);
        Judge(result, expectation, nameof(Holds));
    }

    /// <summary>Every expectation of the scenario held.</summary>
    public static void ExpectationsHeld(IsolationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var failed = result.Expectations.Where(e => !e.Held).ToList();
        if (failed.Count > 0)
        {
            Fail(nameof(ExpectationsHeld), $"{failed.Count} of {result.Expectations.Length} expectations of {result.Scenario.Name} failed:\n"
                + string.Join('\n', failed.Select(e => $"  {e.Text}: {e.Detail}")), result.Summary());
        }
    }

    /// <summary>No monitor failed (the scenario's <c>monitors:</c> and your own).</summary>
    public static void NoMonitorFailure(IsolationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.MonitorFailures.Count > 0)
        {
            Fail(nameof(NoMonitorFailure), $"{result.MonitorFailures.Count} monitor(s) failed:\n"
                + string.Join('\n', result.MonitorFailures.Select(m => $"  {m.What}; chain: {m.ChainText}")), result.Summary());
        }
    }

    /// <summary>The monitor named <paramref name="monitor"/> failed (how, when <paramref name="failure"/> is given).</summary>
    /// <returns>Its failure.</returns>
    public static MonitorFailed MonitorFailure(IsolationResult result, string monitor, MonitorFailure? failure = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(monitor);
        var found = result.MonitorFailures.FirstOrDefault(m => m.Monitor == monitor && (failure is null || m.Failure == failure));
        if (found is null)
        {
            Fail(nameof(MonitorFailure), $"monitor {monitor} did not fail{(failure is { } f ? $" ({f})" : string.Empty)}; failures: {(result.MonitorFailures.Count == 0 ? "none" : string.Join(", ", result.MonitorFailures.Select(m => $"{m.Monitor} ({m.Failure})")))}", result.Summary());
        }

        return found!;
    }

    /// <summary>The exploration found nothing over all its schedules.</summary>
    public static void NoFinding(ExplorationResult exploration)
    {
        ArgumentNullException.ThrowIfNull(exploration);
        if (exploration.Findings.Count > 0)
        {
            Fail(nameof(NoFinding), $"expected no finding in {exploration.Schedules} schedules, but {exploration.FailingSchedules} schedules found something", exploration.Summary());
        }
    }

    /// <summary>
    /// The exhaustive search (<see cref="IsolationExplorer.ExploreAll"/>) covered every schedule and none found anything:
    /// it fails when a schedule found something (naming it, its chain and decisions) and when the search was bounded (by
    /// its schedule budget, or a schedule cut by the delivery bound), since then it proves nothing.
    /// </summary>
    public static void NoFinding(ExhaustiveReport search)
    {
        ArgumentNullException.ThrowIfNull(search);
        if (search.Reproducer is { } r)
        {
            var f = r.Finding;
            Fail(nameof(NoFinding), $"expected no finding in any schedule, but schedule {r.Run.Schedule + 1} of the exhaustive search found {f.Signature}: {f.Kind} on cpu {f.Cpu}{(f.Interrupt is null ? string.Empty : $" ({f.Interrupt})")} of {f.Task} at {f.TimeNs} ns: {f.ChainText}; decisions {r.Decisions}", null);
        }

        if (!search.Proved)
        {
            var why = search.End switch
            {
                ExhaustiveEnd.MaxSchedules => "its schedule budget ended it",
                ExhaustiveEnd.Wall => "its wall bound ended it",
                ExhaustiveEnd.Cancelled => "it was cancelled",
                _ => $"{search.StepLimited} schedules hit the delivery bound",
            };
            Fail(nameof(NoFinding), $"expected a search of every schedule, but {why} after {search.Schedules} schedules ({search.Fraction:P1} of the tree as far as known): no finding, but not a proof", null);
        }
    }

    /// <summary>
    /// The exploration found a violation (or, with <paramref name="liveness"/>, a liveness failure) matching every given
    /// filter: on <paramref name="cpu"/>, of interrupt <paramref name="kind"/>.
    /// </summary>
    /// <returns>The first matching distinct finding, with its reproducer.</returns>
    public static FindingGroup Finding(ExplorationResult exploration, int? cpu = null, InterruptKind? kind = null, bool liveness = false)
    {
        ArgumentNullException.ThrowIfNull(exploration);
        var want = liveness ? "liveness" : "violation";
        var match = exploration.Findings.FirstOrDefault(f =>
            f.Reproducer.Finding.Kind == want && (cpu is null || f.Reproducer.Finding.Cpu == cpu) && (kind is null || f.Reproducer.Finding.Interrupt == kind.ToString()));
        if (match is null)
        {
            var filters = (cpu is null ? string.Empty : $" on cpu {cpu}") + (kind is null ? string.Empty : $" of kind {kind}");
            Fail(nameof(Finding), $"expected a {want} finding{filters} in {exploration.Schedules} schedules, found none that matches", exploration.Summary());
        }

        return match!;
    }

    /// <summary>Replaying <paramref name="reproducer"/> gives the same finding, from the same decisions, on the same target text.</summary>
    /// <returns>The replay's report.</returns>
    public static ReplayReport Reproduces(Reproducer reproducer)
    {
        ArgumentNullException.ThrowIfNull(reproducer);
        return Reproduces(IsolationExplorer.Replay(reproducer));
    }

    /// <summary>The replay <paramref name="report"/> reproduced its finding.</summary>
    /// <returns>The report.</returns>
    public static ReplayReport Reproduces(ReplayReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!report.Ok)
        {
            Fail(nameof(Reproduces), $"expected the reproducer to reproduce its finding, but the replay ended {report.Status}: {report.Message}", null);
        }

        return report;
    }

    private static CpuMask? Cpus(IsolationResult result, int? cpu) => cpu is { } c ? CpuMask.Single(result.Scenario.Cpus, c) : null;

    private static void Judge(IsolationResult result, Expectation expectation, string assertion)
    {
        var verdict = expectation.Evaluate(result.Record());
        if (!verdict.Held)
        {
            Fail(assertion, $"expected {verdict.Text}; {verdict.Detail}", result.Summary());
        }
    }

    private static void Fail(string assertion, string what, string? found) =>
        throw new IsolationAssertException($"IsolationAssert.{assertion} failed: {what}" + (found is null ? string.Empty : $"\n{found}"));
}
