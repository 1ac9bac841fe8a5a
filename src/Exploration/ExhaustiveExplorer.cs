using System.Diagnostics;
using Akka.Actor;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>What an exhaustive search runs and where it stops.</summary>
public sealed record ExhaustiveOptions
{
    /// <summary>Delivery bound of one schedule.</summary>
    public long MaxSteps { get; init; } = 200_000;

    /// <summary>Most schedules to run (a bound: reaching it ends the search unfinished).</summary>
    public long MaxSchedules { get; init; } = long.MaxValue;

    /// <summary>Most wall time (a bound: reaching it ends the search unfinished); null: none.</summary>
    public TimeSpan? Wall { get; init; }

    /// <summary>Stop at the first finding (default) or search the whole tree, counting the failing schedules.</summary>
    public UntilMode Until { get; init; } = UntilMode.First;

    /// <summary>Whether sleep sets prune equivalent schedules (on by default).</summary>
    public bool Reduction { get; init; } = true;

    /// <summary>
    /// Look for findings of this kind only (<see cref="FindingInfo.Kinds"/>): each schedule runs past findings of the
    /// others to its first of this one, as <see cref="CampaignOptions.Find"/>; null (default) for any kind.
    /// </summary>
    public string? Find { get; init; }
}

/// <summary>Why an exhaustive search ended.</summary>
public enum ExhaustiveEnd
{
    /// <summary>Every schedule within the bounds was run or pruned as equivalent: no finding.</summary>
    Complete,

    /// <summary>A schedule found a violation or liveness failure (the first, or with <see cref="UntilMode.All"/> the tree is searched and some did).</summary>
    Finding,

    /// <summary><see cref="ExhaustiveOptions.MaxSchedules"/> was reached first.</summary>
    MaxSchedules,

    /// <summary><see cref="ExhaustiveOptions.Wall"/> was reached first.</summary>
    Wall,

    /// <summary>The caller cancelled it.</summary>
    Cancelled,
}

/// <summary>Progress of an exhaustive search.</summary>
/// <param name="Schedules">Schedules run.</param>
/// <param name="Pruned">Branches pruned as equivalent.</param>
/// <param name="Fraction">Share of the tree searched, as far as it is known.</param>
/// <param name="Elapsed">Wall time so far.</param>
public sealed record ExhaustiveProgress(long Schedules, long Pruned, double Fraction, TimeSpan Elapsed);

/// <summary>An exhaustive search's result.</summary>
/// <param name="End">Why it ended.</param>
/// <param name="Schedules">Schedules run.</param>
/// <param name="Pruned">Branches pruned as equivalent (see <see cref="ExhaustiveSearch.Pruned"/>).</param>
/// <param name="Fraction">Share of the tree searched.</param>
/// <param name="StepLimited">Schedules cut by the delivery bound.</param>
/// <param name="Deliveries">Deliveries over all schedules.</param>
/// <param name="Decisions">Decisions over all schedules.</param>
/// <param name="Reproducer">The first finding's reproducer, if any.</param>
/// <param name="Failing">Schedules that found something.</param>
/// <param name="Coverage">Interrupts taken by CPU state over all schedules.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record ExhaustiveReport(ExhaustiveEnd End, long Schedules, long Pruned, double Fraction, long StepLimited, long Deliveries, long Decisions, Reproducer? Reproducer, long Failing, CoverageMap Coverage, TimeSpan Elapsed)
{
    /// <summary>Whether the search covered its whole tree and found nothing (no bound reached, no step-limited schedule).</summary>
    public bool Proved => End == ExhaustiveEnd.Complete && StepLimited == 0 && Failing == 0;
}

/// <summary>
/// Runs <see cref="ExhaustiveSearch"/> over a target on one thread: schedule after schedule, until a finding, the end
/// of the tree, or a bound.
/// </summary>
public static class ExhaustiveExplorer
{
    /// <summary>
    /// Searches <paramref name="target"/>; <paramref name="progress"/> is called about once a second, and
    /// <paramref name="newFinding"/> with the first finding's reproducer as soon as it is found (a caller writes it at
    /// once, so a search stopped later loses nothing). <paramref name="cancellation"/> ends it after the schedule
    /// running (<see cref="ExhaustiveEnd.Cancelled"/>).
    /// </summary>
    public static ExhaustiveReport Run(IExplorationTarget target, ExhaustiveOptions options, Action<ExhaustiveProgress>? progress = null, Func<ActorSystem>? newSystem = null, CancellationToken cancellation = default, Action<Reproducer>? newFinding = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var system = (newSystem ?? (() => ActorSystem.Create("exhaustive", SimulationConfig.Hocon)))();
        try
        {
            return Run(system, target, options, progress, cancellation, newFinding);
        }
        finally
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Searches <paramref name="target"/> in <paramref name="system"/>.</summary>
    public static ExhaustiveReport Run(ActorSystem system, IExplorationTarget target, ExhaustiveOptions options, Action<ExhaustiveProgress>? progress, CancellationToken cancellation, Action<Reproducer>? newFinding = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var search = new ExhaustiveSearch(options.Reduction);
        var coverage = new CoverageMap();
        long stepLimited = 0, deliveries = 0, decisions = 0, failing = 0;
        Reproducer? first = null;
        var lastReport = TimeSpan.Zero;
        ExhaustiveReport Done(ExhaustiveEnd end)
        {
            var reproducer = first;
            progress?.Invoke(new ExhaustiveProgress(search.Schedules, search.Pruned, search.Fraction, clock.Elapsed));
            return new ExhaustiveReport(end, search.Schedules, search.Pruned, search.Fraction, stepLimited, deliveries, decisions, reproducer, failing, coverage, clock.Elapsed);
        }

        while (true)
        {
            if (cancellation.IsCancellationRequested)
            {
                return Done(ExhaustiveEnd.Cancelled);
            }

            if (search.Schedules >= options.MaxSchedules)
            {
                return Done(ExhaustiveEnd.MaxSchedules);
            }

            if (options.Wall is { } wall && clock.Elapsed >= wall)
            {
                return Done(ExhaustiveEnd.Wall);
            }

            var strategy = search.Next();
            if (strategy is null)
            {
                return Done(failing > 0 ? ExhaustiveEnd.Finding : ExhaustiveEnd.Complete);
            }

            var run = ScheduleRunner.Run(system, target, strategy, options.MaxSteps, 0, options.Find);
            search.Finished(strategy);
            if (!strategy.Blocked)
            {
                coverage.Observe(run.Machine.Recorder.Events);
                deliveries += run.Machine.Simulation.Deliveries;
                decisions += run.Decisions.Count;
                stepLimited += run.Outcome == RunOutcome.StepLimit ? 1 : 0;
            }

            if (run.Finding is not null)
            {
                failing++;
                if (first is null)
                {
                    first = Reproducer.Of(target, new ReproducerRun("exhaustive", 0, 0, search.Schedules - 1, 0, 0, options.MaxSteps, run.FindingsBefore), run.Decisions, run.Finding);
                    newFinding?.Invoke(first);
                }

                if (options.Until == UntilMode.First)
                {
                    return Done(ExhaustiveEnd.Finding);
                }
            }

            if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(1))
            {
                lastReport = clock.Elapsed;
                progress?.Invoke(new ExhaustiveProgress(search.Schedules, search.Pruned, search.Fraction, clock.Elapsed));
            }
        }
    }
}
