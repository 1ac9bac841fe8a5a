using Akka.Configuration;
using Akka.Dispatch;

namespace TaskIsolation.Simulation;

/// <summary>
/// The executor behind the controlled dispatcher: it runs a mailbox on the calling thread, at once. In controlled mode
/// only the simulation's driver thread ever tells a model actor (actors send to each other through
/// <see cref="Simulation"/>, which queues), so "the calling thread" is always the driver and each delivery the driver
/// chooses is processed to completion before it chooses the next one.
/// </summary>
internal sealed class InlineExecutor : ExecutorService
{
    public InlineExecutor(string id)
        : base(id)
    {
    }

    public override void Execute(IRunnable run) => run.Run();

    public override void Shutdown()
    {
        // Nothing to stop: there are no threads of our own.
    }
}

/// <summary>Akka instantiates this by name from the <c>executor</c> setting of the controlled dispatcher.</summary>
public sealed class InlineExecutorConfigurator : ExecutorServiceConfigurator
{
    /// <summary>Called by Akka with the dispatcher's config section.</summary>
    public InlineExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
        : base(config, prerequisites)
    {
    }

    /// <inheritdoc />
    public override ExecutorService Produce(string id) => new InlineExecutor(id);
}
