using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Noise;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Simulation;

namespace TaskIsolation.Scenarios;

/// <summary>A task to start once simulated time reaches <paramref name="AtNs"/> (a scenario task with a start time).</summary>
/// <param name="AtNs">Simulated time to start it at.</param>
/// <param name="Task">The task.</param>
public sealed record TimedStart(long AtNs, TaskSpec Task);

/// <summary>
/// The one loop that runs a scenario, whoever asks (<c>run</c>, <c>explore</c>, <c>soak</c>, <c>bench</c>): boot the
/// machine once, start its noise sources, then start each task at its time while the virtual clock runs, and let the
/// monitors judge at the end. <see cref="RunUntil"/> runs to an end time in one go (a run, a schedule) or to the end of
/// a slice (a soak, a benchmark chunk); a stop check ends it early.
/// </summary>
/// <remarks>
/// A session is driven from one thread. It owns no actor system: the machine's actors live in the caller's, so an
/// exploration worker runs many sessions over one system.
/// </remarks>
public sealed class ScenarioSession
{
    /// <summary>Boots by scenario instance: a scenario is immutable, so every run of it (every schedule of an
    /// exploration) starts from the same boot.</summary>
    private static readonly ConditionalWeakTable<Scenario, BootedMachine> s_boots = [];

    private readonly Queue<TimedStart> _pending;

    /// <summary>A session over a booted machine whose noise sources are already added.</summary>
    /// <param name="machine">The machine.</param>
    /// <param name="starts">Tasks to start, each at its time (those due now at the first <see cref="StartDue"/> or
    /// <see cref="RunUntil"/>); tasks of the same instant start in the order given.</param>
    public ScenarioSession(SimulatedMachine machine, IEnumerable<TimedStart>? starts = null)
    {
        Machine = machine ?? throw new ArgumentNullException(nameof(machine));
        _pending = new Queue<TimedStart>((starts ?? []).OrderBy(t => t.AtNs));
    }

    /// <summary>The machine: its recorder holds the events, its simulation the clock and the decisions.</summary>
    public SimulatedMachine Machine { get; }

    /// <summary>Virtual time now.</summary>
    public long Now => Machine.Now;

    /// <summary>When the next task not yet started is due; null when every task has started.</summary>
    public long? NextStartNs => _pending.Count > 0 ? _pending.Peek().AtNs : null;

    /// <summary>
    /// Boots <paramref name="scenario"/>'s machine in <paramref name="system"/> (configured with
    /// <see cref="SimulationConfig.Hocon"/>) with <paramref name="options"/>, adds its device interrupts and NMIs, and
    /// queues its tasks (<see cref="Starts"/>). <paramref name="booted"/> sees the machine before anything is added to it
    /// (a soak's ledger attaches there).
    /// </summary>
    public static ScenarioSession Start(ActorSystem system, Scenario scenario, MachineOptions options, Action<SimulatedMachine>? booted = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(options);
        var machine = SimulatedMachine.Boot(system, Boot(scenario), options);
        booted?.Invoke(machine);
        StartNoise(machine, scenario);
        return new ScenarioSession(machine, Starts(scenario));
    }

    /// <summary>The machine <paramref name="scenario"/> describes, booted (docs/model.md §2): once per scenario instance.</summary>
    public static BootedMachine Boot(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return s_boots.GetValue(scenario, s => BootedMachine.Boot(s.Cpus, s.Arch, s.Config, s.Cmdline, s.Sysctl));
    }

    /// <summary>
    /// Lets <paramref name="scenario"/> start from <paramref name="like"/>'s boot when both describe the same machine
    /// (CPUs, arch, Kconfig, command line, sysctl): a variant of a scenario that only changes its workload (a swarm
    /// schedule's perturbation) then does not boot again. Does nothing when the machines differ.
    /// </summary>
    public static void ShareBoot(Scenario like, Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(like);
        ArgumentNullException.ThrowIfNull(scenario);
        if (like.Cpus == scenario.Cpus && like.Arch == scenario.Arch && Equals(like.Config, scenario.Config) && like.Cmdline == scenario.Cmdline && Equals(like.Sysctl, scenario.Sysctl))
        {
            var boot = Boot(like);
            _ = s_boots.GetValue(scenario, _ => boot);
        }
    }

    /// <summary>The machine options of <paramref name="scenario"/>'s model settings under <paramref name="settings"/>.</summary>
    public static MachineOptions Options(Scenario scenario, RunSettings settings)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(settings);
        return new MachineOptions
        {
            Mode = settings.Mode,
            Seed = settings.Seed,
            Strategy = settings.Strategy,
            Switches = scenario.Model.Switches,
            Timings = scenario.Model.Timings,
            Variant = scenario.Model.Variant,
            LivenessBoundNs = scenario.Model.LivenessBoundNs,
            Observer = settings.Observer,
            Monitors = [.. scenario.Monitors.Select(m => (TaskIsolation.Actors.Monitors.IMachineMonitor)m.Create(scenario)), .. settings.Monitors.Select(f => f())],
            MaxInstantDeliveries = scenario.Model.MaxInstantDeliveries,
        };
    }

    /// <summary>Every task the scenario starts (its tasks, then the tasks that stand for periodic noise and POSIX
    /// timers) with its start time, by start time and then file order.</summary>
    public static ImmutableArray<TimedStart> Starts(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var all = scenario.Tasks.Concat(scenario.Noise.Select(n => n switch
        {
            PeriodicNoise p => p.ToTask(),
            PosixTimerNoise t => t.ToTask(),
            _ => null,
        }).OfType<ScenarioTask>());
        return
        [
            .. all.Select((t, i) => (t, i)).OrderBy(x => x.t.StartNs).ThenBy(x => x.i)
                .Select(x => new TimedStart(x.t.StartNs, new TaskSpec(x.t.Name, x.t.Affinity, x.t.Program, x.t.Policy))),
        ];
    }

    /// <summary>Starts every task whose time has come, in order.</summary>
    public void StartDue()
    {
        while (_pending.Count > 0 && _pending.Peek().AtNs <= Machine.Now)
        {
            Machine.Start(_pending.Dequeue().Task);
        }
    }

    /// <summary>
    /// Runs to virtual time <paramref name="endNs"/>, starting each task due before it at its time, then lets the
    /// monitors judge what is still hot. Tasks due at <paramref name="endNs"/> or later wait for the next call.
    /// </summary>
    /// <param name="endNs">Where to stop.</param>
    /// <param name="stop">Checked between deliveries (controlled mode); true ends the run there.</param>
    /// <returns>Why the simulation stopped.</returns>
    /// <exception cref="SimulationFaultedException">The model failed (a bug, not an outcome).</exception>
    public RunOutcome RunUntil(long endNs, Func<bool>? stop = null)
    {
        while (_pending.Count > 0 && _pending.Peek().AtNs < endNs)
        {
            var at = _pending.Peek().AtNs;
            if (at > Machine.Now)
            {
                // Run up to the start time without letting the monitors close the run: that happens once, at the end.
                var outcome = Machine.Simulation.RunUntil(at, stop);
                if (outcome is RunOutcome.StepLimit or RunOutcome.Stopped or RunOutcome.NoProgress)
                {
                    Machine.Finish();
                    return outcome;
                }
            }

            Machine.Start(_pending.Dequeue().Task);
        }

        return Machine.RunUntil(endNs, stop);
    }

    /// <summary>Device interrupts and NMIs: timed sources of the machine itself, not tasks.</summary>
    private static void StartNoise(SimulatedMachine machine, Scenario scenario)
    {
        foreach (var n in scenario.Noise)
        {
            switch (n)
            {
                case IrqNoise irq:
                    // No affinity given: the boot's irq_default_affinity (irqaffinity=), as request_irq() leaves it.
                    machine.AddDeviceIrq(new DeviceIrqSpec(irq.Irq, irq.Name, irq.Affinity ?? machine.Booted.IrqAffinity, irq.PeriodNs, irq.FirstAtNs));
                    break;
                case NmiNoise nmi:
                    machine.AddNmi(new NmiSpec(nmi.Cpus, nmi.PeriodNs, nmi.FirstAtNs));
                    break;
            }
        }
    }
}
