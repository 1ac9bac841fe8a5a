using Akka.Actor;

namespace TaskIsolation.Actors.Machine;

/// <summary>Asks the root to create a model actor as its child.</summary>
internal sealed record CreateModelActor(Props Props, string Name);

/// <summary>
/// The parent of every actor of one machine. A top-level actor is initialised asynchronously by Akka's guardian (its
/// ref is repointed once the cell exists), which would let a guardian thread run model code in controlled mode; the
/// children of this root are created synchronously, so once the root has answered, nothing runs but the driver.
/// </summary>
internal sealed class MachineRootActor : ReceiveActor
{
    public MachineRootActor() =>
        Receive<CreateModelActor>(c => Sender.Tell(Context.ActorOf(c.Props, c.Name)));
}
