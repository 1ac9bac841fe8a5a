using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Exploration;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Host.Bench;

/// <summary>What one timed run of a machine measured.</summary>
/// <param name="SimulatedNs">Virtual time covered by the timed part.</param>
/// <param name="Wall">Wall time of the timed part.</param>
/// <param name="Deliveries">Model messages delivered in the timed part.</param>
/// <param name="Events">Events recorded in the timed part.</param>
/// <param name="Boot">Wall time to boot the machine and start its tasks.</param>
/// <param name="HeapBytes">Managed heap after a full collection, machine still alive.</param>
/// <param name="AllocatedBytes">Bytes allocated during the timed part.</param>
/// <param name="Cpu">CPU time the whole process used during the timed part (every thread).</param>
internal sealed record RunFigures(long SimulatedNs, TimeSpan Wall, long Deliveries, long Events, TimeSpan Boot, long HeapBytes, long AllocatedBytes, TimeSpan Cpu)
{
    /// <summary>Simulated seconds per wall second.</summary>
    public double Compression => SimulatedNs / 1e9 / Wall.TotalSeconds;

    /// <summary>
    /// Simulated seconds per CPU second of the process: what the run costs, whatever share of the cores the machine's
    /// other load left it (on a shared 2-core box the wall-clock figures swing 2–4× with the load average).
    /// </summary>
    public double CompressionPerCpuSecond => SimulatedNs / 1e9 / Cpu.TotalSeconds;

    /// <summary>Model deliveries per wall second.</summary>
    public double DeliveriesPerWallSecond => Deliveries / Wall.TotalSeconds;

    /// <summary>Model deliveries per simulated second.</summary>
    public double DeliveriesPerSimulatedSecond => Deliveries / (SimulatedNs / 1e9);
}

/// <summary>
/// Runs the benchmark stages of issue 8 in one process, one after the other, each in an actor system of its own (so
/// one stage's leftovers cannot slow the next), and collects the figures.
/// </summary>
internal sealed class BenchRunner(bool quick, TextWriter progress)
{
    /// <summary>Events kept by the recorder in timed runs: a soak's ring, so memory stays flat however long it runs.</summary>
    private const int Ring = 10_000;

    /// <summary>Runs every stage.</summary>
    public BenchReport Run()
    {
        var report = new BenchReport { Quick = quick };

        // The scale machine first: the process's peak working set right after it is that machine's own (with the
        // runtime's), before any other stage has grown the heap.
        ScaleStage(report);
        RawStage(report);
        DefaultStage(report);
        WideStage(report);
        ExploreStage(report);
        CurveStage(report);
        using var self = Process.GetCurrentProcess();
        report.PeakWorkingSetBytes = self.PeakWorkingSet64;
        report.Add("peak.process", "Peak working set of the whole bench process", self.PeakWorkingSet64 / 1048576.0, "MiB");
        return report;
    }

    private void RawStage(BenchReport report)
    {
        Say("raw Akka ping-pong");
        using var system = NewSystem();
        var n = quick ? 200_000L : 4_000_000L;

        // A first, untimed round JIT-compiles both paths.
        RawAkka.Controlled(system, 20_000);
        RawAkka.Concurrent(system, 1, 20_000);
        report.RawControlled = RawAkka.Controlled(system, n);
        report.RawConcurrentOnePair = RawAkka.Concurrent(system, 1, n / 4);
        report.RawConcurrentPairs = RawAkka.Concurrent(system, 4, n / 4);
        report.Add("raw.controlled", "Raw Akka, single-threaded (inline executor, driver loop)", report.RawControlled, "deliveries/s");
        report.Add("raw.concurrent.1pair", "Raw Akka, concurrent, 1 ping-pong pair (a sequential chain)", report.RawConcurrentOnePair, "deliveries/s");
        report.Add("raw.concurrent.4pairs", "Raw Akka, concurrent, 4 ping-pong pairs", report.RawConcurrentPairs, "deliveries/s");
    }

    private void DefaultStage(BenchReport report)
    {
        var budget = quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10);
        Say("default scenario, controlled");
        var controlled = RunMachine(BenchMachines.DefaultScenario(), ExecutionMode.Controlled, budget, 1_000_000_000, report);
        Say("default scenario, concurrent");
        var concurrent = RunMachine(BenchMachines.DefaultScenario(), ExecutionMode.Concurrent, budget, 1_000_000_000, null);

        report.Add("model.controlled", "Model message rate, default scenario, controlled", controlled.DeliveriesPerWallSecond, "deliveries/s");
        report.Add("model.controlled.ratio", "  ratio to raw Akka single-threaded", controlled.DeliveriesPerWallSecond / report.RawControlled, "x", 0.6);
        report.Add("model.concurrent", "Model message rate, default scenario, concurrent", concurrent.DeliveriesPerWallSecond, "deliveries/s");
        report.Add("model.concurrent.ratio", "  ratio to raw Akka concurrent (1 pair)", concurrent.DeliveriesPerWallSecond / report.RawConcurrentOnePair, "x");
        report.Add("model.deliveries-per-sim-s", "Deliveries per simulated second, default scenario", controlled.DeliveriesPerSimulatedSecond, "deliveries", 800, lowerIsBetter: true);
        report.Add("model.alloc-per-delivery", "Allocated per delivery, default scenario, controlled", (double)controlled.AllocatedBytes / controlled.Deliveries, "bytes");
        report.Add("compression.default.controlled", "Time compression, default scenario, controlled", controlled.Compression, "sim s/wall s", 3_000);
        report.Add("compression.default.concurrent", "Time compression, default scenario, concurrent", concurrent.Compression, "sim s/wall s");
        report.Add("compression.default.controlled.cpu", "  controlled, per CPU second of the process (whatever share of the cores it got)", controlled.CompressionPerCpuSecond, "sim s/CPU s");
        report.Add("compression.default.concurrent.cpu", "  concurrent, per CPU second of the process (all threads)", concurrent.CompressionPerCpuSecond, "sim s/CPU s");

        // The behaviour tests' busier 4-CPU machine: CPU 0 never idles, so its tick runs at HZ throughout.
        Say("busy 4-CPU machine, controlled");
        var busy = RunMachine(BenchMachines.Default(), ExecutionMode.Controlled, budget, 1_000_000_000, null);
        report.Add("compression.4cpu-busy.controlled", "Time compression, 4 CPUs with CPU 0 always busy, controlled", busy.Compression, "sim s/wall s");
        report.Add("4cpu-busy.deliveries-per-sim-s", "Deliveries per simulated second, 4 CPUs with CPU 0 always busy", busy.DeliveriesPerSimulatedSecond, "deliveries");

        // Where the deliveries go, by message type, in an untimed run (counting costs a dictionary update each).
        Say("default scenario, deliveries by type");
        using var system = NewSystem();
        var floor = new DeliveryFloor();
        var session = Start(system, BenchMachines.DefaultScenario(), ExecutionMode.Controlled, floor);
        var m = session.Machine;
        session.RunUntil(m.Now + 1_000_000_000);
        m.Simulation.CountByType = true;
        floor.Counting = true;
        var seconds = quick ? 2 : 10;
        var events0 = m.Recorder.CountsByType;
        var deliveries0 = m.Simulation.Deliveries;
        session.RunUntil(m.Now + (seconds * 1_000_000_000L));
        AddFloor(report, "default", "default scenario", floor, m.Simulation.Deliveries - deliveries0, seconds * 1_000_000_000L);
        foreach (var (type, count) in m.Simulation.DeliveriesByType.OrderByDescending(kv => kv.Value))
        {
            report.DeliveriesPerSimSecondByType[type] = count / (double)seconds;
        }

        foreach (var (type, count) in m.Recorder.CountsByType.OrderByDescending(kv => kv.Value))
        {
            report.EventsPerSimSecondByType[type] = (count - events0.GetValueOrDefault(type)) / (double)seconds;
        }

        m.Shutdown();
    }

    private void WideStage(BenchReport report)
    {
        var budget = quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10);
        Say("64-CPU machine, controlled");
        var controlled = RunMachine(BenchMachines.Wide64(), ExecutionMode.Controlled, budget, quick ? 20_000_000 : 100_000_000, null);
        Say("64-CPU machine, concurrent");
        var concurrent = RunMachine(BenchMachines.Wide64(), ExecutionMode.Concurrent, budget, quick ? 20_000_000 : 100_000_000, null);
        report.Add("compression.64cpu.controlled", "Time compression, 64 CPUs (8 HK + 56 isolated), controlled", controlled.Compression, "sim s/wall s", 150);
        report.Add("compression.64cpu.concurrent", "Time compression, 64 CPUs (8 HK + 56 isolated), concurrent", concurrent.Compression, "sim s/wall s");
        report.Add("compression.64cpu.controlled.cpu", "  controlled, per CPU second of the process (whatever share of the cores it got)", controlled.CompressionPerCpuSecond, "sim s/CPU s");
        report.Add("64cpu.deliveries-per-sim-s", "Deliveries per simulated second, 64 CPUs", controlled.DeliveriesPerSimulatedSecond, "deliveries", 6_000, lowerIsBetter: true);
        Say("64-CPU machine, the floor under the model's rules");
        FloorRun(report, "64cpu", "64 CPUs", BenchMachines.Wide64(), 200_000_000, quick ? 1_000_000_000 : 4_000_000_000);
    }

    /// <summary>
    /// An untimed run of <paramref name="bm"/> that counts its <see cref="DeliveryFloor"/> over <paramref name="windowNs"/>
    /// after <paramref name="warmupNs"/>, next to the deliveries it had.
    /// </summary>
    private void FloorRun(BenchReport report, string id, string name, BenchMachine bm, long warmupNs, long windowNs)
    {
        using var system = NewSystem();
        var floor = new DeliveryFloor();
        var session = Start(system, bm, ExecutionMode.Controlled, floor);
        var m = session.Machine;
        session.StartDue();
        session.RunUntil(warmupNs);
        floor.Counting = true;
        var deliveries0 = m.Simulation.Deliveries;
        session.RunUntil(warmupNs + windowNs);
        AddFloor(report, id, name, floor, m.Simulation.Deliveries - deliveries0, windowNs);
        m.Shutdown();
    }

    /// <summary>The floor's figures (docs/performance.md, "The floor"): per simulated second, next to what the run delivered.</summary>
    private static void AddFloor(BenchReport report, string id, string name, DeliveryFloor floor, long deliveries, long windowNs)
    {
        var seconds = windowNs / 1e9;
        report.Add($"{id}.floor.deliveries", $"{name}: deliveries per simulated second in the floor run (untimed)", deliveries / seconds, "deliveries");
        report.Add($"{id}.floor", $"  the floor under the model's rules: CPU instants with an event + task operations", floor.Deliveries / seconds, "deliveries");
        report.Add($"{id}.floor.cpu-instants", "    (CPU, instant) pairs with an event", floor.CpuInstants / seconds, "per sim s");
        report.Add($"{id}.floor.operations", "    operations asked of task actors", floor.OperationsStarted / seconds, "per sim s");
        report.Add($"{id}.floor.closed-form-ticks", "  the floor if every periodic tick were in closed form", floor.DeliveriesWithoutTicks / seconds, "deliveries");
    }

    private void ScaleStage(BenchReport report)
    {
        // --quick: a sixteenth of the machine. The full one spends its first simulated millisecond on 960 pollers
        // spinning in the v13 return-to-user loop until their first tick stops (2.3 million deliveries, seconds of
        // wall time): that transient is timed on its own, then the rest of the budget runs after it.
        var bm = quick ? BenchMachines.Scale(128, 1_250) : BenchMachines.Scale();
        Say(bm.Name);
        var budget = quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(20);
        var chunkNs = quick ? 5_000_000 : 50_000_000;
        using var system = NewSystem();
        var bootClock = Stopwatch.StartNew();
        var session = Start(system, bm, ExecutionMode.Controlled);
        var m = session.Machine;
        session.StartDue();
        bootClock.Stop();

        var clock = Stopwatch.StartNew();
        session.RunUntil(FirstTickNs);
        var firstWall = clock.Elapsed;
        var firstDeliveries = m.Simulation.Deliveries;
        do
        {
            session.RunUntil(m.Now + chunkNs);
        }
        while (clock.Elapsed < budget);

        clock.Stop();
        var after = new RunFigures(m.Now - FirstTickNs, clock.Elapsed - firstWall, m.Simulation.Deliveries - firstDeliveries, 0, bootClock.Elapsed, 0, 0, TimeSpan.Zero);
        var heap = HeapAfterCollection();
        m.Shutdown();

        report.ScaleMachine = bm.Description;
        report.Add("scale.boot", $"{bm.Name}: boot (actors created, tasks started)", bootClock.Elapsed.TotalSeconds, "s");
        report.Add("scale.compression", $"{bm.Name}: time compression, controlled, from boot", m.Now / 1e9 / clock.Elapsed.TotalSeconds, "sim s/wall s", quick ? null : 20);
        report.Add("scale.first-ms.deliveries", $"{bm.Name}: deliveries in the first simulated ms (isolated pollers in the exit loop until their first tick)", firstDeliveries, "deliveries");
        report.Add("scale.first-ms.wall", $"{bm.Name}: wall time of the first simulated ms", firstWall.TotalSeconds, "s");
        report.Add("scale.deliveries-per-sim-s", $"{bm.Name}: deliveries per simulated second after the first tick", after.DeliveriesPerSimulatedSecond, "deliveries");
        report.Add("scale.compression.after-first-tick", $"{bm.Name}: time compression, controlled, after the first tick (from 1 simulated ms)", after.Compression, "sim s/wall s");
        report.Add("scale.heap", $"{bm.Name}: managed heap after the run", heap / 1048576.0, "MiB");

        // The bench runs this stage first: the peak so far is this machine's (and the runtime's), no other stage's.
        using var self = Process.GetCurrentProcess();
        report.Add("scale.peak", $"{bm.Name}: peak working set of the process, run first (runtime included)", self.PeakWorkingSet64 / 1048576.0, "MiB", quick ? null : 400, lowerIsBetter: true);

        // The floor, untimed, after the peak is read: a second run of the same machine, past its daemons' first wake-ups.
        Say($"{bm.Name}, the floor under the model's rules");
        FloorRun(report, "scale", bm.Name, bm, 1_000_000_000, 2_000_000_000);
    }

    /// <summary>The scale machine's first tick (HZ=1000): its isolated pollers go round the exit loop until then.</summary>
    private const long FirstTickNs = 1_000_000;

    /// <summary>
    /// The scaling curve: machines of 4 to 1,024 CPUs loaded alike (<see cref="BenchMachines.Scaled"/>), each run for a
    /// fixed simulated window after a fixed warm-up, so its deliveries per simulated second are exact and the same in
    /// every run; the window shrinks as the machine grows (256 simulated CPU-seconds each, 8 with --quick, which also
    /// stops at 64 CPUs).
    /// </summary>
    private void CurveStage(BenchReport report)
    {
        int[] sizes = quick ? [4, 16, 64] : [4, 16, 64, 256, 1024];
        var cpuSeconds = quick ? 8L : 256L;
        foreach (var cpus in sizes)
        {
            var bm = BenchMachines.Scaled(cpus);
            Say($"scaling curve, {bm.Description}");
            var windowNs = cpuSeconds * 1_000_000_000L / cpus;
            var f = RunMachine(bm, ExecutionMode.Controlled, TimeSpan.Zero, windowNs, null, warmupNs: CurveWarmupNs);
            report.Curve.Add(new CurvePoint(cpus, Math.Max(1, cpus / 8), f.SimulatedNs, f.Deliveries, f.Wall, f.Cpu, f.Boot));
        }
    }

    /// <summary>Simulated time each machine of the curve runs before its window: boot's transients (the pollers' first ticks) are over.</summary>
    internal const long CurveWarmupNs = 50_000_000;

    /// <summary>
    /// Boots <paramref name="bm"/>, runs a warm-up, then runs chunks of <paramref name="chunkNs"/> until the wall
    /// budget is spent, and measures the timed chunks.
    /// </summary>
    private RunFigures RunMachine(BenchMachine bm, ExecutionMode mode, TimeSpan budget, long chunkNs, BenchReport? memoryReport, long warmupNs = 200_000_000)
    {
        using var system = NewSystem();
        var boot = Stopwatch.StartNew();
        var session = Start(system, bm, mode);
        var m = session.Machine;
        session.StartDue();
        boot.Stop();
        if (warmupNs > 0)
        {
            session.RunUntil(m.Now + warmupNs);
        }

        var heapEarly = memoryReport is null ? 0 : HeapAfterCollection();
        var sim0 = m.Now;
        var deliveries0 = m.Simulation.Deliveries;
        var events0 = m.Recorder.TotalEvents;
        var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var cpu0 = ProcessCpu();
        var clock = Stopwatch.StartNew();
        do
        {
            session.RunUntil(m.Now + chunkNs);
        }
        while (clock.Elapsed < budget);

        clock.Stop();
        var figures = new RunFigures(
            m.Now - sim0,
            clock.Elapsed,
            m.Simulation.Deliveries - deliveries0,
            m.Recorder.TotalEvents - events0,
            boot.Elapsed,
            HeapAfterCollection(),
            GC.GetTotalAllocatedBytes(precise: true) - alloc0,
            ProcessCpu() - cpu0);
        if (memoryReport is not null)
        {
            memoryReport.Add("memory.default.early", $"Managed heap, default scenario, at {sim0 / 1e9:0.#} simulated s (ring of {Ring:N0} events)", heapEarly / 1048576.0, "MiB");
            memoryReport.Add("memory.default.late", $"Managed heap, default scenario, at {m.Now / 1e9:0.#} simulated s", figures.HeapBytes / 1048576.0, "MiB");
        }

        m.Shutdown();
        return figures;
    }

    private void ExploreStage(BenchReport report)
    {
        Say("exploration of the TLB-shootdown race");
        using var stream = typeof(BenchRunner).Assembly.GetManifestResourceStream("bench/tlb-shootdown.yaml")
            ?? throw new InvalidOperationException("the TLB-shootdown scenario is not embedded in taskisol");
        using var reader = new StreamReader(stream);
        var target = new PhaseTimedTarget(new ScenarioTarget(ScenarioLoader.Load(reader.ReadToEnd(), "scenarios/tlb-shootdown.yaml")));
        var options = new CampaignOptions { Iterations = quick ? 16 : 400, Workers = Environment.ProcessorCount, Seed = 1 };
        var cpu0 = ProcessCpu();
        var result = Explorer.Run(target, options, newSystem: _ => NewSystem());
        var cpu = ProcessCpu() - cpu0;
        var phases = target.Phases;
        var total = phases.Total.TotalSeconds;
        report.Add("explore.boot-share", "  share of a schedule's wall time: boot (machine, actors, tasks queued)", phases.Boot.TotalSeconds / total, "x");
        report.Add("explore.run-share", "  share of a schedule's wall time: running (deliveries to the finding or the end)", phases.Run.TotalSeconds / total, "x");
        report.Add("explore.teardown-share", "  share of a schedule's wall time: teardown (the machine's actors stopped)", phases.Teardown.TotalSeconds / total, "x");
        report.Add("explore.between-share", "  share of a schedule's wall time: the explorer between two (coverage, findings, batches)", phases.Between.TotalSeconds / total, "x");
        report.Add("explore.us-per-schedule", "  wall time per schedule, on one worker", total / phases.Schedules * 1e6, "µs");
        report.Add("explore.schedules-per-s", $"Exploration, 4-CPU TLB-shootdown race, {options.Workers} workers", result.SchedulesPerSecond, "schedules/s", 2_500);
        report.Add("explore.schedules-per-cpu-s", "  per CPU second of the process (whatever share of the cores it got)", result.Result.Schedules / cpu.TotalSeconds, "schedules/CPU s");
        report.Add("explore.findings", "  schedules that found the violation", result.Result.Findings.Sum(f => f.Count), "schedules");
    }

    /// <summary>Boots <paramref name="bm"/> in <paramref name="mode"/>, seed 1, with the recorder keeping a ring.</summary>
    private static ScenarioSession Start(ActorSystem system, BenchMachine bm, ExecutionMode mode, DeliveryFloor? floor = null) =>
        bm.Start(system, (bm.Options ?? new MachineOptions()) with { Mode = mode, Seed = 1, Strategy = null, KeepEvents = Ring, Observer = floor is null ? null : floor.Observe });

    private static TimeSpan ProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static long HeapAfterCollection()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static ActorSystem NewSystem() => ActorSystem.Create("bench", SimulationConfig.Hocon);

    private void Say(string stage) => progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: {stage} …"));
}
