using Akka.Actor;
using TaskIsolation.Exploration;

namespace TaskIsolation.Cluster;

/// <summary>
/// A worker node: an actor system with the worker role and <c>/user/worker</c>, joined to the cluster through its
/// seed nodes (the coordinator's address). <see cref="ServeAsync"/> keeps one running across coordinator restarts.
/// </summary>
public static class ClusterWorker
{
    /// <summary>The slots a node runs: <c>taskisol.cluster.worker-slots</c>, 0 meaning one per core.</summary>
    public static int SlotsOf(ActorSystem node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var slots = node.Settings.Config.GetInt("taskisol.cluster.worker-slots", 0);
        return slots > 0 ? slots : Environment.ProcessorCount;
    }

    /// <summary>Starts the worker actor on <paramref name="node"/> (which must have the worker role) and joins <paramref name="seeds"/>.</summary>
    public static IActorRef Start(ActorSystem node, TargetLoader loader, IReadOnlyList<Address> seeds)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(seeds);
        var worker = node.ActorOf(WorkerActor.Props(loader, SlotsOf(node)), WorkerActor.Name);
        if (seeds.Count > 0)
        {
            Akka.Cluster.Cluster.Get(node).JoinSeedNodes(seeds);
        }

        return worker;
    }

    /// <summary>
    /// Serves campaigns until <paramref name="cancellation"/> (or, with <paramref name="once"/>, until a coordinator
    /// says its campaign finished): starts a node from <paramref name="options"/>, joins <paramref name="seeds"/>, and
    /// when the coordinator goes away (left, crashed, or this node was downed) starts a fresh node after
    /// <c>taskisol.cluster.rejoin-after</c> and joins again, so a restarted coordinator finds its workers back.
    /// Returns the number of campaigns seen finish.
    /// </summary>
    public static async Task<int> ServeAsync(ClusterNodeOptions options, TargetLoader loader, IReadOnlyList<Address> seeds, bool once, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        var finished = 0;
        while (!cancellation.IsCancellationRequested)
        {
            var node = ClusterNodeConfig.Start(options);
            var gone = new TaskCompletionSource<CoordinatorGone>(TaskCreationOptions.RunContinuationsAsynchronously);
            var listener = node.ActorOf(Props.Create(() => new GoneListener(gone)), "gone-listener");
            node.EventStream.Subscribe(listener, typeof(CoordinatorGone));
            Start(node, loader, seeds);
            var rejoinAfter = node.Settings.Config.GetTimeSpan("taskisol.cluster.rejoin-after", TimeSpan.FromSeconds(2));
            var stopped = await Task.WhenAny(gone.Task, node.WhenTerminated, Task.Delay(Timeout.Infinite, cancellation)).ConfigureAwait(false);
            if (stopped == gone.Task && gone.Task.Result.Finished)
            {
                finished++;
            }

            await CoordinatedShutdown.Get(node).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).ConfigureAwait(false);
            await node.WhenTerminated.ConfigureAwait(false);
            if (once && finished > 0)
            {
                break;
            }

            try
            {
                await Task.Delay(rejoinAfter, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return finished;
    }

    private sealed class GoneListener : ReceiveActor
    {
        public GoneListener(TaskCompletionSource<CoordinatorGone> gone) => Receive<CoordinatorGone>(g => gone.TrySetResult(g));
    }
}
