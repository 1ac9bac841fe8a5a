using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using TaskIsolation.Exploration;

namespace TaskIsolation.Cluster;

/// <summary>Names in <see cref="ClusterStats.Workers"/>.</summary>
public static class CoordinatorActorNames
{
    /// <summary>The entry counting the schedules whose batches came from the journal.</summary>
    public const string Journal = "journal";
}

/// <summary>How a distributed campaign went, besides its result.</summary>
/// <param name="Batches">Batches of the campaign.</param>
/// <param name="Resumed">Batches the journal already held at start.</param>
/// <param name="Assigned">Batch assignments sent (a reassigned batch counts again).</param>
/// <param name="Reassigned">Batches handed to another worker after theirs left, died or refused.</param>
/// <param name="Duplicates">Late results of batches already done, ignored.</param>
/// <param name="Workers">Distinct worker nodes that ran batches, by address, with the schedules each ran; <see cref="CoordinatorActorNames.Journal"/> counts those resumed from the journal.</param>
public sealed record ClusterStats(long Batches, long Resumed, long Assigned, long Reassigned, long Duplicates, IReadOnlyDictionary<string, long> Workers);

/// <summary>A finished distributed campaign.</summary>
/// <param name="Report">The merged result, as a single-node campaign reports it.</param>
/// <param name="Stats">How the work was spread.</param>
public sealed record ClusterCampaignReport(CampaignReport Report, ClusterStats Stats);

/// <summary>
/// The coordinator (<c>/user/coordinator</c>): owns one campaign. It keeps the batches not yet done in index order and
/// hands them to workers, at most as many to each as it has slots. A result is journaled (fsynced) before the batch
/// counts as done, so a restarted coordinator resumes; a worker that leaves or is downed has its unfinished batches
/// queued again; a late result for a batch already done is ignored, so every schedule counts once. When every batch is
/// done (until-first: every batch up to the lowest failing schedule) the results merge with
/// <see cref="CampaignResult.Merge"/>, exactly as a single-node campaign merges its batches.
/// </summary>
internal sealed class CoordinatorActor : ReceiveActor, IWithTimers
{
    /// <summary>The actor's name: workers address the coordinator as <c>/user/coordinator</c>.</summary>
    public const string Name = "coordinator";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CampaignSpec _spec;
    private readonly CampaignPlan _plan;
    private readonly CampaignJournal? _journal;
    private readonly TaskCompletionSource<ClusterCampaignReport> _completion;
    // Started at the first batch handed out: schedules/s measures the cluster at work, not the wait for workers to join.
    private readonly Stopwatch _clock = new();
    private readonly SortedSet<long> _pending = [];
    private readonly Dictionary<long, IActorRef> _inFlight = [];
    private readonly Dictionary<long, CampaignResult> _done = [];
    private readonly Dictionary<IActorRef, WorkerState> _workers = [];
    private readonly Dictionary<string, long> _schedulesBy = new(StringComparer.Ordinal);
    private readonly HashSet<string> _signatures = new(StringComparer.Ordinal);
    private readonly long _resumed;
    private readonly long _resumedSchedules;
    private readonly int _prefetch;
    private readonly int _minWorkers;
    private long _bound = long.MaxValue;
    private long _assigned;
    private long _reassigned;
    private long _duplicates;
    private long _schedulesDone;

    public CoordinatorActor(CampaignSpec spec, CampaignJournal? journal, TaskCompletionSource<ClusterCampaignReport> completion)
    {
        _spec = spec;
        _plan = spec.ToPlan();
        _journal = journal;
        _completion = completion;
        for (var b = 0L; b < spec.Batches; b++)
        {
            _pending.Add(b);
        }

        foreach (var (b, r) in journal?.Done ?? new Dictionary<long, CampaignResult>())
        {
            Record(b, r, CoordinatorActorNames.Journal);
        }

        _resumed = _done.Count;
        _prefetch = Math.Max(0, Context.System.Settings.Config.GetInt("taskisol.cluster.prefetch", 1));
        _minWorkers = Math.Max(0, Context.System.Settings.Config.GetInt("taskisol.cluster.min-workers", 0));
        _resumedSchedules = _schedulesDone;
        Receive<ClusterEvent.MemberUp>(m => Greet(m.Member));
        Receive<ClusterEvent.UnreachableMember>(m => SetReachable(m.Member.Address, false));
        Receive<ClusterEvent.ReachableMember>(m => SetReachable(m.Member.Address, true));
        Receive<ClusterEvent.MemberRemoved>(m => LoseAt(m.Member.Address, "removed from the cluster"));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<WorkerHello>(Hello);
        Receive<BatchDone>(Done);
        Receive<BatchRefused>(Refused);
        Receive<BatchCrashed>(Crashed);
        Receive<Terminated>(t => Lose(t.ActorRef, "terminated"));
        Receive<GetProgress>(_ => Sender.Tell(Progress()));
        Receive<LogProgress>(_ =>
        {
            var p = Progress();
            _log.Info("{0}/{1} schedules, {2:F1}/s, {3} distinct findings, {4} workers", p.Done, p.Total, p.PerSecond, p.DistinctFindings, _workers.Count);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(CampaignSpec spec, CampaignJournal? journal, TaskCompletionSource<ClusterCampaignReport> completion) =>
        Akka.Actor.Props.Create(() => new CoordinatorActor(spec, journal, completion));

    protected override void PreStart()
    {
        _log.Info("campaign {0}: {1}", _spec.CampaignId, FormattableString.Invariant(
            $"{_spec.TargetName} ({_spec.TargetHash}), seed {_spec.Seed}, {_spec.Iterations} schedules in {_spec.Batches} batches, {_resumed} done from the journal"));
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(
            Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer("progress", LogProgress.Instance, TimeSpan.FromSeconds(10));
        CheckFinished();
    }

    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        _completion.TrySetCanceled();
    }

    private void Greet(Member member)
    {
        if (member.HasRole(ClusterRoles.Worker))
        {
            Context.ActorSelection(new RootActorPath(member.Address) / "user" / WorkerActor.Name).Tell(new CoordinatorHello(_spec.CampaignId));
        }
    }

    private void Hello(WorkerHello hello)
    {
        if (_workers.ContainsKey(Sender) || hello.Slots < 1)
        {
            return;
        }

        _log.Info("worker {0} joined with {1} slots", Sender.Path.Address, hello.Slots);
        _workers[Sender] = new WorkerState(hello.Slots);
        Context.Watch(Sender);
        Dispatch();
    }

    private void Done(BatchDone done)
    {
        if (done.CampaignId != _spec.CampaignId)
        {
            _log.Warning("ignoring a result of campaign {0} from {1}", done.CampaignId, Sender.Path.Address);
            return;
        }

        Release(done.Batch, Sender);
        if (_done.ContainsKey(done.Batch))
        {
            _duplicates++;
            _log.Info("batch {0} from {1} was already done: ignored", done.Batch, Sender.Path.Address);
            Dispatch();
            return;
        }

        CampaignResult result;
        try
        {
            result = done.Result.ToResult();
            var (start, end) = _spec.RangeOf(done.Batch);
            if (result.Ranges.Any(r => r.Start < start || r.End > end))
            {
                throw new FormatException($"it holds schedules outside {start}-{end}");
            }
        }
        catch (FormatException ex)
        {
            Fail(new InvalidOperationException($"worker {Sender.Path.Address} sent a bad result for batch {done.Batch}: {ex.Message}", ex));
            return;
        }

        // Journal first: a batch counts as done only once it would survive a coordinator restart.
        _journal?.Append(done.Batch, result);
        Record(done.Batch, result, NodeOf(Sender));
        Dispatch();
        CheckFinished();
    }

    private void Refused(BatchRefused refused)
    {
        if (refused.CampaignId != _spec.CampaignId)
        {
            return;
        }

        _log.Error("worker {0} refused batch {1}: {2}; it gets no more batches", Sender.Path.Address, refused.Batch, refused.Reason);
        if (_workers.TryGetValue(Sender, out var w))
        {
            w.Refused = true;
        }

        Release(refused.Batch, Sender);
        Requeue(refused.Batch);
        Dispatch();
    }

    private void Crashed(BatchCrashed crashed)
    {
        if (crashed.CampaignId == _spec.CampaignId)
        {
            Fail(new InvalidOperationException($"exploration failed on worker {Sender.Path.Address} in batch {crashed.Batch}: {crashed.Error}"));
        }
    }

    private void SetReachable(Address address, bool reachable)
    {
        foreach (var w in _workers.Where(w => w.Key.Path.Address == address))
        {
            w.Value.Unreachable = !reachable;
        }

        if (reachable)
        {
            Dispatch();
        }
    }

    private void LoseAt(Address address, string why)
    {
        foreach (var worker in _workers.Keys.Where(w => w.Path.Address == address).ToList())
        {
            Lose(worker, why);
        }
    }

    /// <summary>A worker is gone: its unfinished batches go back to the queue.</summary>
    private void Lose(IActorRef worker, string why)
    {
        if (!_workers.Remove(worker, out var w))
        {
            return;
        }

        Context.Unwatch(worker);
        var lost = w.Batches.Where(b => !_done.ContainsKey(b)).ToList();
        _log.Warning("worker {0} {1}; {2} unfinished batches go to others", worker.Path.Address, why, lost.Count);
        foreach (var b in w.Batches)
        {
            _inFlight.Remove(b);
        }

        foreach (var b in lost)
        {
            Requeue(b);
        }

        Dispatch();
    }

    private void Requeue(long batch)
    {
        if (!_done.ContainsKey(batch) && !_inFlight.ContainsKey(batch))
        {
            _reassigned++;
            _pending.Add(batch);
        }
    }

    private void Release(long batch, IActorRef worker)
    {
        if (_workers.TryGetValue(worker, out var w))
        {
            w.Batches.Remove(batch);
        }

        if (_inFlight.TryGetValue(batch, out var holder) && holder.Equals(worker))
        {
            _inFlight.Remove(batch);
        }
    }

    /// <summary>
    /// Hands the lowest pending batches to workers with free slots, the least loaded first. Each worker may hold
    /// <c>taskisol.cluster.prefetch</c> batches beyond its slots, queued on it, so a slot that finishes starts the next
    /// batch at once instead of waiting a round trip to the coordinator.
    /// </summary>
    private void Dispatch()
    {
        if (_completion.Task.IsCompleted || (_assigned == 0 && _workers.Count < _minWorkers))
        {
            return;
        }

        while (_pending.Count > 0)
        {
            var batch = _pending.Min;
            var (start, end) = _spec.RangeOf(batch);
            if (start > _bound)
            {
                // Until-first: a single node would never run this batch.
                _pending.Clear();
                return;
            }

            var free = _workers
                .Where(w => !w.Value.Refused && !w.Value.Unreachable && w.Value.Batches.Count < w.Value.Slots + _prefetch)
                .OrderBy(w => w.Value.Batches.Count * 1.0 / w.Value.Slots)
                .Select(w => w.Key)
                .FirstOrDefault();
            if (free is null)
            {
                return;
            }

            _pending.Remove(batch);
            _workers[free].Batches.Add(batch);
            _inFlight[batch] = free;
            _assigned++;
            _clock.Start();
            free.Tell(new RunBatch(_spec, batch, start, end, _plan.Options.Until == UntilMode.First ? _bound : long.MaxValue));
        }
    }

    /// <summary>The node address of a worker (a worker on this node has a local path without host and port).</summary>
    private string NodeOf(IActorRef worker) =>
        (worker.Path.Address.HasLocalScope ? Akka.Cluster.Cluster.Get(Context.System).SelfAddress : worker.Path.Address).ToString();

    private void Record(long batch, CampaignResult result, string by)
    {
        _done[batch] = result;
        _pending.Remove(batch);
        _inFlight.Remove(batch);
        _schedulesDone += result.Schedules;
        _schedulesBy[by] = _schedulesBy.GetValueOrDefault(by) + result.Schedules;
        _signatures.UnionWith(result.Findings.Select(f => f.Signature));
        if (_plan.Options.Until == UntilMode.First && result.FirstFinding < _bound)
        {
            _bound = result.FirstFinding;
            _pending.RemoveWhere(b => _spec.RangeOf(b).Start > _bound);
        }
    }

    private void CheckFinished()
    {
        if (_completion.Task.IsCompleted)
        {
            return;
        }

        // Until-first needs every batch up to the one holding the lowest failing schedule; all needs every batch.
        for (var b = 0L; b < _spec.Batches && _spec.RangeOf(b).Start <= _bound; b++)
        {
            if (!_done.ContainsKey(b))
            {
                return;
            }
        }

        var result = CampaignResult.Merge(_done.Values, _plan.Options.Until);
        var stats = new ClusterStats(_spec.Batches, _resumed, _assigned, _reassigned, _duplicates, _schedulesBy);
        _log.Info("campaign {0} finished: {1} schedules, {2} distinct findings, {3} batches reassigned", _spec.CampaignId, result.Schedules, result.Findings.Count, _reassigned);
        foreach (var worker in _workers.Keys)
        {
            worker.Tell(new CampaignFinished(_spec.CampaignId));
        }

        _completion.TrySetResult(new ClusterCampaignReport(new CampaignReport(_plan, result, _clock.Elapsed), stats));
    }

    private void Fail(Exception ex)
    {
        _log.Error(ex, "campaign {0} failed", _spec.CampaignId);
        _completion.TrySetException(ex);
        foreach (var worker in _workers.Keys)
        {
            worker.Tell(new CampaignFinished(_spec.CampaignId));
        }
    }

    private CampaignProgress Progress()
    {
        var elapsed = _clock.Elapsed;
        var ran = _schedulesDone - _resumedSchedules;
        return new CampaignProgress(_schedulesDone, _spec.Iterations, elapsed.TotalSeconds > 0 ? ran / elapsed.TotalSeconds : 0, _signatures.Count, elapsed);
    }

    /// <summary>Asks the coordinator for a <see cref="CampaignProgress"/>.</summary>
    internal sealed class GetProgress
    {
        public static readonly GetProgress Instance = new();
    }

    private sealed class LogProgress
    {
        public static readonly LogProgress Instance = new();
    }

    private sealed class WorkerState(int slots)
    {
        public int Slots { get; } = slots;

        public HashSet<long> Batches { get; } = [];

        public bool Refused { get; set; }

        public bool Unreachable { get; set; }
    }
}
