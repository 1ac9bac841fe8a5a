using System.Collections.Immutable;
using Akka.Actor;
using TaskIsolation.Actors.Cpu;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Monitors;
using TaskIsolation.Actors.Noise;
using TaskIsolation.Actors.Task;
using TaskIsolation.Actors.Vmstat;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using SimCore = TaskIsolation.Simulation.Simulation;

namespace TaskIsolation.Actors.Machine;

/// <summary>How to run a booted machine.</summary>
public sealed record MachineOptions
{
    /// <summary>Execution mode.</summary>
    public ExecutionMode Mode { get; init; } = ExecutionMode.Controlled;

    /// <summary>Seed of the default random strategy (controlled) or of the data choices (concurrent).</summary>
    public int Seed { get; init; }

    /// <summary>A strategy of your own (controlled mode); the seeded random one when null.</summary>
    public ISchedulingStrategy? Strategy { get; init; }

    /// <summary>Model switches (§9 mitigations, residual tick).</summary>
    public ModelSwitches Switches { get; init; } = new();

    /// <summary>Simulated costs.</summary>
    public ModelTimings Timings { get; init; } = new();

    /// <summary>Kernel variant.</summary>
    public KernelVariant Variant { get; init; } = KernelVariant.V13;

    /// <summary>Liveness bound: how long a task may stay out of user mode (docs/model.md §7).</summary>
    public long LivenessBoundNs { get; init; } = 100_000_000;

    /// <summary>
    /// The most deliveries one simulated instant may hold before the run stops with a <see cref="NoProgressDetected"/>
    /// finding (<see cref="SimCore.MaxInstantDeliveries"/>, docs/model.md §12).
    /// </summary>
    public long MaxInstantDeliveries { get; init; } = SimCore.DefaultMaxInstantDeliveries;

    /// <summary>
    /// Sees every event and every finding as it is recorded, in order (a soak's noise ledger, say): what it counts is
    /// exactly what the run recorded. Called under the recorder's lock: it must be quick and must not publish.
    /// </summary>
    public Action<MachineEvent>? Observer { get; init; }

    /// <summary>
    /// Monitors of this machine besides the built-in ones (violations, double reports, liveness): a scenario's
    /// <c>monitors:</c> and a user's own (<see cref="TaskIsolation.Actors.Monitors.IsolationMonitor"/>). Each watches
    /// every event after the built-ins; instances are the machine's own, so give each run new ones.
    /// </summary>
    public IReadOnlyList<IMachineMonitor> Monitors { get; init; } = [];

    /// <summary>
    /// 0 (the default): the recorder keeps every event. Otherwise it keeps a ring of the last this many, plus every
    /// finding with its full chain and counts by type: what a soak of hours needs to run in flat memory.
    /// </summary>
    public int KeepEvents { get; init; }
}

/// <summary>A task to start at boot: name, CPUs it may use, and its program.</summary>
/// <param name="Comm">Command name (unique among live tasks: scenarios refer to tasks by it).</param>
/// <param name="Affinity">Allowed CPUs; it starts on the first.</param>
/// <param name="Program">What it does.</param>
/// <param name="Policy">Scheduling policy.</param>
public sealed record TaskSpec(string Comm, CpuMask Affinity, ImmutableArray<Operation> Program, SchedPolicy Policy = SchedPolicy.Normal);

/// <summary>
/// A simulated machine: boot it from a <see cref="BootedMachine"/>, start tasks, run the virtual clock, and read or
/// subscribe to its events. The public entry point of the actor model:
/// <code>
/// var m = SimulatedMachine.Boot(Sys, BootedMachine.Boot(4, Arch.X86_64, KernelConfig.Default, "task_isolation=1-3"));
/// Sys.EventStream.Subscribe(probe, typeof(ViolationDetected));
/// m.Start(new TaskSpec("dpdk", CpuMask.Single(4, 3), [new Prctl(48, 1), new Compute(5_000_000)]));
/// m.RunFor(10_000_000);
/// </code>
/// </summary>
public sealed class SimulatedMachine
{
    private static int s_machines;
    private readonly ActorSystem _system;
    private readonly string _prefix;
    private readonly MachineTopology _m;
    private readonly HashSet<int> _irqLines = [];
    private IActorRef _root = ActorRefs.Nobody;
    private int _noiseSources;

    private SimulatedMachine(ActorSystem system, BootedMachine booted, MachineOptions options)
    {
        _system = system;
        Booted = booted;
        Options = options;
        _prefix = $"m{Interlocked.Increment(ref s_machines)}";
        Simulation = SimCore.Create(options.Mode, options.Strategy, options.Seed);
        Simulation.MaxInstantDeliveries = options.MaxInstantDeliveries;
        Memory = new KernelMemory(booted.NrCpus);
        Recorder = new EventRecorder([new ViolationMonitor(), new ReportMonitor(), new LivenessMonitor(options.LivenessBoundNs), .. options.Monitors], system.EventStream, Simulation.NewEventId, options.Observer, options.KeepEvents);

        // What the exhaustive search counts as shared state around each delivery: kernel memory and the recorder (its
        // monitors keep state across events, so two deliveries that both publish do not commute).
        var memory = Memory;
        var recorder = Recorder;
        Simulation.SharedStateAccesses = () => memory.Touches + recorder.TotalEvents;
        _m = new MachineTopology(booted.NrCpus)
        {
            NrCpus = booted.NrCpus,
            Arch = ArchInfo.For(booted.Arch),
            Hz = booted.Config.Hz,
            NohzFull = booted.NohzFull,
            TaskIsolation = TaskIsolationMap(booted, options.Variant),
            TaskIsolationConfigured = booted.Config.TaskIsolation,
            Housekeeping = booted.HousekeepingMask,
            TaskIsolationDebug = booted.TaskIsolationDebug,
            StatIntervalNs = booted.Sysctl.VmStatIntervalSeconds * 1_000_000_000L,
            Variant = options.Variant,
            Switches = options.Switches,
            Timings = options.Timings,
            Memory = Memory,
            Events = Recorder,
        };
    }

    /// <summary>
    /// The CPUs where a task may enable isolation: v13's <c>task_isolation=</c> map (or all but the boot CPU with
    /// <c>CONFIG_TASK_ISOLATION_ALL</c>), or v16's <c>task_isolation_init()</c> map, isolcpus ∩ nohz_full (v16 has no
    /// boot argument of its own, and without <c>CONFIG_TASK_ISOLATION</c> there is no map at all).
    /// </summary>
    public static CpuMask TaskIsolationMap(BootedMachine booted, KernelVariant variant)
    {
        ArgumentNullException.ThrowIfNull(booted);
        if (variant != KernelVariant.V16)
        {
            return booted.TaskIsolation;
        }

        return booted.Config.TaskIsolation
            ? TaskIsolation.Machine.Abi.V16.TaskIsolationV16.Map(booted.Isolated, booted.NohzFull)
            : CpuMask.Empty(booted.NrCpus);
    }

    /// <summary>The boot this machine came from.</summary>
    public BootedMachine Booted { get; }

    /// <summary>Run options.</summary>
    public MachineOptions Options { get; }

    /// <summary>The simulation: virtual clock, decisions.</summary>
    public SimCore Simulation { get; }

    /// <summary>Shared kernel memory.</summary>
    public KernelMemory Memory { get; }

    /// <summary>Every event, and the trace.</summary>
    public EventRecorder Recorder { get; }

    /// <summary>Virtual time now.</summary>
    public long Now => Simulation.Now;

    /// <summary>The violations found so far.</summary>
    public IReadOnlyList<ViolationDetected> Violations => Recorder.Findings.OfType<ViolationDetected>().ToList();

    /// <summary>The double reports of a lost isolation found so far (§9 R14).</summary>
    public IReadOnlyList<DoubleReport> DoubleReports => Recorder.Findings.OfType<DoubleReport>().ToList();

    /// <summary>The liveness failures found so far.</summary>
    public IReadOnlyList<LivenessViolated> LivenessFailures => Recorder.Findings.OfType<LivenessViolated>().ToList();

    /// <summary>The monitor failures found so far (a scenario's <c>monitors:</c>, a user's monitors).</summary>
    public IReadOnlyList<MonitorFailed> MonitorFailures => Recorder.Findings.OfType<MonitorFailed>().ToList();

    /// <summary>Creates the actors of a booted machine in <paramref name="system"/> (configured with <see cref="SimulationConfig.Hocon"/>).</summary>
    public static SimulatedMachine Boot(ActorSystem system, BootedMachine booted, MachineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(booted);
        var machine = new SimulatedMachine(system, booted, options ?? new MachineOptions());
        machine.CreateActors();
        return machine;
    }

    /// <summary>Starts a task at the current instant; returns its pid.</summary>
    public int Start(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Affinity.NBits != _m.NrCpus || spec.Affinity.IsEmpty)
        {
            throw new ArgumentException($"task {spec.Comm}: affinity '{spec.Affinity}' is not a non-empty mask of {_m.NrCpus} CPUs", nameof(spec));
        }

        var pid = Memory.AllocPid();
        var actor = Create(TaskActor.Props(Simulation, pid, spec.Program), $"task-{pid}");
        var t = new TaskStruct
        {
            Pid = pid,
            Tgid = pid,
            Comm = spec.Comm,
            Affinity = spec.Affinity,
            Policy = spec.Policy,
            Mm = pid,
        };
        _m.TaskActors[pid] = actor;
        var cpu = spec.Affinity.First();
        Memory.RegisterComm(spec.Comm, pid);
        Memory.SetThreadGroup(pid, pid);
        Memory.SetTaskCpu(pid, cpu);
        var created = new TaskCreated(Simulation.NewEventId(), Now, cpu, 0, t.Ref, 0, false);
        Recorder.Publish(created);
        Simulation.Send(_m.Cpus[cpu], new BootTask(created.Id, t), ActorRefs.Nobody);
        return pid;
    }

    /// <summary>
    /// Adds a device interrupt line (call before or between runs): from now, it fires every
    /// <see cref="DeviceIrqSpec.PeriodNs"/>, first after <see cref="DeviceIrqSpec.FirstAtNs"/>, on the first online CPU
    /// of its affinity (the effective affinity x86 gives it). Reaching an isolated task in user mode, it is a violation
    /// with reason <c>irq &lt;n&gt; (&lt;name&gt;)</c>; each firing is a root <see cref="DeviceIrqRaised"/> event.
    /// </summary>
    /// <exception cref="ArgumentException">The spec names a negative or already used IRQ, no name, a mask of another
    /// size or an empty one, a period that is not positive or a negative first delay.</exception>
    public void AddDeviceIrq(DeviceIrqSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Irq < 0)
        {
            throw new ArgumentException($"device irq {spec.Irq}: an IRQ number is 0 or more", nameof(spec));
        }

        if (string.IsNullOrWhiteSpace(spec.Name))
        {
            throw new ArgumentException($"device irq {spec.Irq}: the name is empty", nameof(spec));
        }

        CheckNoiseTiming($"device irq {spec.Irq} ({spec.Name})", spec.Affinity, "affinity", spec.PeriodNs, spec.FirstAtNs);
        if (!_irqLines.Add(spec.Irq))
        {
            throw new ArgumentException($"device irq {spec.Irq} ({spec.Name}): irq {spec.Irq} is already in use", nameof(spec));
        }

        AddNoiseSource((sim, m) => NoiseSourceActor.ForDeviceIrq(sim, m, spec), $"irq-{spec.Irq}", spec.FirstAtNs);
    }

    /// <summary>
    /// Adds an NMI source (call before or between runs): from now, every <see cref="NmiSpec.PeriodNs"/>, first after
    /// <see cref="NmiSpec.FirstAtNs"/>, an NMI on each CPU of <see cref="NmiSpec.Cpus"/>. It cannot be masked; an
    /// isolated task it reaches is not signalled (nothing may be from NMI context): the kernel dumps instead (§7, R12).
    /// </summary>
    /// <exception cref="ArgumentException">A mask of another size or an empty one, a period that is not positive or a
    /// negative first delay.</exception>
    public void AddNmi(NmiSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        CheckNoiseTiming("NMI source", spec.Cpus, "CPU mask", spec.PeriodNs, spec.FirstAtNs);
        AddNoiseSource((sim, m) => NoiseSourceActor.ForNmi(sim, m, spec), $"nmi-{Interlocked.Increment(ref _noiseSources)}", spec.FirstAtNs);
    }

    /// <summary>
    /// Creates a noise source actor and schedules its first firing <paramref name="firstAtNs"/> from now. Its
    /// constructor runs on the actor's dispatcher (in concurrent mode after this returns); if it throws, the machine's
    /// root faults the run (<see cref="MachineRootActor"/>), and the next <see cref="RunUntil"/> fails naming it.
    /// </summary>
    internal void AddNoiseSource(Func<SimCore, MachineTopology, Props> props, string name, long firstAtNs)
    {
        var actor = Create(props(Simulation, _m), name);
        Simulation.SendAfter(firstAtNs, actor, new NoiseDue(1), ActorRefs.Nobody);
    }

    /// <summary>Runs <paramref name="ns"/> of virtual time (or until <paramref name="stop"/>).</summary>
    public RunOutcome RunFor(long ns, Func<bool>? stop = null) => RunUntil(Now + ns, stop);

    /// <summary>Runs until virtual time <paramref name="untilNs"/>, then lets the monitors judge what is still hot.</summary>
    public RunOutcome RunUntil(long untilNs, Func<bool>? stop = null)
    {
        var outcome = Simulation.RunUntil(untilNs, stop);
        Finish();
        return outcome;
    }

    /// <summary>
    /// Ends a run of the simulation: when it stopped because simulated time could not advance
    /// (<see cref="RunOutcome.NoProgress"/>), records that as a <see cref="NoProgressDetected"/> finding (once), then lets
    /// the monitors judge what is still hot. <see cref="RunUntil"/> calls it; call it after running
    /// <see cref="Simulation"/> directly.
    /// </summary>
    public void Finish()
    {
        if (Simulation.Stall is { } stall && NoProgress is null)
        {
            var loop = stall.Loop.Select(p => new LoopActor(p.Actor, p.Messages)).ToImmutableArray();
            var cpu = stall.Loop.Select(p => CpuOfActor(p.Actor)).FirstOrDefault(c => c >= 0, 0);
            NoProgress = new NoProgressDetected(Simulation.NewEventId(), stall.TimeNs, cpu, 0, stall.Deliveries, loop);
            Recorder.Raise(NoProgress);
        }

        Recorder.Finish(Now);
    }

    /// <summary>The finding of a run whose simulated time stopped (<see cref="RunOutcome.NoProgress"/>), once <see cref="Finish"/> saw it; else null.</summary>
    public NoProgressDetected? NoProgress { get; private set; }

    /// <summary>The CPU whose actor has this name (<c>cpu3</c>, as <see cref="CreateActors"/> names them), or -1.</summary>
    private int CpuOfActor(string name)
    {
        for (var cpu = 0; cpu < _m.NrCpus; cpu++)
        {
            if (_m.Cpus[cpu].Path.Name == name)
            {
                return cpu;
            }
        }

        return -1;
    }

    /// <summary>
    /// Stops every actor of this machine (its root and so all children), so an actor system that hosts many short runs
    /// one after the other (exploration) keeps flat memory. The recorded events stay readable; the machine cannot run
    /// again.
    /// </summary>
    public void Shutdown()
    {
        if (!_root.IsNobody())
        {
            _system.Stop(_root);
            _root = ActorRefs.Nobody;
        }
    }

    private void CheckNoiseTiming(string what, CpuMask? mask, string maskName, long periodNs, long firstAtNs)
    {
        if (mask is null || mask.NBits != _m.NrCpus || mask.IsEmpty)
        {
            throw new ArgumentException($"{what}: {maskName} '{mask}' is not a non-empty mask of {_m.NrCpus} CPUs", "spec");
        }

        if (periodNs <= 0)
        {
            throw new ArgumentException($"{what}: period {periodNs} ns is not positive", "spec");
        }

        if (firstAtNs < 0)
        {
            throw new ArgumentException($"{what}: first firing {firstAtNs} ns from now is negative", "spec");
        }
    }

    /// <summary>Creates a model actor under the root and waits for it: setup happens before the clock runs.</summary>
    private IActorRef Create(Props props, string name) => new CreateModelActor(props, name).SendTo(_root);

    private void CreateActors()
    {
        var host = MachineHost.Of(_system).RootFor(Simulation.Dispatcher);
        var sim = Simulation;
        _root = new CreateModelActor(ModelProps.Of(() => new MachineRootActor(sim), Simulation.Dispatcher), _prefix).SendTo(host);
        for (var cpu = 0; cpu < _m.NrCpus; cpu++)
        {
            _m.Cpus[cpu] = Create(CpuActor.Props(Simulation, _m, cpu), $"cpu{cpu}");
        }

        var shepherdCpu = _m.Housekeeping.IsEmpty ? 0 : _m.Housekeeping.First();
        var shepherd = Create(VmstatShepherdActor.Props(Simulation, _m, shepherdCpu), "vmstat-shepherd");
        Simulation.SendAfter(_m.StatIntervalNs, shepherd, new ShepherdRound(0), ActorRefs.Nobody);
    }
}
