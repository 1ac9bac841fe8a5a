using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using TaskIsolation.Exploration;

namespace TaskIsolation.Cluster;

/// <summary>Published on a worker node's event stream when a batch arrives (diagnostics and tests).</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="Batch">Batch number.</param>
public sealed record BatchReceived(string CampaignId, long Batch);

/// <summary>Published on a worker node's event stream when the coordinator it served is gone (left, or removed after a failure).</summary>
/// <param name="Coordinator">The coordinator's address.</param>
/// <param name="Finished">Whether it said the campaign finished first.</param>
public sealed record CoordinatorGone(Address Coordinator, bool Finished);

/// <summary>
/// The worker of a node (<c>/user/worker</c>): announces itself to the coordinator when it sees it in the cluster,
/// runs the batches it is sent on its <see cref="BatchSlots"/>, and replies with each result. It rebuilds the
/// campaign's target from the text the batch carries, once per target hash, and refuses a batch whose text does not
/// hash to the stated hash or whose model version differs from its own.
/// </summary>
internal sealed class WorkerActor : ReceiveActor
{
    /// <summary>The actor's name: coordinators address workers as <c>/user/worker</c>.</summary>
    public const string Name = "worker";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TargetLoader _loader;
    private readonly int _slots;
    private readonly Dictionary<string, (IExplorationTarget Target, CampaignPlan Plan)> _campaigns = new(StringComparer.Ordinal);
    private readonly HashSet<Address> _finished = [];
    private BatchSlots? _runners;

    public WorkerActor(TargetLoader loader, int slots)
    {
        _loader = loader;
        _slots = slots;
        Receive<ClusterEvent.MemberUp>(m => Greet(m.Member));
        Receive<ClusterEvent.MemberRemoved>(m => Removed(m.Member));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<CoordinatorHello>(_ => Sender.Tell(new WorkerHello(_slots)));
        Receive<RunBatch>(Run);
        Receive<Finished>(f => f.ReplyTo.Tell(f.Reply));
        Receive<CampaignFinished>(f =>
        {
            _log.Info("campaign {0} finished", f.CampaignId);
            _finished.Add(Sender.Path.Address);
            _campaigns.Remove(f.CampaignId);
        });
    }

    public static Props Props(TargetLoader loader, int slots) => Akka.Actor.Props.Create(() => new WorkerActor(loader, slots));

    protected override void PreStart()
    {
        _runners = new BatchSlots(_slots, $"{Context.System.Name}-{Akka.Cluster.Cluster.Get(Context.System).SelfAddress.Port}");
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
    }

    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        _runners?.Dispose();
    }

    private void Greet(Member member)
    {
        if (member.HasRole(ClusterRoles.Coordinator))
        {
            _log.Info("coordinator {0} is up; offering {1} slots", member.Address, _slots);
            Context.ActorSelection(new RootActorPath(member.Address) / "user" / CoordinatorActor.Name).Tell(new WorkerHello(_slots));
        }
    }

    private void Removed(Member member)
    {
        if (member.HasRole(ClusterRoles.Coordinator))
        {
            var finished = _finished.Contains(member.Address);
            _log.Info("coordinator {0} left the cluster ({1})", member.Address, finished ? "campaign finished" : "campaign unfinished");
            Context.System.EventStream.Publish(new CoordinatorGone(member.Address, finished));
        }
    }

    private void Run(RunBatch batch)
    {
        var spec = batch.Campaign;
        Context.System.EventStream.Publish(new BatchReceived(spec.CampaignId, batch.Batch));
        if (!_campaigns.TryGetValue(spec.CampaignId, out var campaign))
        {
            var refusal = Load(spec, out campaign);
            if (refusal is not null)
            {
                _log.Error("refusing campaign {0}: {1}", spec.CampaignId, refusal);
                Sender.Tell(new BatchRefused(spec.CampaignId, batch.Batch, refusal));
                return;
            }

            _log.Info("campaign {0}: {1} ({2}), seed {3}, {4} schedules", spec.CampaignId, spec.TargetName, spec.TargetHash, spec.Seed, spec.Iterations);
            _campaigns[spec.CampaignId] = campaign;
        }

        var (start, end) = spec.RangeOf(batch.Batch);
        if (batch.Start != start || batch.End != end)
        {
            Sender.Tell(new BatchRefused(spec.CampaignId, batch.Batch, $"batch {batch.Batch} is {start}-{end}, not {batch.Start}-{batch.End}"));
            return;
        }

        var replyTo = Sender;
        var self = Self;
        _runners!.Enqueue(campaign.Target, campaign.Plan, batch, (result, error) =>
        {
            // On the slot's thread: serialize there, not in the actor.
            IClusterMessage reply = error is null
                ? new BatchDone(spec.CampaignId, batch.Batch, ResultData.Of(result!))
                : new BatchCrashed(spec.CampaignId, batch.Batch, error.ToString());
            self.Tell(new Finished(replyTo, reply));
        });
    }

    /// <summary>Rebuilds the campaign's target; the reason when this node cannot run it.</summary>
    private string? Load(CampaignSpec spec, out (IExplorationTarget Target, CampaignPlan Plan) campaign)
    {
        campaign = default;
        if (spec.ModelVersion != ModelVersion.Current)
        {
            return $"model version '{spec.ModelVersion}' differs from this worker's '{ModelVersion.Current}'";
        }

        if (spec.CampaignId != spec.ComputeId())
        {
            return $"campaign id {spec.CampaignId} does not match its fields ({spec.ComputeId()})";
        }

        var hash = TargetHash.Of(spec.TargetText);
        if (hash != spec.TargetHash)
        {
            return $"target text hashes to {hash}, not the stated {spec.TargetHash}";
        }

        try
        {
            var target = _loader(spec.TargetKind, spec.TargetText);
            if (target.Hash != spec.TargetHash)
            {
                return $"the target loaded from the text has hash {target.Hash}, not {spec.TargetHash} (the loader's canonical form differs)";
            }

            campaign = (target, spec.ToPlan());
            return null;
        }
        catch (FormatException ex)
        {
            return $"cannot load the {spec.TargetKind} target: {ex.Message}";
        }
    }

    private sealed record Finished(IActorRef ReplyTo, IClusterMessage Reply);
}
