using Akka.Actor;

namespace TaskIsolation.Actors.Machine;

/// <summary>
/// Asks a root to create an actor as its child. The root answers through <see cref="Created"/>, not a reply message:
/// in controlled mode the root runs on the caller's thread (the inline executor), so the answer is there when
/// <c>Tell</c> returns, without the temporary actor, timeout timer and spin-wait of an <c>Ask</c>.
/// </summary>
internal sealed record CreateModelActor(Props Props, string Name)
{
    /// <summary>Completed with the child, or with the exception that prevented it (a name already taken, say).</summary>
    public TaskCompletionSource<IActorRef> Created { get; } = new();

    /// <summary>Tells <paramref name="root"/> and waits for the child.</summary>
    public IActorRef SendTo(IActorRef root)
    {
        root.Tell(this, ActorRefs.NoSender);
        if (!Created.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"{root.Path} did not create {Name} within 30 s");
        }

        return Created.Task.Result;
    }
}

/// <summary>
/// The parent of every actor of one machine, and (one per actor system and execution mode, <see cref="MachineHost"/>)
/// the parent of every machine root. A top-level actor is initialised asynchronously by Akka's guardian (its ref is
/// repointed once the cell exists), which would let a guardian thread run model code in controlled mode; the
/// children of a root are created synchronously, so once the root has answered, nothing runs but the driver. Only the
/// host roots are top level, created once per actor system: a machine's root is their child, so booting and tearing
/// down a machine (exploration does it for every schedule) runs on the driver's thread in controlled mode instead of
/// waiting for, and racing with, the guardian on the thread pool.
/// </summary>
internal sealed class MachineRootActor : UntypedActor
{
    private readonly Simulation.Simulation? _simulation;

    /// <summary>A host root: the parent of machine roots.</summary>
    public MachineRootActor()
        : this(null)
    {
    }

    /// <summary>
    /// A machine's root. A child that fails outside a handler — its constructor threw, so Akka stops it and every
    /// message to it goes to dead letters — faults <paramref name="simulation"/>: the run fails at once, naming the
    /// actor, instead of waiting (concurrent mode: for ever) for messages no actor will handle, or running on without it.
    /// </summary>
    public MachineRootActor(Simulation.Simulation? simulation)
    {
        _simulation = simulation;
    }

    /// <inheritdoc />
    protected override SupervisorStrategy SupervisorStrategy() =>
        _simulation is not { } sim
            ? base.SupervisorStrategy()
            : new OneForOneStrategy(
                ex =>
                {
                    // A handler's exception is caught by SimActor and faults the run there; what reaches the root is a
                    // failure no handler saw: a constructor that threw (ActorInitializationException), most often.
                    var name = (ex as ActorInitializationException)?.Actor?.Path.Name ?? "a model actor";
                    sim.FaultOutsideHandler(name, ex.GetBaseException());
                    return Directive.Stop;
                },
                loggingEnabled: false);

    // An UntypedActor, not a ReceiveActor: a ReceiveActor builds its handler's expression tree for every instance, and
    // exploration creates a machine root for every schedule.
    /// <inheritdoc />
    protected override void OnReceive(object message)
    {
        if (message is not CreateModelActor c)
        {
            Unhandled(message);
            return;
        }

        try
        {
            c.Created.SetResult(Context.ActorOf(c.Props, c.Name));
        }
        catch (Exception ex)
        {
            c.Created.SetException(ex);
        }
    }
}

/// <summary>
/// Per actor system: the top-level parents of machine roots, one per execution mode's dispatcher, created on first use
/// and kept for the life of the system (<c>/user/controlled-machines</c>, <c>/user/concurrent-machines</c>).
/// </summary>
internal sealed class MachineHost(ExtendedActorSystem system) : IExtension
{
    private readonly Dictionary<string, IActorRef> _roots = new(StringComparer.Ordinal);

    /// <summary>The host root whose machines run on <paramref name="dispatcher"/>.</summary>
    public IActorRef RootFor(string dispatcher)
    {
        lock (_roots)
        {
            if (!_roots.TryGetValue(dispatcher, out var root))
            {
                var name = dispatcher == Simulation.SimulationConfig.ControlledDispatcher ? "controlled-machines" : "concurrent-machines";
                root = system.ActorOf(Props.Create<MachineRootActor>().WithDispatcher(dispatcher), name);
                _roots.Add(dispatcher, root);
            }

            return root;
        }
    }

    /// <summary>The host of <paramref name="system"/>.</summary>
    public static MachineHost Of(ActorSystem system) => system.WithExtension<MachineHost, MachineHostProvider>();
}

/// <summary>Makes the <see cref="MachineHost"/> extension.</summary>
internal sealed class MachineHostProvider : ExtensionIdProvider<MachineHost>
{
    public override MachineHost CreateExtension(ExtendedActorSystem system) => new(system);
}
