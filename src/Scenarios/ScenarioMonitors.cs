using System.Globalization;
using TaskIsolation.Actors.Monitors;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;

namespace TaskIsolation.Scenarios;

/// <summary>
/// An item of a scenario's <c>monitors:</c> section (docs/scenarios.md): a property checked at every event of the run,
/// not judged at the end like an expectation. Its failure is a finding like a violation (<see cref="MonitorFailed"/>),
/// which <c>run</c>, <c>explore</c>, <c>replay</c> and <c>soak</c> report.
/// </summary>
/// <param name="Name">The monitor's name, unique in the scenario (its kind when the file gives none).</param>
public abstract record ScenarioMonitor(string Name)
{
    /// <summary>The section's key for this kind: <c>no_interrupt</c>, <c>max_single_noise</c>, <c>reaches_user</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>One line for people.</summary>
    public abstract string Describe();

    /// <summary>A new monitor for one run of <paramref name="scenario"/> (each run gets its own).</summary>
    public abstract IsolationMonitor Create(Scenario scenario);
}

/// <summary>
/// No interrupt (of <see cref="Interrupt"/>'s kind, or of any kind) is taken on <see cref="Cpus"/> between the moment
/// <see cref="From"/> and the moment <see cref="To"/> of a task's program: between its prctl returning and its exit,
/// say, or between two steps. Fails at the first such interrupt, with its chain.
/// </summary>
/// <param name="Name">The monitor's name.</param>
/// <param name="Cpus">The CPUs watched.</param>
/// <param name="Interrupt">The kind of interrupt; null for any.</param>
/// <param name="From">Where the window opens (<c>{task: iso, ends: prctl}</c>).</param>
/// <param name="To">Where it closes (<c>{task: iso, exits: true}</c> by default).</param>
public sealed record NoInterruptMonitor(string Name, CpuMask Cpus, InterruptKind? Interrupt, EventPoint From, EventPoint To) : ScenarioMonitor(Name)
{
    /// <summary>The section key.</summary>
    public const string Key = "no_interrupt";

    /// <inheritdoc />
    public override string Kind => Key;

    /// <inheritdoc />
    public override string Describe() =>
        $"no {(Interrupt is { } k ? ScenarioNames.KindName(k) + " " : string.Empty)}interrupt on CPUs {Cpus.ToList()} from \"{From.Describe()}\" to \"{To.Describe()}\"";

    /// <inheritdoc />
    public override IsolationMonitor Create(Scenario scenario) => new Watch(this);

    private sealed class Watch(NoInterruptMonitor m) : IsolationMonitor(m.Name)
    {
        private readonly PointWatch _from = new(m.From);
        private readonly PointWatch _to = new(m.To);
        private bool _open;
        private bool _closed;

        public override string Kind => Key;

        protected override void OnEvent(MachineEvent e)
        {
            if (_closed)
            {
                return;
            }

            // The moments are followed whether or not the window is open, so "the 2nd write" counts every write.
            var opens = _from.At(e);
            var closes = _to.At(e);
            if (opens)
            {
                _open = true;
            }

            if (closes && _open)
            {
                _open = false;
                _closed = true;
                return;
            }

            if (_open && e is InterruptTaken t && m.Cpus.NBits > t.Cpu && t.Cpu >= 0 && m.Cpus.Test(t.Cpu)
                && (m.Interrupt is null || t.Source.Kind == m.Interrupt))
            {
                Fail(t, $"{t.Source.Text} ({ScenarioNames.KindName(t.Source.Kind)}) taken in {t.State.ToString().ToLowerInvariant()}{(t.Current is null ? string.Empty : " by " + t.Current)} after \"{m.From.Describe()}\"", t.Cpu, t.Current);
            }
        }
    }
}

/// <summary>
/// No single noise on <see cref="Cpus"/> is ever longer than <see cref="AtMostNs"/>: rtla osnoise's single noise, as
/// the noise accountant measures it (<see cref="NoiseAccountant"/>, with the scenario's <c>osnoise</c> warm-up), checked
/// at every event of a CPU, for a noise still going on too, and at the end of the run. Fails when the longest single
/// noise first exceeds the bound, with the chain of the event that began that noise.
/// </summary>
/// <param name="Name">The monitor's name.</param>
/// <param name="Cpus">The CPUs watched; every CPU when null.</param>
/// <param name="AtMostNs">The bound.</param>
public sealed record MaxSingleNoiseMonitor(string Name, CpuMask? Cpus, long AtMostNs) : ScenarioMonitor(Name)
{
    /// <summary>The section key.</summary>
    public const string Key = "max_single_noise";

    /// <inheritdoc />
    public override string Kind => Key;

    /// <inheritdoc />
    public override string Describe() =>
        $"every single noise on {(Cpus is null ? "any CPU" : "CPUs " + Cpus.ToList())} at most {Durations.Format(AtMostNs)}";

    /// <inheritdoc />
    public override IsolationMonitor Create(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return new Watch(this, new NoiseAccountant(scenario.Cpus, scenario.Model.Timings, scenario.Osnoise with { Cpus = Cpus }));
    }

    private sealed class Watch(MaxSingleNoiseMonitor m, NoiseAccountant noise) : IsolationMonitor(m.Name)
    {
        // The event that began each CPU's current (or last) noise: the chain of a failure starts there.
        private readonly MachineEvent?[] _began = new MachineEvent?[noise.NrCpus];
        private readonly bool[] _inNoise = new bool[noise.NrCpus];

        public override string Kind => Key;

        protected override void OnEvent(MachineEvent e)
        {
            noise.Observe(e);
            var cpu = e.Cpu;
            if ((uint)cpu >= (uint)_inNoise.Length)
            {
                return;
            }

            var now = noise.InNoise(cpu);
            if (now && !_inNoise[cpu])
            {
                _began[cpu] = e;
            }

            _inNoise[cpu] = now;
            Check(cpu, e.Time, e);
        }

        protected override void OnStop(long nowNs)
        {
            // A noise still going on when the run stops counts with its length so far, on every CPU.
            for (var cpu = 0; cpu < _inNoise.Length && !HasFailed; cpu++)
            {
                if (_began[cpu] is { } began)
                {
                    Check(cpu, nowNs, began);
                }
            }
        }

        private void Check(int cpu, long nowNs, MachineEvent at)
        {
            var single = noise.SingleNoiseNs(cpu, nowNs);
            if (single > m.AtMostNs)
            {
                Fail(_began[cpu] ?? at, string.Create(CultureInfo.InvariantCulture, $"a single noise of {Durations.Format(single)} on CPU {cpu}, above {Durations.Format(m.AtMostNs)}"), cpu);
            }
        }
    }
}

/// <summary>
/// Bounded liveness: each time <see cref="Task"/> starts the step <see cref="After"/> (its <c>prctl</c>, by default),
/// it is back in user space within <see cref="WithinNs"/>: it returns to user mode (<c>ReturnedToUser</c>) or starts
/// its next step. The monitor is hot from the step's start until then; past the bound, or at the end of the run, it
/// fails. A task that exits owes nothing more.
/// </summary>
/// <param name="Name">The monitor's name.</param>
/// <param name="Task">The task.</param>
/// <param name="After">The step (a scenario operation or syscall name, as in expectations' moments).</param>
/// <param name="WithinNs">The bound.</param>
public sealed record ReachesUserMonitor(string Name, string Task, string After, long WithinNs) : ScenarioMonitor(Name)
{
    /// <summary>The section key.</summary>
    public const string Key = "reaches_user";

    /// <inheritdoc />
    public override string Kind => Key;

    /// <inheritdoc />
    public override string Describe() => $"{Task} back in user space within {Durations.Format(WithinNs)} of each {After}";

    /// <inheritdoc />
    public override IsolationMonitor Create(Scenario scenario) => new Watch(this);

    private sealed class Watch(ReachesUserMonitor m) : IsolationMonitor(m.Name)
    {
        private readonly string _step = new EventPoint(m.Task, PointKind.Starts, m.After, 1).StepName;

        public override string Kind => Key;

        protected override void OnEvent(MachineEvent e)
        {
            switch (e)
            {
                case ReturnedToUser r when r.Task.Comm == m.Task:
                    Cold();
                    break;
                case TaskExited x when x.Task.Comm == m.Task:
                    Cold();
                    break;
                case OperationStarted o when o.Task.Comm == m.Task:
                    // A step starts in user mode: whatever was owed came. This one may owe again.
                    Cold();
                    if (o.Step.Name == _step)
                    {
                        Hot(o, $"{o.Task} back in user space within {Durations.Format(m.WithinNs)} of its {m.After}", m.WithinNs, o.Cpu, o.Task);
                    }

                    break;
            }
        }
    }
}

/// <summary>
/// An <see cref="EventPoint"/> followed event by event (a monitor cannot look ahead, as an expectation does): true at
/// the event where the moment happens, once.
/// </summary>
internal sealed class PointWatch(EventPoint point)
{
    private readonly string _step = point.StepName;
    private int _seen;
    private bool _inStep;
    private bool _done;

    public bool At(MachineEvent e)
    {
        if (_done)
        {
            return false;
        }

        switch (point.Kind)
        {
            case PointKind.Exits:
                return _done = e is TaskExited x && x.Task.Comm == point.Task;
            case PointKind.Starts:
                return _done = e is OperationStarted o && o.Task.Comm == point.Task && o.Step.Name == _step && ++_seen == point.Occurrence;
            default:
                if (_inStep)
                {
                    // Done with it: back in user space at the task's next step, or gone.
                    return _done = e is OperationStarted { } next && next.Task.Comm == point.Task || e is TaskExited { } gone && gone.Task.Comm == point.Task;
                }

                _inStep = e is OperationStarted s && s.Task.Comm == point.Task && s.Step.Name == _step && ++_seen == point.Occurrence;
                return false;
        }
    }
}
