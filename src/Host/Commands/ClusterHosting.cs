using System.CommandLine;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;
using TaskIsolation.Cluster;
using TaskIsolation.Exploration;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// What <c>taskisol worker</c> and <c>taskisol explore --cluster</c> share: the node options (host, port, public
/// host, HOCON file), Serilog set-up for the node's logs, and Ctrl-C/SIGTERM handling. See docs/cluster.md.
/// </summary>
internal sealed class ClusterHosting
{
    private ClusterHosting(Option<string> host, Option<int> port, Option<string?> publicHost, Option<string?> config, Option<string?> log, Option<string> logLevel)
    {
        Host = host;
        Port = port;
        PublicHost = publicHost;
        Config = config;
        Log = log;
        LogLevel = logLevel;
    }

    public Option<string> Host { get; }

    public Option<int> Port { get; }

    public Option<string?> PublicHost { get; }

    public Option<string?> Config { get; }

    public Option<string?> Log { get; }

    public Option<string> LogLevel { get; }

    public IEnumerable<Option> All => [Host, Port, PublicHost, Config, Log, LogLevel];

    /// <summary>The node options of a command; <paramref name="defaultPort"/> is the port when none is given.</summary>
    public static ClusterHosting Create(int defaultPort, string defaultLevel) => new(
        new Option<string>("--host") { Description = "Address the cluster node binds (0.0.0.0: every interface)", DefaultValueFactory = _ => "127.0.0.1" },
        new Option<int>("--port") { Description = $"TCP port of the cluster node (0: any free port; default {defaultPort})", DefaultValueFactory = _ => defaultPort },
        new Option<string?>("--public-host") { Description = "Host name other nodes reach this one by, when it differs from --host" },
        new Option<string?>("--config") { Description = "HOCON file with cluster settings (docs/cluster.md); command-line options win over it" },
        new Option<string?>("--log") { Description = "Also write this node's logs to FILE as compact JSON lines (Serilog CLEF)" },
        new Option<string>("--log-level") { Description = "Least level of the node's logs on stderr: debug, information, warning or error", DefaultValueFactory = _ => defaultLevel });

    /// <summary>The node options the command line gives, with <paramref name="roles"/>; bad values are <see cref="UsageException"/>s.</summary>
    public ClusterNodeOptions NodeOptions(ParseResult parse, IReadOnlyList<string> roles, Config? extra = null)
    {
        var port = parse.GetValue(Port);
        if (port is < 0 or > 65535)
        {
            throw new UsageException($"--port must be between 0 and 65535, not {port}");
        }

        var host = parse.GetValue(Host) ?? "127.0.0.1";
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '"' or '\\'))
        {
            throw new UsageException($"--host: '{host}' is not a host name or address");
        }

        var user = extra ?? ConfigurationFactory.Empty;
        if (parse.GetValue(Config) is { } file)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--config {file}: {ex.Message}");
            }

            try
            {
                user = user.WithFallback(ConfigurationFactory.ParseString(text));
            }
            catch (Exception ex) when (ex is ConfigurationException or FormatException or InvalidOperationException)
            {
                throw new UsageException($"--config {file}: not valid HOCON: {ex.Message}");
            }
        }

        return new ClusterNodeOptions { Host = host, Port = port, PublicHost = parse.GetValue(PublicHost), Roles = roles, User = user };
    }

    /// <summary>Sends the node's logs (Akka's, through Akka.Logger.Serilog, and ours) to <paramref name="stderr"/> and the <c>--log</c> file.</summary>
    public IDisposable StartLogging(ParseResult parse, TextWriter stderr, string command)
    {
        var levelText = parse.GetValue(LogLevel);
        var level = levelText switch
        {
            "debug" => LogEventLevel.Debug,
            "information" or "info" => LogEventLevel.Information,
            "warning" => LogEventLevel.Warning,
            "error" => LogEventLevel.Error,
            _ => throw new UsageException($"--log-level: found '{levelText}', expected debug, information, warning or error"),
        };
        var config = new LoggerConfiguration()
            .MinimumLevel.Debug()
            .Enrich.WithProperty("Command", command)
            .WriteTo.Sink(new WriterSink(stderr, $"{Cli.Name} {command}"), level);
        if (parse.GetValue(Log) is { } file)
        {
            config = config.WriteTo.File(new CompactJsonFormatter(), file, LogEventLevel.Debug);
        }

        var logger = config.CreateLogger();
        var previous = Serilog.Log.Logger;
        Serilog.Log.Logger = logger;
        return new Restore(() =>
        {
            Serilog.Log.Logger = previous;
            logger.Dispose();
        });
    }

    /// <summary>Starts a node, turning a port already in use into bad input.</summary>
    public static ActorSystem StartNode(ClusterNodeOptions options)
    {
        try
        {
            return ClusterNodeConfig.Start(options);
        }
        catch (Exception ex) when (ex.GetType().Name.Contains("Transport", StringComparison.Ordinal) || ex.InnerException is System.Net.Sockets.SocketException)
        {
            throw new UsageException($"cannot listen on {options.Host}:{options.Port.ToString(CultureInfo.InvariantCulture)}: {(ex.InnerException ?? ex).Message}");
        }
    }

    /// <summary>The address workers give as <c>--seed-node</c>.</summary>
    public static string AddressOf(ActorSystem node) => Akka.Cluster.Cluster.Get(node).SelfAddress.ToString();

    /// <summary>Runs the campaign as the coordinator of a cluster (and, with <paramref name="localSlots"/> &gt; 0, a worker too).</summary>
    public static CampaignReport Explore(ClusterNodeOptions node, IExplorationTarget target, CampaignOptions options, int localSlots, string? journal, TextWriter output, Action<CampaignProgress> progress)
    {
        var roles = localSlots > 0 ? new[] { ClusterRoles.Coordinator, ClusterRoles.Worker } : [ClusterRoles.Coordinator];
        var slots = ConfigurationFactory.ParseString($"taskisol.cluster.worker-slots = {localSlots.ToString(CultureInfo.InvariantCulture)}");
        var system = StartNode(node with { Roles = roles, User = slots.WithFallback(node.User ?? ConfigurationFactory.Empty) });
        try
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            cluster.Join(cluster.SelfAddress);
            if (localSlots > 0)
            {
                ClusterWorker.Start(system, ExplorationCli.Load, []);
            }

            var spec = ClusterCampaign.Plan(target, options);
            output.WriteLine($"coordinator {AddressOf(system)}: campaign {spec.CampaignId}, {spec.Batches} batches of {spec.BatchSize}{(localSlots > 0 ? $", {localSlots} local slots" : string.Empty)}");
            output.WriteLine($"  start workers with: {Cli.Name} worker --seed-node {AddressOf(system)}");
            if (journal is not null)
            {
                output.WriteLine($"  journal: {Path.GetFullPath(journal)}");
            }

            using var stop = new StopSignals();
            ClusterCampaignReport report;
            try
            {
                report = ClusterCampaign.RunAsync(system, spec, journal, progress, stop.Token).GetAwaiter().GetResult();
            }
            catch (FormatException ex)
            {
                throw new UsageException($"--journal: {ex.Message}");
            }
            catch (IOException ex)
            {
                throw new UsageException($"--journal {journal}: {ex.Message}");
            }
            catch (OperationCanceledException)
            {
                throw new UsageException($"stopped; {(journal is null ? "no --journal was given, so nothing is kept" : $"finished batches are in {journal}: run the same command again to resume")}");
            }

            var s = report.Stats;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cluster: {s.Batches} batches, {s.Resumed} from the journal, {s.Assigned} assigned, {s.Reassigned} reassigned, {s.Duplicates} duplicate results ignored"));
            foreach (var (by, n) in s.Workers.OrderBy(w => w.Key, StringComparer.Ordinal))
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {by}: {n} schedules"));
            }

            if (s.Resumed > 0)
            {
                // The summary's rate divides every schedule, journaled ones included, by this run's time.
                var ran = s.Workers.Where(w => w.Key != CoordinatorActorNames.Journal).Sum(w => w.Value);
                var seconds = report.Report.Elapsed.TotalSeconds;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  this run: {ran} schedules in {seconds:0.00} s ({(seconds > 0 ? ran / seconds : 0):0} schedules/s); the rest came from the journal"));
            }

            return report.Report;
        }
        finally
        {
            CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).Wait(TimeSpan.FromSeconds(30));
            system.WhenTerminated.Wait(TimeSpan.FromSeconds(30));
        }
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    /// <summary>One line per event on a text writer: time, level, source, message.</summary>
    private sealed class WriterSink(TextWriter writer, string prefix) : ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
            var source = logEvent.Properties.TryGetValue("LogSource", out var s) ? $" [{s.ToString().Trim('"')}]" : string.Empty;
            var line = string.Create(CultureInfo.InvariantCulture, $"{prefix}: {logEvent.Timestamp.UtcDateTime:HH:mm:ss.fff} {logEvent.Level.ToString().ToLowerInvariant()}{source} {logEvent.RenderMessage(CultureInfo.InvariantCulture)}");
            lock (writer)
            {
                writer.WriteLine(line);
                if (logEvent.Exception is not null && logEvent.Level >= LogEventLevel.Error)
                {
                    writer.WriteLine($"  {logEvent.Exception.Message}");
                }
            }
        }
    }
}
