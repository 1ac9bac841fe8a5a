using System.Collections.Concurrent;
using System.Diagnostics;
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
}

/// <summary>
/// What every worker needs to run any schedule of a campaign: the options and the PCT step estimate. The estimate
/// comes from one calibration schedule whose seed, like every other, follows from the campaign seed, so every node
/// computes the same plan.
/// </summary>
/// <param name="Options">Campaign options.</param>
/// <param name="PctSteps">PCT's <c>k</c>: scheduling decisions of the calibration schedule.</param>
/// <param name="Receivers">PCT's <c>n</c>: distinct receivers the calibration schedule scheduled.</param>
public sealed record CampaignPlan(CampaignOptions Options, int PctSteps, int Receivers)
{
    /// <summary>PCT's per-schedule lower bound on hitting a bug of the plan's depth: 1/(n·k^(d−1)).</summary>
    public double PctBound => PctStrategy.Bound(Receivers, PctSteps, Options.Depth);
}

/// <summary>Progress of a running campaign.</summary>
/// <param name="Done">Schedules finished.</param>
/// <param name="Total">Schedules planned.</param>
/// <param name="PerSecond">Schedules per second so far.</param>
/// <param name="DistinctFindings">Distinct signatures so far.</param>
/// <param name="Elapsed">Wall time so far.</param>
public sealed record CampaignProgress(long Done, long Total, double PerSecond, int DistinctFindings, TimeSpan Elapsed);

/// <summary>A finished campaign: the merged result and how fast it ran.</summary>
/// <param name="Plan">The plan.</param>
/// <param name="Result">The merged result.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record CampaignReport(CampaignPlan Plan, CampaignResult Result, TimeSpan Elapsed)
{
    /// <summary>Schedules per second of wall time.</summary>
    public double SchedulesPerSecond => Elapsed.TotalSeconds <= 0 ? 0 : Result.Schedules / Elapsed.TotalSeconds;

    /// <summary>
    /// For the PCT schedules run, the probability that a bug of the plan's depth would still have been missed:
    /// (1 − bound)^m, m the number of PCT schedules.
    /// </summary>
    public double PctMissProbability
    {
        get
        {
            var pct = Plan.Options.Strategy switch
            {
                StrategyKind.Pct => Result.Schedules,
                StrategyKind.Portfolio => Result.Schedules / 2,
                _ => 0,
            };
            return Math.Pow(1 - Plan.PctBound, pct);
        }
    }
}

/// <summary>
/// Runs exploration campaigns: schedule <c>i</c> runs under the strategy and seed that (campaign seed, <c>i</c>)
/// determine; batches of consecutive schedules go to worker threads, each with its own actor system reused across
/// schedules (every machine is torn down after its schedule); batch results merge into the campaign's result.
/// </summary>
public static class Explorer
{
    /// <summary>The calibration schedule's index: not one of the campaign's.</summary>
    public const long CalibrationIndex = -1;

    /// <summary>Runs the calibration schedule and returns the plan.</summary>
    public static CampaignPlan Plan(ActorSystem system, IExplorationTarget target, CampaignOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var counting = new CountingStrategy(new RandomStrategy(ScheduleSeeds.For(options.Seed, CalibrationIndex)));
        ScheduleRunner.Run(system, target, counting, options.MaxSteps);
        return new CampaignPlan(options, Math.Max(1, counting.Steps), Math.Max(1, counting.Receivers));
    }

    /// <summary>
    /// Runs schedules [<paramref name="start"/>, <paramref name="end"/>) in order. In <see cref="UntilMode.First"/> it
    /// stops after the first that finds something, and skips schedules past <paramref name="bound"/> (the lowest
    /// failing index known so far, shared by the workers).
    /// </summary>
    public static CampaignResult RunBatch(ActorSystem system, IExplorationTarget target, CampaignPlan plan, long start, long end, Func<long>? bound = null, Action<FindingInfo>? found = null, Action? scheduleDone = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var o = plan.Options;
        var result = new CampaignResult();
        for (var i = start; i < end; i++)
        {
            if (o.Until == UntilMode.First && bound is not null && i > bound())
            {
                break;
            }

            var kind = ScheduleSeeds.StrategyOf(o.Strategy, i);
            var seed = ScheduleSeeds.For(o.Seed, i);
            var run = ScheduleRunner.Run(system, target, StrategyFactory.Create(kind, seed, o.Depth, plan.PctSteps), o.MaxSteps);
            var coverage = new CoverageMap();
            coverage.Observe(run.Machine.Recorder.Events);
            var index = i;
            (FindingInfo, Func<Reproducer>)? finding = run.Finding is null
                ? null
                : (run.Finding, () => Reproducer.Of(target, new ReproducerRun(StrategyNames.Of(kind), seed, o.Seed, index, o.Depth, plan.PctSteps, o.MaxSteps), run.Decisions, run.Finding));
            result.Add(i, run.Machine.Simulation.Deliveries, run.Decisions.Count, run.Outcome == RunOutcome.StepLimit, coverage, finding);
            scheduleDone?.Invoke();
            if (run.Finding is not null)
            {
                found?.Invoke(run.Finding);
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
    /// </summary>
    public static CampaignReport Run(IExplorationTarget target, CampaignOptions options, Action<CampaignProgress>? progress = null, Func<int, ActorSystem>? newSystem = null, CancellationToken cancellation = default)
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
            var batches = (options.Iterations + options.BatchSize - 1) / options.BatchSize;
            var nextBatch = -1L;
            var bound = long.MaxValue;
            var done = 0L;
            var signatures = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
            var results = new ConcurrentBag<CampaignResult>();
            Exception? failure = null;
            var threads = systems.Select((system, w) => new Thread(() =>
            {
                try
                {
                    while (!cancellation.IsCancellationRequested && Volatile.Read(ref failure) is null)
                    {
                        var b = Interlocked.Increment(ref nextBatch);
                        var start = b * options.BatchSize;
                        if (b >= batches || (options.Until == UntilMode.First && start > Interlocked.Read(ref bound)))
                        {
                            return;
                        }

                        var end = Math.Min(options.Iterations, start + options.BatchSize);
                        var r = RunBatch(system, target, plan, start, end, () => Interlocked.Read(ref bound), f => signatures.TryAdd(f.Signature, 0), () => Interlocked.Increment(ref done));
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
                    Report(progress, done, options.Iterations, signatures.Count, clock.Elapsed);
                }
            }

            if (failure is not null)
            {
                throw new InvalidOperationException($"exploration failed: {failure.Message}", failure);
            }

            Report(progress, done, options.Iterations, signatures.Count, clock.Elapsed);
            var merged = CampaignResult.Merge(results, options.Until);
            return new CampaignReport(plan, merged, clock.Elapsed);
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

    private static void Report(Action<CampaignProgress>? progress, long done, long total, int findings, TimeSpan elapsed) =>
        progress?.Invoke(new CampaignProgress(Interlocked.Read(ref done), total, elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0, findings, elapsed));

    /// <summary>Random choices, counting the scheduling steps and distinct receivers for PCT's k and n.</summary>
    private sealed class CountingStrategy(ISchedulingStrategy inner) : ISchedulingStrategy
    {
        private readonly HashSet<string> _receivers = new(StringComparer.Ordinal);

        public int Steps { get; private set; }

        public int Receivers => _receivers.Count;

        public string Name => inner.Name;

        public int NextReceiver(IReadOnlyList<string> runnable)
        {
            Steps++;
            _receivers.UnionWith(runnable);
            return inner.NextReceiver(runnable);
        }

        public int NextChoice(int options) => inner.NextChoice(options);
    }
}
