using Akka.Actor;
using Akka.Configuration;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Tests.Exploration;
using TaskIsolation.Cluster;
using TaskIsolation.Exploration;
using TaskIsolation.Simulation;
using ClusterExt = Akka.Cluster.Cluster;
using Tasks = System.Threading.Tasks;

namespace TaskIsolation.Actors.Tests.Cluster;

/// <summary>
/// A coordinator and workers on loopback, each an actor system of its own in this process: a distributed campaign
/// gives the single-node result; a worker lost mid-batch loses no schedule; a restarted coordinator resumes.
/// </summary>
public sealed class ClusterCampaignTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    // Fast failure detection and downing on loopback; one batch at a time per worker node.
    private static readonly Config Fast = ConfigurationFactory.ParseString("""
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 2s
        akka.remote.watch-failure-detector.acceptable-heartbeat-pause = 2s
        taskisol.cluster.worker-slots = 1
        """);

    private readonly List<ActorSystem> _nodes = [];
    private readonly TlbRaceTarget _target = new();

    private static CampaignOptions Options(UntilMode until = UntilMode.All, long iterations = 120) =>
        new() { Iterations = iterations, BatchSize = 6, Seed = 11, MaxSteps = 50_000, Until = until, Workers = 1 };

    public Tasks.Task InitializeAsync() => Tasks.Task.CompletedTask;

    public async Tasks.Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.Terminate().WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public async Tasks.Task A_campaign_on_a_coordinator_and_two_workers_gives_the_single_node_result()
    {
        var coordinator = Coordinator();
        Worker(coordinator, TlbRaceTarget.Load);
        Worker(coordinator, TlbRaceTarget.Load);

        foreach (var until in new[] { UntilMode.All, UntilMode.First })
        {
            var single = Explorer.Run(_target, Options(until));
            var spec = ClusterCampaign.Plan(_target, Options(until));

            var report = await ClusterCampaign.RunAsync(coordinator, spec).WaitAsync(Patience);

            Assert.Equal(single.Result.Canonical(), report.Report.Result.Canonical());
            Assert.Equal(single.Plan, report.Report.Plan with { Options = report.Report.Plan.Options with { Workers = single.Plan.Options.Workers } });
            Assert.Equal(0, report.Stats.Reassigned);
        }

        // The race is in there, and both workers took part.
        var all = await ClusterCampaign.RunAsync(coordinator, ClusterCampaign.Plan(_target, Options(iterations: 60))).WaitAsync(Patience);
        Assert.NotEmpty(all.Report.Result.Findings);
        Assert.Equal([(0L, 60L)], all.Report.Result.Ranges);
        Assert.Equal(2, all.Stats.Workers.Count);
    }

    [Fact]
    public async Tasks.Task A_worker_that_dies_holding_a_batch_loses_no_schedule()
    {
        var coordinator = Coordinator();
        var received = new Tasks.TaskCompletionSource<long>(Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
        using var gate = new ManualResetEventSlim();

        // The doomed worker takes its first batch and never finishes it: its loader blocks until the test ends.
        var doomed = Worker(coordinator, (kind, text) =>
        {
            received.TrySetResult(0);
            gate.Wait();
            return TlbRaceTarget.Load(kind, text);
        });
        var spec = ClusterCampaign.Plan(_target, Options());
        var run = ClusterCampaign.RunAsync(coordinator, spec);
        await received.Task.WaitAsync(Patience);

        // It dies holding the batch; a second worker joins and must run everything, the lost batch included.
        var dying = doomed.Terminate();
        Worker(coordinator, TlbRaceTarget.Load);
        var report = await run.WaitAsync(Patience);
        gate.Set();
        await dying.WaitAsync(Patience);

        Assert.Equal(Explorer.Run(_target, Options()).Result.Canonical(), report.Report.Result.Canonical());
        Assert.Equal([(0L, 120L)], report.Report.Result.Ranges);
        Assert.Equal(120, report.Report.Result.Schedules);
        Assert.True(report.Stats.Reassigned >= 1, $"reassigned {report.Stats.Reassigned}");
        Assert.Equal(120, Assert.Single(report.Stats.Workers).Value);
    }

    [Fact]
    public async Tasks.Task A_worker_that_crashes_holding_a_batch_is_downed_and_loses_no_schedule()
    {
        var coordinator = Coordinator();
        var started = new Tasks.TaskCompletionSource<long>(Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
        using var gate = new ManualResetEventSlim();

        // The crashing node never leaves: no coordinated shutdown, no cluster leave protocol. The coordinator learns of
        // it only from below (its transport goes away, the member is downed and removed). Its slot is stuck in a
        // schedule, so the batch it holds is never answered.
        var crashing = Worker(coordinator, (kind, text) => new GatedTarget(TlbRaceTarget.Load(kind, text), () => started.TrySetResult(0), gate), """
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            akka.cluster.run-coordinated-shutdown-when-down = off
            """);
        var spec = ClusterCampaign.Plan(_target, Options());
        var run = ClusterCampaign.RunAsync(coordinator, spec);
        await started.Task.WaitAsync(Patience);

        var dying = crashing.Terminate();
        Worker(coordinator, TlbRaceTarget.Load);
        var report = await run.WaitAsync(Patience);
        gate.Set();
        await dying.WaitAsync(Patience);

        Assert.Equal(Explorer.Run(_target, Options()).Result.Canonical(), report.Report.Result.Canonical());
        Assert.Equal([(0L, 120L)], report.Report.Result.Ranges);
        Assert.True(report.Stats.Reassigned >= 1, $"reassigned {report.Stats.Reassigned}");
    }

    [Fact]
    public async Tasks.Task A_worker_that_refuses_the_campaign_gets_no_more_and_others_run_its_batch()
    {
        var coordinator = Coordinator();
        var refused = new Tasks.TaskCompletionSource<long>(Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
        Worker(coordinator, (kind, text) =>
        {
            refused.TrySetResult(0);
            throw new FormatException("this worker has no such target kind");
        });
        var run = ClusterCampaign.RunAsync(coordinator, ClusterCampaign.Plan(_target, Options(iterations: 30)));
        await refused.Task.WaitAsync(Patience);
        Worker(coordinator, TlbRaceTarget.Load);

        var report = await run.WaitAsync(Patience);

        Assert.Equal(Explorer.Run(_target, Options(iterations: 30)).Result.Canonical(), report.Report.Result.Canonical());
        Assert.True(report.Stats.Reassigned >= 1);
    }

    [Fact]
    public async Tasks.Task A_restarted_coordinator_resumes_from_its_journal()
    {
        var journal = Path.Combine(Path.GetTempPath(), $"taskisol-cluster-{Guid.NewGuid():N}.jsonl");
        try
        {
            var options = Options(iterations: 240);
            var spec = ClusterCampaign.Plan(_target, options);

            // First coordinator, one worker with one slot and no prefetch: the worker gets batch k+1 only after batch k
            // is journaled, so when its third batch arrives two are on disk. Stop the coordinator there.
            var first = Coordinator("taskisol.cluster.prefetch = 0");
            var firstWorker = Worker(first, TlbRaceTarget.Load);
            var third = new Tasks.TaskCompletionSource<long>(Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
            var seen = 0;
            Action<BatchReceived> count = _ =>
            {
                if (Interlocked.Increment(ref seen) == 3)
                {
                    third.TrySetResult(0);
                }
            };
            var counter = firstWorker.ActorOf(Props.Create(() => new OnEvent<BatchReceived>(count)));
            firstWorker.EventStream.Subscribe(counter, typeof(BatchReceived));
            using (var stop = new CancellationTokenSource())
            {
                var run = ClusterCampaign.RunAsync(first, spec, journal, cancellation: stop.Token);
                await third.Task.WaitAsync(Patience);
                await stop.CancelAsync();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Patience));
            }

            await first.Terminate().WaitAsync(Patience);

            // Keep at most two finished batches and leave the next one torn, as a crash while appending would.
            var lines = File.ReadAllLines(journal);
            Assert.True(lines.Length >= 3, "two batches were journaled before the stop");
            var kept = lines.Take(3).ToList();
            var torn = lines.Length > 3 ? lines[3][..(lines[3].Length / 2)] : "{\"batch\":";
            File.WriteAllText(journal, string.Join('\n', kept) + "\n" + torn);

            // A new coordinator on another port, a new worker: the campaign resumes and finishes.
            var second = Coordinator();
            Worker(second, TlbRaceTarget.Load);
            var report = await ClusterCampaign.RunAsync(second, spec, journal).WaitAsync(Patience);

            Assert.Equal(Explorer.Run(_target, options).Result.Canonical(), report.Report.Result.Canonical());
            Assert.Equal(2, report.Stats.Resumed);
            Assert.Equal(spec.Batches - report.Stats.Resumed, report.Stats.Assigned);
            Assert.Equal(spec.Batches + 1, File.ReadAllLines(journal).Length);
        }
        finally
        {
            File.Delete(journal);
        }
    }

    private ActorSystem Coordinator(string extra = "")
    {
        var node = ClusterNodeConfig.Start(new ClusterNodeOptions { Roles = [ClusterRoles.Coordinator], User = ConfigurationFactory.ParseString(extra).WithFallback(Fast) });
        _nodes.Add(node);
        var cluster = ClusterExt.Get(node);
        cluster.Join(cluster.SelfAddress);
        return node;
    }

    private ActorSystem Worker(ActorSystem coordinator, TargetLoader loader, string extra = "")
    {
        var node = ClusterNodeConfig.Start(new ClusterNodeOptions { Roles = [ClusterRoles.Worker], User = ConfigurationFactory.ParseString(extra).WithFallback(Fast) });
        _nodes.Add(node);
        ClusterWorker.Start(node, loader, [ClusterExt.Get(coordinator).SelfAddress]);
        return node;
    }

    /// <summary>Calls an action for each event of one type (subscribed to a node's event stream).</summary>
    private sealed class OnEvent<T> : ReceiveActor
    {
        public OnEvent(Action<T> action) => Receive<T>(action);
    }

    /// <summary>A target whose schedules wait for a gate before they run: a worker stuck in a long schedule.</summary>
    private sealed class GatedTarget(IExplorationTarget inner, Action started, ManualResetEventSlim gate) : IExplorationTarget
    {
        public string Name => inner.Name;

        public string Kind => inner.Kind;

        public string Text => inner.Text;

        public string Hash => inner.Hash;

        public long DurationNs => inner.DurationNs;

        public SimulatedMachine Run(ActorSystem system, ISchedulingStrategy strategy, long maxSteps, Func<SimulatedMachine, bool> stop)
        {
            started();
            gate.Wait();
            return inner.Run(system, strategy, maxSteps, stop);
        }

        public IEnumerable<IExplorationTarget> Shrinks() => inner.Shrinks();
    }
}
