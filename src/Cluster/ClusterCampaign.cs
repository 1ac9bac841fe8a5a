using Akka.Actor;
using TaskIsolation.Exploration;
using TaskIsolation.Simulation;

namespace TaskIsolation.Cluster;

/// <summary>
/// Runs a campaign as the coordinator of an exploration cluster: plans it (the calibration schedule, as
/// <see cref="Explorer.Plan"/>), opens its journal, starts <c>/user/coordinator</c> on a node with the
/// <see cref="ClusterRoles.Coordinator"/> role, and waits for the merged result.
/// </summary>
public static class ClusterCampaign
{
    /// <summary>Plans a campaign: the spec every worker receives.</summary>
    public static CampaignSpec Plan(IExplorationTarget target, CampaignOptions options)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Iterations);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        var system = ActorSystem.Create("explore-plan", SimulationConfig.Hocon);
        try
        {
            return CampaignSpec.Of(target, Explorer.Plan(system, target, options));
        }
        finally
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>
    /// Coordinates <paramref name="spec"/>'s campaign on <paramref name="node"/> (a cluster node with the coordinator
    /// role, joined or about to join) until every batch is done. With <paramref name="journalPath"/>, batches the
    /// journal holds count as done and every new result is journaled first. <paramref name="progress"/> is called
    /// about twice a second from the calling thread. Cancelling stops the coordinator (the journal keeps what is done).
    /// </summary>
    /// <exception cref="FormatException">The journal belongs to another campaign or is not a journal.</exception>
    /// <exception cref="InvalidOperationException">A worker's model threw (as in a single-node campaign).</exception>
    public static async Task<ClusterCampaignReport> RunAsync(ActorSystem node, CampaignSpec spec, string? journalPath = null, Action<CampaignProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(spec);
        using var journal = journalPath is null ? null : CampaignJournal.Open(journalPath, spec);
        var completion = new TaskCompletionSource<ClusterCampaignReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        cancellation.ThrowIfCancellationRequested();
        var coordinator = node.ActorOf(CoordinatorActor.Props(spec, journal, completion), CoordinatorActor.Name);
        try
        {
            using var cancel = cancellation.Register(() => completion.TrySetCanceled(cancellation));
            while (!completion.Task.IsCompleted)
            {
                await Task.WhenAny(completion.Task, Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None)).ConfigureAwait(false);
                if (progress is not null && !completion.Task.IsCompleted)
                {
                    try
                    {
                        progress(await coordinator.Ask<CampaignProgress>(CoordinatorActor.GetProgress.Instance, TimeSpan.FromSeconds(5)).ConfigureAwait(false));
                    }
                    catch (AskTimeoutException)
                    {
                        // A busy coordinator misses one progress line; the campaign goes on.
                    }
                }
            }

            var report = await completion.Task.ConfigureAwait(false);
            progress?.Invoke(new CampaignProgress(report.Report.Result.Schedules, spec.Iterations, report.Report.SchedulesPerSecond, report.Report.Result.Findings.Count, report.Report.Elapsed));
            return report;
        }
        finally
        {
            await coordinator.GracefulStop(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
    }
}
