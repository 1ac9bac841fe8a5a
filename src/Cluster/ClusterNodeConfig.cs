using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using TaskIsolation.Simulation;

namespace TaskIsolation.Cluster;

/// <summary>Cluster roles of exploration nodes.</summary>
public static class ClusterRoles
{
    /// <summary>The node that owns the campaign (one per cluster).</summary>
    public const string Coordinator = "coordinator";

    /// <summary>Nodes that run batches.</summary>
    public const string Worker = "worker";
}

/// <summary>Where a node listens and which roles it has.</summary>
public sealed record ClusterNodeOptions
{
    /// <summary>The actor system name: every node of a cluster must use the same one (it is part of the address).</summary>
    public string SystemName { get; init; } = ClusterNodeConfig.DefaultSystemName;

    /// <summary>Address to bind (0.0.0.0 listens everywhere).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>The host name other nodes reach this one by, when it differs from <see cref="Host"/> (binding 0.0.0.0, NAT).</summary>
    public string? PublicHost { get; init; }

    /// <summary>The node's roles (<see cref="ClusterRoles"/>).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [ClusterRoles.Worker];

    /// <summary>User HOCON (a <c>--config</c> file) over the defaults; the options above override it.</summary>
    public Config? User { get; init; }
}

/// <summary>
/// The HOCON of an exploration cluster node. Defaults, documented in docs/cluster.md: Akka.Remote over TCP with
/// frames large enough for batch results carrying reproducers, the cluster messages bound to
/// <see cref="ClusterMessageSerializer"/>, and the split-brain resolver keeping the side of the coordinator (the
/// oldest node of its role): a worker cut off from it downs itself, and the coordinator downs a worker that stays
/// unreachable, so its batches go to others.
/// </summary>
public static class ClusterNodeConfig
{
    /// <summary>The actor system name of exploration clusters.</summary>
    public const string DefaultSystemName = "taskisol";

    /// <summary>The defaults (without host, port and roles).</summary>
    public static Config Defaults { get; } = ConfigurationFactory.ParseString($$"""
        akka {
          # Node logs go through Akka.Logger.Serilog; the host's Serilog level decides what is shown. Before those
          # loggers start and after they stop (at shutdown), Akka's basic logger would write to stdout: ours sends
          # those lines to Serilog too, so stdout holds only the command's output.
          loglevel = INFO
          stdout-logger-class = "{{typeof(SerilogStdoutLogger).AssemblyQualifiedName}}"
          actor {
            provider = cluster
            serializers.taskisol-cluster = "{{typeof(ClusterMessageSerializer).AssemblyQualifiedName}}"
            serialization-bindings {
              "{{typeof(IClusterMessage).FullName}}, {{typeof(IClusterMessage).Assembly.GetName().Name}}" = taskisol-cluster
            }
            serialization-identifiers {
              "{{typeof(ClusterMessageSerializer).FullName}}, {{typeof(ClusterMessageSerializer).Assembly.GetName().Name}}" = {{ClusterMessageSerializer.Id}}
            }
          }
          # A coordinator that finishes and leaves is no error for its workers: no association error logs.
          remote.log-remote-lifecycle-events = off
          remote.dot-netty.tcp {
            # A batch result carries one reproducer (scenario text and decision list) per distinct finding.
            maximum-frame-size = 16777216b
            send-buffer-size = 16777216b
            receive-buffer-size = 16777216b
          }
          cluster {
            downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            split-brain-resolver {
              active-strategy = keep-oldest
              # How long a node must stay unreachable before it is downed (and its batches handed to others).
              stable-after = 7s
              keep-oldest {
                role = coordinator
                # A coordinator cut off from all its workers keeps the campaign; the workers down themselves.
                down-if-alone = off
              }
            }
            log-info = off
          }
          coordinated-shutdown.exit-clr = off
        }
        taskisol.cluster {
          # Batches a worker node runs at once, each on its own thread and actor system; 0 = one per core.
          worker-slots = 0
          # Batches the coordinator queues on each worker beyond its slots, hiding the round trip between batches.
          prefetch = 1
          # The coordinator hands out the first batch only once this many workers have joined (0: at once).
          min-workers = 0
          # A worker whose coordinator left or vanished starts a fresh node and joins the seed again after this.
          rejoin-after = 2s
        }
        """);

    /// <summary>The full config of a node: <paramref name="options"/> over the user's HOCON over the defaults.</summary>
    public static Config For(ClusterNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var roles = string.Join(", ", options.Roles.Select(r => $"\"{r}\""));
        var publicHost = options.PublicHost is null ? string.Empty : $"public-hostname = \"{options.PublicHost}\"";
        var node = ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $$"""
            akka.remote.dot-netty.tcp {
              hostname = "{{options.Host}}"
              port = {{options.Port}}
              {{publicHost}}
            }
            akka.cluster.roles = [{{roles}}]
            """));
        var config = node;
        if (options.User is not null)
        {
            config = config.WithFallback(options.User);
        }

        return config.WithFallback(Defaults).WithFallback(SimulationConfig.Hocon);
    }

    /// <summary>Starts an actor system for a node (not yet joined to any cluster).</summary>
    public static ActorSystem Start(ClusterNodeOptions options) => ActorSystem.Create(options?.SystemName ?? throw new ArgumentNullException(nameof(options)), For(options));

    /// <summary>Parses a seed node address (<c>akka.tcp://taskisol@host:port</c>); <see cref="FormatException"/> naming what is wrong.</summary>
    public static Address ParseSeed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Address address;
        try
        {
            address = Address.Parse(text);
        }
        catch (Exception ex) when (ex is UriFormatException or ArgumentException or FormatException)
        {
            throw new FormatException($"seed node '{text}' is not an address like akka.tcp://{DefaultSystemName}@host:port", ex);
        }

        if (address.Host is null || address.Port is null or <= 0)
        {
            throw new FormatException($"seed node '{text}' needs a host and a port, like akka.tcp://{DefaultSystemName}@host:port");
        }

        return address;
    }
}
