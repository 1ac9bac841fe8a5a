using Akka.Actor;

namespace TaskIsolation.Actors.Machine;

/// <summary>
/// Props of a model actor made by a plain delegate. <c>Props.Create(() =&gt; new CpuActor(sim, machine, cpu))</c> builds
/// an expression tree at every call and Akka evaluates its captured arguments by compiling them (hundreds of
/// microseconds per actor); a machine creates a root, its CPUs, their tick sources, vmstat workers, the shepherd and
/// its tasks, and exploration boots a machine for every schedule. The delegate builds the same actor with the same
/// arguments (again on a restart, as Akka's activator would), so nothing the model does changes.
/// </summary>
internal static class ModelProps
{
    /// <summary>Props whose actors <paramref name="factory"/> makes, on <paramref name="dispatcher"/>.</summary>
    public static Props Of<TActor>(Func<TActor> factory, string dispatcher)
        where TActor : ActorBase =>
        Props.CreateBy(new Producer<TActor>(factory)).WithDispatcher(dispatcher);

    private sealed class Producer<TActor>(Func<TActor> factory) : IIndirectActorProducer
        where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);

        public ActorBase Produce() => factory();

        public void Release(ActorBase actor)
        {
        }
    }
}
