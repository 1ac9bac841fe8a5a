using System.CommandLine;
using TaskIsolation.Cluster;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol worker --seed-node akka.tcp://taskisol@HOST:PORT [--host H] [--port P] [--public-host H] [--slots N]
/// [--config FILE] [--once] [--log FILE] [--log-level L]</c>: a worker node of an exploration cluster (issue 10,
/// docs/cluster.md). It joins the coordinator's cluster, runs the batches it is sent, and, when the coordinator goes
/// away, starts afresh and joins again (a restarted coordinator finds it back). Ctrl-C leaves the cluster cleanly;
/// batches it held go to other workers. Exit 0 when stopped, 2 for bad input, 3 for an internal error.
/// </summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var seeds = new Option<string[]>("--seed-node")
        {
            Description = "Address of the coordinator (or another node of its cluster): akka.tcp://taskisol@HOST:PORT; repeat for several",
            Required = true,
            HelpName = "ADDRESS",
        };
        var slots = CliOptions.OptionalNumber<int>("--slots", "Batches run at once, each on its own thread (default: taskisol.cluster.worker-slots, 0 = all cores)", "N");
        var once = new Option<bool>("--once") { Description = "Exit after the first campaign finishes instead of waiting for the next" };
        var hosting = ClusterHosting.Create(defaultPort: 0, defaultLevel: "information");
        var command = new Command("worker", ExitCodes.Describe("Join an exploration cluster as a worker and run the batches the coordinator hands out", "stopped", null, "taskisol worker --seed-node akka.tcp://taskisol@10.0.0.1:4053 --slots 2")) { seeds, slots, once };
        foreach (var o in hosting.All)
        {
            command.Options.Add(o);
        }

        command.SetAction(parse =>
        {
            var addresses = new List<Akka.Actor.Address>();
            foreach (var s in parse.GetValue(seeds) ?? [])
            {
                try
                {
                    addresses.Add(ClusterNodeConfig.ParseSeed(s));
                }
                catch (FormatException ex)
                {
                    throw new UsageException($"--seed-node: {ex.Message}");
                }
            }

            var extra = Akka.Configuration.ConfigurationFactory.Empty;
            if (parse.GetValue(slots) is { } n)
            {
                if (n is < 1 or > 1024)
                {
                    throw new UsageException($"--slots must be between 1 and 1024, not {n}");
                }

                extra = Akka.Configuration.ConfigurationFactory.ParseString($"taskisol.cluster.worker-slots = {n}");
            }

            var node = hosting.NodeOptions(parse, [ClusterRoles.Worker], extra);
            if (addresses.Any(a => a.System != node.SystemName))
            {
                throw new UsageException($"--seed-node: the actor system must be '{node.SystemName}' (akka.tcp://{node.SystemName}@HOST:PORT)");
            }

            hosting.CheckFiles(parse, []);
            using var logger = hosting.StartLogging(parse, parse.InvocationConfiguration.Error, "worker");
            using var stop = new StopSignals();
            try
            {
                var finished = ClusterWorker.ServeAsync(node, ExplorationCli.Load, addresses, parse.GetValue(once), stop.Token).GetAwaiter().GetResult();
                parse.InvocationConfiguration.Output.WriteLine($"worker stopped after {finished} finished campaign{(finished == 1 ? string.Empty : "s")}");
            }
            catch (Exception ex) when (ClusterHosting.BindFailure(ex) is { } why)
            {
                throw new UsageException($"cannot listen on {node.Host}:{node.Port}: {why}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
