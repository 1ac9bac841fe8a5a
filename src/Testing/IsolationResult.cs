using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Testing;

/// <summary>
/// What one run of a scenario produced, typed: the violations and liveness failures the monitors found, the signals
/// sent, the tasks' exits, the kernel log and the expectations' verdicts. <see cref="Run"/> holds everything else
/// (the machine, its recorder, every event).
/// </summary>
public sealed class IsolationResult
{
    /// <summary>Lines <see cref="Summary"/> lists of each kind; a failing assertion's message stays readable.</summary>
    private const int MaxListed = 20;

    /// <summary>Wraps a finished run.</summary>
    public IsolationResult(ScenarioRun run)
    {
        Run = run ?? throw new ArgumentNullException(nameof(run));
        Events = run.Machine.Recorder.Events;
    }

    /// <summary>The run itself: scenario, settings, the machine after the run, outcome, expectations.</summary>
    public ScenarioRun Run { get; }

    /// <summary>The scenario that ran.</summary>
    public Scenario Scenario => Run.Scenario;

    /// <summary>The seed it ran with.</summary>
    public int Seed => Run.Settings.Seed;

    /// <summary>Controlled or concurrent.</summary>
    public ExecutionMode Mode => Run.Settings.Mode;

    /// <summary>Why the simulation stopped.</summary>
    public RunOutcome Outcome => Run.Outcome;

    /// <summary>Simulated time the run reached, in nanoseconds.</summary>
    public long SimulatedNs => Run.SimulatedNs;

    /// <summary>Every event the machine recorded, in order.</summary>
    public IReadOnlyList<MachineEvent> Events { get; }

    /// <summary>Isolation violations (docs/model.md §7): an asynchronous interrupt reached an isolated task in user mode.</summary>
    public IReadOnlyList<ViolationDetected> Violations => Run.Machine.Violations;

    /// <summary>Tasks stuck out of user mode past the liveness bound (docs/model.md §7).</summary>
    public IReadOnlyList<LivenessViolated> LivenessFailures => Run.Machine.LivenessFailures;

    /// <summary>Failures of the run's monitors (the scenario's <c>monitors:</c> and your own), in order.</summary>
    public IReadOnlyList<MonitorFailed> MonitorFailures => Run.Machine.MonitorFailures;

    /// <summary>Losses of isolation reported twice (docs/races.md R14), in order.</summary>
    public IReadOnlyList<DoubleReport> DoubleReports => Run.Machine.DoubleReports;

    /// <summary>Every signal sent to a task, with its typed reason.</summary>
    public IReadOnlyList<SignalSent> Signals => [.. Events.OfType<SignalSent>()];

    /// <summary>Every task exit: its code, or the signal that killed it.</summary>
    public IReadOnlyList<TaskExited> Exits => [.. Events.OfType<TaskExited>()];

    /// <summary>The kernel's messages during the run, each as <c>dmesg</c> prints it.</summary>
    public IReadOnlyList<string> KernelLog => [.. Events.OfType<KernelLogged>().Select(l => Dmesg.Format(l.Time, l.Text))];

    /// <summary>The boot log, each line as <c>dmesg</c> prints it.</summary>
    public IReadOnlyList<string> BootLog => [.. Run.Machine.Booted.Log.Select(l => l.ToString())];

    /// <summary>Each of the scenario's expectations with its verdict, in scenario order.</summary>
    public ImmutableArray<ExpectationResult> Expectations => Run.Expectations;

    /// <summary>Whether every expectation of the scenario held.</summary>
    public bool AllExpectationsHeld => Run.AllHeld;

    /// <summary>The run as expectations judge it: evaluate an <see cref="Expectation"/> of your own on it.</summary>
    public RunRecord Record() => Run.Record();

    /// <summary>The exit of the first task named <paramref name="task"/>, or null when it has not exited.</summary>
    public TaskExited? ExitOf(string task) => Exits.FirstOrDefault(e => e.Task.Comm == task);

    /// <summary>What the run found, a few lines for people: the run, violations, liveness failures, signals, exits and expectations.</summary>
    public string Summary()
    {
        var inv = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(inv, $"run of {Scenario.Name}: seed {Seed}, {Mode.ToString().ToLowerInvariant()} mode, {SimulatedNs} ns simulated, {Outcome}").Append('\n');
        List("violations", Violations.Select(v => v.What));
        List("liveness failures", LivenessFailures.Select(l => l.What));
        List("signals", Signals.Select(s => s.What));
        List("exits", Exits.Select(e => e.What));
        List("expectations", Expectations.Select(e => $"{(e.Held ? "held" : "FAILED")}: {e.Text} ({e.Detail})"));
        return b.ToString().TrimEnd('\n');

        void List(string what, IEnumerable<string> lines)
        {
            var all = lines.ToList();
            b.Append(inv, $"{what} ({all.Count}){(all.Count == 0 ? ": none" : ":")}").Append('\n');
            foreach (var line in all.Take(MaxListed))
            {
                b.Append("  ").Append(line).Append('\n');
            }

            if (all.Count > MaxListed)
            {
                b.Append(inv, $"  … and {all.Count - MaxListed} more").Append('\n');
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => Summary();
}
