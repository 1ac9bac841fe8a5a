using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>What a campaign runs and how.</summary>
public sealed record CampaignOptions
{
    /// <summary>Strategy (the portfolio by default).</summary>
    public StrategyKind Strategy { get; init; } = StrategyKind.Portfolio;

    /// <summary>Number of schedules.</summary>
    public long Iterations { get; init; } = 1_000;

    /// <summary>Delivery bound of one schedule.</summary>
    public long MaxSteps { get; init; } = 200_000;

    /// <summary>PCT depth <c>d</c>.</summary>
    public int Depth { get; init; } = 3;

    /// <summary>Campaign seed: with the target, it fixes every schedule.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Worker threads, each with its own actor system.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Stop at the first finding or run all schedules.</summary>
    public UntilMode Until { get; init; } = UntilMode.All;

    /// <summary>Schedules per batch: the unit of work handed to a worker (and, later, to a cluster node).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>
    /// The one kind of finding the campaign looks for (<see cref="FindingInfo.Kinds"/>), or null for any: each schedule
    /// runs past findings of other kinds to its first of this one, and only those count. A race whose every schedule
    /// shows a violation first (R14's double report comes with one) is found this way.
    /// </summary>
    public string? Find { get; init; }

    /// <summary>
    /// Swarm runs: each schedule runs the target perturbed within these ranges, by a perturbation drawn from its seed
    /// (<see cref="Exploration.Swarm.Draw"/>) and recorded in its reproducer; null (the default) runs the target as it is.
    /// The target must be an <see cref="ISwarmTarget"/>.
    /// </summary>
    public SwarmSettings? Swarm { get; init; }
}

/// <summary>
/// What every worker needs to run any schedule of a campaign: the options and the PCT plan. The plan comes from one
/// calibration schedules, each run to its end, whose seeds, like every other, follow from the campaign seed, so every
/// node computes the same plan.
/// </summary>
/// <param name="Options">Campaign options.</param>
/// <param name="PctSteps">
/// PCT's <c>k</c>: the most choice points of a calibration schedule, scheduling decisions and data choices (IPI jitter,
/// the order of same-instant timers) alike: a data choice is as much an open point of the schedule as a receiver choice.
/// </param>
/// <param name="Receivers">PCT's <c>n</c>: the most distinct receivers a calibration schedule scheduled.</param>
/// <param name="DataOptions">
/// <c>m</c>: the most options one data choice of a calibration schedule had (1 when they took none).
/// </param>
/// <param name="CalibrationCut">Whether a calibration schedule hit the step bound, so that <c>k</c> is not its length.</param>
public sealed record CampaignPlan(CampaignOptions Options, int PctSteps, int Receivers, int DataOptions = 1, bool CalibrationCut = false)
{
    /// <summary>
    /// The per-schedule lower bound on finding a bug of the plan's depth (<see cref="PctStrategy.Bound(int, int, int, int)"/>),
    /// or null when none holds: a calibration schedule was cut by the step bound, so <c>k</c> is unknown.
    /// </summary>
    public double? PctBound => CalibrationCut ? null : PctStrategy.Bound(Receivers, PctSteps, Options.Depth, DataOptions);
}

/// <summary>Progress of a running campaign.</summary>
/// <param name="Done">Schedules finished.</param>
/// <param name="Total">Schedules planned.</param>
/// <param name="PerSecond">Schedules per second so far.</param>
/// <param name="DistinctFindings">Distinct signatures so far.</param>
/// <param name="Elapsed">Wall time so far.</param>
public sealed record CampaignProgress(long Done, long Total, double PerSecond, int DistinctFindings, TimeSpan Elapsed)
{
    /// <summary>
    /// The first finding of each distinct signature seen so far, in the order they were found (empty where the campaign
    /// does not report them, as a cluster's coordinator).
    /// </summary>
    public IReadOnlyList<FindingInfo> Findings { get; init; } = [];
}

/// <summary>A finished campaign: the merged result and how fast it ran.</summary>
/// <param name="Plan">The plan.</param>
/// <param name="Result">The merged result.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record CampaignReport(CampaignPlan Plan, CampaignResult Result, TimeSpan Elapsed)
{
    /// <summary>Whether a stop request ended the campaign before its schedules were all run: the result covers those that ran.</summary>
    public bool Stopped { get; init; }

    /// <summary>Schedules per second of wall time.</summary>
    public double SchedulesPerSecond => Elapsed.TotalSeconds <= 0 ? 0 : Result.Schedules / Elapsed.TotalSeconds;

    /// <summary>PCT schedules run: all of a PCT campaign, the odd-numbered half of a portfolio's.</summary>
    public long PctSchedules => Plan.Options.Strategy switch
    {
        StrategyKind.Pct => Result.Schedules,
        StrategyKind.Portfolio => Result.Schedules / 2,
        _ => 0,
    };

    /// <summary>
    /// The per-schedule PCT bound when it holds for this campaign, else null with <see cref="PctNoBoundReason"/>: the
    /// bound assumes every schedule has at most <c>k</c> choice points (past the <c>k</c>-th, no change point can fall),
    /// so it is withdrawn when the calibration was cut or any schedule of the campaign took more decisions than <c>k</c>.
    /// </summary>
    public double? PctBound => PctNoBoundReason is null ? Plan.PctBound : null;

    /// <summary>Why no PCT bound holds, in one line; null when it does (or when no PCT schedule ran).</summary>
    public string? PctNoBoundReason
    {
        get
        {
            if (PctSchedules == 0)
            {
                return null;
            }

            if (Plan.CalibrationCut)
            {
                return string.Create(CultureInfo.InvariantCulture, $"a calibration schedule hit --max-steps, so k (the choice points of a schedule) is unknown");
            }

            // The bound needs every schedule within k: one longer schedule is enough to void it, whatever the average.
            return Result.MostDecisions > Plan.PctSteps
                ? string.Create(CultureInfo.InvariantCulture, $"a schedule took {Result.MostDecisions} choice points, more than the k = {Plan.PctSteps} PCT drew its change points from")
                : null;
        }
    }

    /// <summary>
    /// For the PCT schedules run, the probability that a bug of the plan's depth would still have been missed:
    /// (1 − bound)^m, m the number of PCT schedules; null when no bound holds.
    /// </summary>
    public double? PctMissProbability => PctBound is { } bound ? Math.Pow(1 - bound, PctSchedules) : null;
}

/// <summary>
/// Runs exploration campaigns: schedule <c>i</c> runs under the strategy and seed that (campaign seed, <c>i</c>)
/// determine; batches of consecutive schedules go to worker threads, each with its own actor system reused across
/// schedules (every machine is torn down after its schedule); batch results merge into the campaign's result.
/// </summary>
public static class Explorer
{
    /// <summary>The first calibration schedule's index (the others count down from it): not one of the campaign's.</summary>
    public const long CalibrationIndex = -1;

    /// <summary>Calibration schedules: PCT's <c>n</c>, <c>k</c> and <c>m</c> are the most any of them showed.</summary>
    public const int CalibrationSchedules = 8;

    /// <summary>
    /// Runs the calibration schedules (random, each to its end) and returns the plan: the most choice points, receivers
    /// and data options any of them had, since the bound needs <c>k</c> to cover a whole schedule and one schedule can
    /// be much shorter than the next.
    /// </summary>
    public static CampaignPlan Plan(ActorSystem system, IExplorationTarget target, CampaignOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int steps = 1, receivers = 1, dataOptions = 1;
        var cut = false;
        for (var c = 0; c < CalibrationSchedules; c++)
        {
            var counting = new CountingStrategy(new RandomStrategy(ScheduleSeeds.For(options.Seed, CalibrationIndex - c)));

            // Run to the end, past any finding: k must count the choice points of a whole schedule, not of its prefix.
            var run = ScheduleRunner.Run(system, target, counting, options.MaxSteps, findingsBefore: int.MaxValue);
            steps = Math.Max(steps, counting.Steps + counting.Choices);
            receivers = Math.Max(receivers, counting.Receivers);
            dataOptions = Math.Max(dataOptions, counting.MostOptions);
            cut |= run.Outcome == RunOutcome.StepLimit;
        }

        return new CampaignPlan(options, steps, receivers, dataOptions, cut);
    }

    /// <summary>
    /// Runs schedules [<paramref name="start"/>, <paramref name="end"/>) in order. In <see cref="UntilMode.First"/> it
    /// stops after the first that finds something, and skips schedules past <paramref name="bound"/> (the lowest
    /// failing index known so far, shared by the workers).
    /// </summary>
    /// <param name="system">The actor system.</param>
    /// <param name="target">The target.</param>
    /// <param name="plan">The campaign's plan.</param>
    /// <param name="start">First schedule index.</param>
    /// <param name="end">One past the last.</param>
    /// <param name="bound">With <see cref="UntilMode.First"/>: the lowest failing index known so far.</param>
    /// <param name="found">Called with each schedule's finding, after <paramref name="reproduced"/>.</param>
    /// <param name="scheduleDone">Called after each schedule.</param>
    /// <param name="reproduced">Called with each schedule's finding and a way to make its reproducer, as it is found.</param>
    /// <param name="cancellation">Checked before each schedule: a stop request ends the batch there, with the schedules run so far.</param>
    public static CampaignResult RunBatch(ActorSystem system, IExplorationTarget target, CampaignPlan plan, long start, long end, Func<long>? bound = null, Action<FindingInfo>? found = null, Action? scheduleDone = null, Action<FindingInfo, Func<Reproducer>>? reproduced = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Options.Strategy == StrategyKind.Guided)
        {
            throw new InvalidOperationException("guided schedules are drawn from the corpus of the schedules before them: run them with Explorer.Run or Explorer.RunGuided");
        }

        return RunSchedules(system, target, plan, start, end, bound, found, scheduleDone, null, null, reproduced, cancellation);
    }

    /// <summary>
    /// Runs the schedules of a guided campaign [0, <paramref name="end"/>) on one actor system, generation by generation
    /// (<see cref="GuidedCorpus"/>): what <see cref="Run"/> computes on any number of workers.
    /// </summary>
    public static CampaignResult RunGuided(ActorSystem system, IExplorationTarget target, CampaignPlan plan, long end)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var corpus = new GuidedCorpus(plan.Options.Seed);
        var parts = new List<CampaignResult>();
        for (var start = 0L; start < end;)
        {
            var generation = GuidedCorpus.GenerationOf(start);
            var stop = Math.Min(end, generation.End);
            var observed = new SortedDictionary<long, (IReadOnlyList<Decision>, HashSet<ulong>, int)>();
            var r = RunSchedules(system, target, plan, start, stop, null, null, null, corpus, (i, d, f, p) => observed[i] = (d, f, p), null, default);
            parts.Add(r);
            foreach (var (d, f, p) in observed.Values)
            {
                corpus.Add(d, f, p);
            }

            if (plan.Options.Until == UntilMode.First && r.FirstFinding != long.MaxValue)
            {
                break;
            }

            start = stop;
        }

        return CampaignResult.Merge(parts, plan.Options.Until);
    }

    private static CampaignResult RunSchedules(ActorSystem system, IExplorationTarget target, CampaignPlan plan, long start, long end, Func<long>? bound, Action<FindingInfo>? found, Action? scheduleDone, GuidedCorpus? corpus, Action<long, IReadOnlyList<Decision>, HashSet<ulong>, int>? observe, Action<FindingInfo, Func<Reproducer>>? reproduced, CancellationToken cancellation)
    {
        var o = plan.Options;
        var result = new CampaignResult();
        for (var i = start; i < end; i++)
        {
            if ((o.Until == UntilMode.First && bound is not null && i > bound()) || cancellation.IsCancellationRequested)
            {
                break;
            }

            ISchedulingStrategy strategy;
            string name;
            int seed;
            var parent = -1;
            if (corpus is not null)
            {
                (strategy, name, seed, parent) = corpus.StrategyFor(i);
            }
            else
            {
                var kind = ScheduleSeeds.StrategyOf(o.Strategy, i);
                seed = ScheduleSeeds.For(o.Seed, i);
                strategy = StrategyFactory.Create(kind, seed, o.Depth, plan.PctSteps);
                name = StrategyNames.Of(kind);
            }

            SwarmPerturbation? swarm = null;
            var runTarget = target;
            if (o.Swarm is { } settings)
            {
                var st = target as ISwarmTarget ?? throw new InvalidOperationException($"swarm runs need a target that can be perturbed; '{target.Name}' ({target.Kind}) cannot");
                swarm = Swarm.Draw(st, settings, seed);
                runTarget = st.Perturb(swarm.Changes);
            }

            var run = ScheduleRunner.Run(system, runTarget, strategy, o.MaxSteps, kind: o.Find);
            var coverage = new CoverageMap();
            coverage.Observe(run.Machine.Recorder.Events);
            observe?.Invoke(i, run.Decisions, ScheduleFeatures.Of(run.Machine, run.Finding), parent);
            var index = i;
            (FindingInfo, Func<Reproducer>)? finding = run.Finding is null
                ? null
                : (run.Finding, () => Reproducer.Of(target, new ReproducerRun(name, seed, o.Seed, index, o.Depth, plan.PctSteps, o.MaxSteps, run.FindingsBefore), run.Decisions, run.Finding, swarm));
            result.Add(i, run.Machine.Simulation.Deliveries, run.Decisions.Count, run.Outcome == RunOutcome.StepLimit, coverage, finding);
            scheduleDone?.Invoke();
            if (finding is { } made)
            {
                reproduced?.Invoke(made.Item1, made.Item2);
                found?.Invoke(made.Item1);
                if (o.Until == UntilMode.First)
                {
                    break;
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Runs a whole campaign on <see cref="CampaignOptions.Workers"/> threads, each with an actor system of its own
    /// made by <paramref name="newSystem"/> (default: <see cref="SimulationConfig.Hocon"/>), and merges the batches.
    /// <paramref name="progress"/> is called about twice a second from the calling thread.
    /// <paramref name="cancellation"/> stops the campaign early: each worker finishes the schedule it is running and
    /// starts no other, and the report covers the schedules that ran (<see cref="CampaignReport.Stopped"/>).
    /// <paramref name="newFinding"/> is called with the reproducer of each signature's first finding as it is found
    /// (from a worker thread, one call at a time), before the progress counts it, so a caller can write it at once;
    /// the report's reproducer of that signature may be of a lower schedule found later.
    /// </summary>
    public static CampaignReport Run(IExplorationTarget target, CampaignOptions options, Action<CampaignProgress>? progress = null, Func<int, ActorSystem>? newSystem = null, CancellationToken cancellation = default, Action<Reproducer>? newFinding = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Iterations);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        newSystem ??= w => ActorSystem.Create($"explore-{w}", SimulationConfig.Hocon);
        var clock = Stopwatch.StartNew();
        var systems = new ActorSystem[options.Workers];
        try
        {
            for (var w = 0; w < systems.Length; w++)
            {
                systems[w] = newSystem(w);
            }

            var plan = Plan(systems[0], target, options);
            var bound = long.MaxValue;
            var done = 0L;
            var signatures = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
            var found = new ConcurrentQueue<FindingInfo>();
            var results = new ConcurrentBag<CampaignResult>();
            var announced = new HashSet<string>(StringComparer.Ordinal);
            void Reproduced(FindingInfo f, Func<Reproducer> make)
            {
                if (newFinding is null || signatures.ContainsKey(f.Signature))
                {
                    return;
                }

                lock (announced)
                {
                    if (announced.Add(f.Signature))
                    {
                        newFinding(make());
                    }
                }
            }

            Exception? failure = null;

            // A guided campaign runs generation by generation, its corpus updated in schedule order between two (so its
            // schedules do not depend on the workers); any other runs all its schedules as one phase.
            var corpus = options.Strategy == StrategyKind.Guided ? new GuidedCorpus(options.Seed) : null;
            var observed = new ConcurrentDictionary<long, (IReadOnlyList<Decision> Decisions, HashSet<ulong> Features, int Parent)>();
            for (var phase = 0L; phase < options.Iterations && !cancellation.IsCancellationRequested && failure is null;)
            {
                if (options.Until == UntilMode.First && phase > Interlocked.Read(ref bound))
                {
                    break;
                }

                var phaseEnd = corpus is null ? options.Iterations : Math.Min(options.Iterations, GuidedCorpus.GenerationOf(phase).End);
                var batches = (phaseEnd - phase + options.BatchSize - 1) / options.BatchSize;
                var nextBatch = -1L;
                var phaseStart = phase;
                var threads = systems.Take((int)Math.Min(systems.Length, batches)).Select((system, w) => new Thread(() =>
                {
                    try
                    {
                        while (!cancellation.IsCancellationRequested && Volatile.Read(ref failure) is null)
                        {
                            var b = Interlocked.Increment(ref nextBatch);
                            var start = phaseStart + (b * options.BatchSize);
                            if (b >= batches || (options.Until == UntilMode.First && start > Interlocked.Read(ref bound)))
                            {
                                return;
                            }

                            var end = Math.Min(phaseEnd, start + options.BatchSize);
                            var r = RunSchedules(system, target, plan, start, end, () => Interlocked.Read(ref bound), f =>
                            {
                                if (signatures.TryAdd(f.Signature, 0))
                                {
                                    found.Enqueue(f);
                                }
                            }, () => Interlocked.Increment(ref done), corpus, corpus is null ? null : (i, d, f, p) => observed[i] = (d, f, p), Reproduced, cancellation);
                            if (r.FirstFinding != long.MaxValue)
                            {
                                LowerBound(ref bound, r.FirstFinding);
                            }

                            results.Add(r);
                        }
                    }
                    catch (Exception ex)
                    {
                        Interlocked.CompareExchange(ref failure, ex, null);
                    }
                })
                {
                    IsBackground = true,
                    Name = $"explore-worker-{w}",
                }).ToList();
                threads.ForEach(t => t.Start());
                foreach (var t in threads)
                {
                    while (!t.Join(TimeSpan.FromMilliseconds(500)))
                    {
                        Report(progress, done, options.Iterations, found, clock.Elapsed);
                    }
                }

                if (corpus is not null)
                {
                    foreach (var i in observed.Keys.Order())
                    {
                        var (d, f, p) = observed[i];
                        corpus.Add(d, f, p);
                    }

                    observed.Clear();
                }

                phase = phaseEnd;
            }

            if (failure is not null)
            {
                throw new InvalidOperationException($"exploration failed: {failure.Message}", failure);
            }

            Report(progress, done, options.Iterations, found, clock.Elapsed);
            var merged = CampaignResult.Merge(results, options.Until);
            return new CampaignReport(plan, merged, clock.Elapsed) { Stopped = cancellation.IsCancellationRequested && merged.Schedules < options.Iterations };
        }
        finally
        {
            foreach (var s in systems.Where(s => s is not null))
            {
                s.Terminate().Wait(TimeSpan.FromSeconds(10));
            }
        }
    }

    private static void LowerBound(ref long bound, long index)
    {
        var seen = Interlocked.Read(ref bound);
        while (index < seen)
        {
            var was = Interlocked.CompareExchange(ref bound, index, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    private static void Report(Action<CampaignProgress>? progress, long done, long total, ConcurrentQueue<FindingInfo> found, TimeSpan elapsed)
    {
        if (progress is null)
        {
            return;
        }

        var findings = found.ToArray();
        progress(new CampaignProgress(Interlocked.Read(ref done), total, elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0, findings.Length, elapsed) { Findings = findings });
    }

    /// <summary>
    /// Random choices, counting what PCT's bound needs: scheduling steps and distinct receivers, data choices and the
    /// most options one had.
    /// </summary>
    private sealed class CountingStrategy(ISchedulingStrategy inner) : ISchedulingStrategy
    {
        private readonly HashSet<string> _receivers = new(StringComparer.Ordinal);

        public int Steps { get; private set; }

        public int Choices { get; private set; }

        public int MostOptions { get; private set; }

        public int Receivers => _receivers.Count;

        public string Name => inner.Name;

        public int NextReceiver(IReadOnlyList<string> runnable)
        {
            Steps++;
            _receivers.UnionWith(runnable);
            return inner.NextReceiver(runnable);
        }

        public int NextChoice(int options)
        {
            Choices++;
            MostOptions = Math.Max(MostOptions, options);
            return inner.NextChoice(options);
        }
    }
}
