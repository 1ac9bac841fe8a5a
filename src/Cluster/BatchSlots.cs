using System.Collections.Concurrent;
using Akka.Actor;
using TaskIsolation.Exploration;
using TaskIsolation.Simulation;

namespace TaskIsolation.Cluster;

/// <summary>
/// A worker node's batch runners: <c>n</c> threads, each with an actor system of its own for the simulated
/// machines (as <see cref="Explorer.Run"/> gives each of its threads), taking batches from one queue. Model code
/// never runs on the cluster system's threads, so heartbeats and gossip go on while a batch runs.
/// </summary>
internal sealed class BatchSlots : IDisposable
{
    private readonly BlockingCollection<Job> _queue = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread[] _threads;
    private readonly ActorSystem[] _systems;

    public BatchSlots(int slots, string name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        _systems = new ActorSystem[slots];
        _threads = new Thread[slots];
        for (var i = 0; i < slots; i++)
        {
            var system = _systems[i] = ActorSystem.Create($"{name}-slot-{i}", SimulationConfig.Hocon);
            _threads[i] = new Thread(() => Loop(system)) { IsBackground = true, Name = $"{name}-slot-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Queues a batch; <paramref name="done"/> gets its result or the exception the model threw, on the slot's thread.</summary>
    public void Enqueue(IExplorationTarget target, CampaignPlan plan, RunBatch batch, Action<CampaignResult?, Exception?> done) =>
        _queue.Add(new Job(target, plan, batch, done));

    /// <summary>Stops taking batches; a batch under way finishes (its result is dropped) before its system stops.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        _stop.Cancel();
        var threads = _threads;
        var systems = _systems;
        // Off the caller's thread: an actor's PostStop must not wait for a batch to end.
        _ = System.Threading.Tasks.Task.Run(() =>
        {
            foreach (var t in threads)
            {
                t.Join(TimeSpan.FromSeconds(30));
            }

            foreach (var s in systems)
            {
                s.Terminate().Wait(TimeSpan.FromSeconds(10));
            }

            _stop.Dispose();
            _queue.Dispose();
        });
    }

    private void Loop(ActorSystem system)
    {
        try
        {
            foreach (var job in _queue.GetConsumingEnumerable(_stop.Token))
            {
                CampaignResult? result = null;
                Exception? error = null;
                try
                {
                    var b = job.Batch;
                    result = Explorer.RunBatch(system, job.Target, job.Plan, b.Start, b.End, () => b.Bound);
                }
                catch (Exception ex)
                {
                    error = ex;
                }

                if (!_stop.IsCancellationRequested)
                {
                    job.Done(result, error);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed while waiting for work.
        }
    }

    private sealed record Job(IExplorationTarget Target, CampaignPlan Plan, RunBatch Batch, Action<CampaignResult?, Exception?> Done);
}
