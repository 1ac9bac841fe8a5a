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
using TaskIsolation.Reports;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// What <c>taskisol worker</c> and <c>taskisol explore --cluster</c> share: the node options (host, port, public
/// host, HOCON file), Serilog set-up for the node's logs, and Ctrl-C/SIGTERM handling. See docs/cluster.md.
/// </summary>
internal sealed partial class ClusterHosting
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
        new Option<string>("--host") { Description = "Address the cluster node binds (0.0.0.0: every interface)", DefaultValueFactory = _ => "127.0.0.1", HelpName = "HOST" },
        CliOptions.Number<int>("--port", "TCP port of the cluster node (0: any free port)", "PORT", defaultPort),
        new Option<string?>("--public-host") { Description = "Host name other nodes reach this one by, when it differs from --host", HelpName = "HOST" },
        new Option<string?>(ConfigName) { Description = "HOCON file with cluster settings (docs/cluster.md); command-line options win over it", HelpName = "FILE" },
        new Option<string?>(LogName) { Description = "Also write this node's logs to FILE as compact JSON lines (Serilog CLEF)", HelpName = "FILE" },
        new Option<string>("--log-level") { Description = "Least level of the node's logs on stderr: debug, information, warning or error", DefaultValueFactory = _ => defaultLevel, HelpName = "LEVEL" });

    /// <summary>The node's HOCON file: not <c>--config</c>, which is a Kconfig option in <c>boot</c>.</summary>
    public const string ConfigName = "--cluster-config";

    /// <summary>The node's log: not <c>--log</c>, which is the kernel log in <c>run</c>.</summary>
    public const string LogName = "--node-log";

    /// <summary>The node options the command line gives, with <paramref name="roles"/>; bad values are <see cref="UsageException"/>s.</summary>
    public ClusterNodeOptions NodeOptions(ParseResult parse, IReadOnlyList<string> roles, Config? extra = null)
    {
        var port = parse.GetValue(Port);
        if (port is < 0 or > 65535)
        {
            throw new UsageException($"--port must be between 0 and 65535, not {port}");
        }

        var host = parse.GetValue(Host) ?? "127.0.0.1";
        if (!IsHost(host))
        {
            throw new UsageException($"--host: '{host}' is not a host name or an IP address");
        }

        var publicHost = parse.GetValue(PublicHost);
        if (publicHost is not null && !IsHost(publicHost))
        {
            throw new UsageException($"--public-host: '{publicHost}' is not a host name or an IP address");
        }

        _ = Level(parse);
        var user = extra ?? ConfigurationFactory.Empty;
        if (parse.GetValue(Config) is { } file)
        {
            var text = ReadConfig(file);
            try
            {
                user = user.WithFallback(ConfigurationFactory.ParseString(text));
            }
            catch (Exception ex) when (ex is ConfigurationException or FormatException or InvalidOperationException or ArgumentException)
            {
                throw new UsageException($"{ConfigName} {file}: not valid HOCON: {ex.Message}");
            }
        }

        var options = new ClusterNodeOptions { Host = host, Port = port, PublicHost = publicHost, Roles = roles, User = user };
        try
        {
            // HOCON parses leniently and fails when merged: merge the sections a node reads now, not at its start.
            var all = ClusterNodeConfig.For(options);
            foreach (var path in new[] { "akka.actor", "akka.remote", "akka.cluster", "taskisol.cluster" })
            {
                _ = all.GetConfig(path);
            }
        }
        catch (Exception ex) when (ex is NullReferenceException or ConfigurationException or FormatException or InvalidOperationException or ArgumentException)
        {
            throw new UsageException($"{ConfigName} {parse.GetValue(Config)}: not a valid node configuration: {ex.Message}");
        }

        return options;
    }

    /// <summary>
    /// Checks the files the node writes before it starts: <c>--log</c> and <paramref name="journal"/> (<c>--journal</c>)
    /// can be written, are neither an input (<paramref name="inputs"/>, the <c>--config</c> file) nor each other, and the
    /// journal, which is read back to resume, is a regular file (or none yet).
    /// </summary>
    public void CheckFiles(ParseResult parse, IReadOnlyCollection<InputFile> inputs, string? journal = null)
    {
        var all = parse.GetValue(Config) is { } config ? [.. inputs, new InputFile("the configuration", config)] : inputs.ToList();
        var outputs = new List<(string, string)>();
        if (journal is not null)
        {
            outputs.Add(("--journal", journal));
        }

        if (parse.GetValue(Log) is { } log)
        {
            outputs.Add((LogName, log));
        }

        OutputCheck.CheckFiles(outputs, all);
        if (journal is not null && !OutputCheck.IsRegularOrMissing(journal))
        {
            throw new UsageException($"--journal '{journal}': is a device or FIFO, expected a regular file (the journal is read back to resume)");
        }
    }

    /// <summary>The text of a <c>--config</c> file: UTF-8, any problem bad input naming it.</summary>
    private static string ReadConfig(string file)
    {
        if (file.Length == 0)
        {
            throw new UsageException($"{ConfigName}: the path is empty, expected a HOCON file");
        }

        if (Directory.Exists(file))
        {
            throw new UsageException($"{ConfigName} {file}: is a directory, expected a HOCON file");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"{ConfigName} {file}: {ex.Message}");
        }

        return Utf8Text.Decode(bytes, out var invalid) ?? throw new UsageException($"{ConfigName} {file}: {invalid}; a HOCON file is UTF-8");
    }

    /// <summary>Sends the node's logs (Akka's, through Akka.Logger.Serilog, and ours) to <paramref name="stderr"/> and the <c>--log</c> file.</summary>
    public IDisposable StartLogging(ParseResult parse, TextWriter stderr, string command)
    {
        var level = Level(parse);
        var config = new LoggerConfiguration()
            .MinimumLevel.Debug()
            .Enrich.WithProperty("Command", command)
            .WriteTo.Sink(new WriterSink(stderr, $"{Cli.Name} {command}"), level);
        if (parse.GetValue(Log) is { } logFile)
        {
            config = config.WriteTo.File(new CompactJsonFormatter(), logFile, LogEventLevel.Debug);
        }

        var logger = config.CreateLogger();
        var previous = Serilog.Log.Logger;
        Serilog.Log.Logger = logger;
        var file = parse.GetValue(Log);
        return new Restore(() =>
        {
            Serilog.Log.Logger = previous;
            try
            {
                logger.Dispose();
            }
            catch (IOException ex) when (file is not null)
            {
                // The last lines could not be flushed (a full disk): an output file that could not be written.
                throw new OutputFileException(file, $"{LogName} '{file}': cannot write it: {ex.Message}", ex);
            }
        });
    }

    /// <summary>An IP address, or a DNS name of letters, digits and hyphens (RFC 1123) that does not look like a broken address.</summary>
    private static bool IsHost(string text) =>
        System.Net.IPAddress.TryParse(text, out _)
        || (text.Length is > 0 and <= 253 && HostName().IsMatch(text) && !text.Split('.').All(label => label.All(char.IsAsciiDigit)));

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")]
    private static partial System.Text.RegularExpressions.Regex HostName();

    /// <summary>The <c>--log-level</c> given.</summary>
    private LogEventLevel Level(ParseResult parse) => parse.GetValue(LogLevel) switch
    {
        "debug" => LogEventLevel.Debug,
        "information" or "info" => LogEventLevel.Information,
        "warning" => LogEventLevel.Warning,
        "error" => LogEventLevel.Error,
        var other => throw new UsageException($"--log-level: found '{other}', expected debug, information, warning or error"),
    };

    /// <summary>Starts a node, turning a port already in use into bad input.</summary>
    public static ActorSystem StartNode(ClusterNodeOptions options)
    {
        try
        {
            return ClusterNodeConfig.Start(options);
        }
        catch (Exception ex) when (BindFailure(ex) is { } why)
        {
            throw new UsageException($"cannot listen on {options.Host}:{options.Port.ToString(CultureInfo.InvariantCulture)}: {why}");
        }
    }

    /// <summary>
    /// Why the node's transport could not bind, when that is what <paramref name="ex"/> is (however deep Akka and the
    /// tasks wrapped it: a port in use, a host name that does not resolve); null for anything else.
    /// </summary>
    public static string? BindFailure(Exception ex)
    {
        var pending = new Stack<Exception>([ex]);
        string? transport = null;
        while (pending.TryPop(out var e))
        {
            if (e is System.Net.Sockets.SocketException socket)
            {
                return socket.Message;
            }

            if (e is Akka.Remote.RemoteTransportException)
            {
                transport ??= e.Message;
            }

            foreach (var inner in e is AggregateException all ? all.InnerExceptions : e.InnerException is { } one ? [one] : [])
            {
                pending.Push(inner);
            }
        }

        return transport;
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

            // Caught from the moment the user can see the node is up.
            using var stop = new StopSignals();
            output.WriteLine($"coordinator {AddressOf(system)}: campaign {spec.CampaignId}, {spec.Batches} batches of {spec.BatchSize}{(localSlots > 0 ? $", {localSlots} local slots" : string.Empty)}");
            output.WriteLine($"  start workers with: {Cli.Name} worker --seed-node {AddressOf(system)}");
            if (journal is not null)
            {
                output.WriteLine($"  journal: {Path.GetFullPath(journal)}");
            }

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
            catch (Exception ex) when (ex is OperationCanceledException || (stop.Received is not null && ex is InvalidOperationException))
            {
                // A signal that arrives while the coordinator actor is being created can find the node already leaving
                // (Akka's ActorOf then throws "cannot create child while terminating"): that is the same stop.
                // Not bad input: the user stopped it. 128 + the signal, as if the signal had ended the process.
                var signal = stop.Received ?? System.Runtime.InteropServices.PosixSignal.SIGINT;
                throw new StoppedException(
                    $"{signal} received: stopped before the campaign finished; {(journal is null ? "no --journal was given, so nothing is kept" : $"finished batches are in {journal}: run the same command again to resume")}",
                    ExitCodes.StoppedBy(signal));
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

    /// <summary>One line per event on a text writer: time, level, source, message, and an error's exception message.</summary>
    private sealed class WriterSink(TextWriter writer, string prefix) : ILogEventSink
    {
        public void Emit(LogEvent logEvent)
        {
            var source = logEvent.Properties.TryGetValue("LogSource", out var s) ? $" [{s.ToString().Trim('"')}]" : string.Empty;
            // One line per event, whatever the message holds; an error's exception message ends it.
            var cause = logEvent.Exception is not null && logEvent.Level >= LogEventLevel.Error ? $" ({logEvent.Exception.Message})" : string.Empty;
            var line = string.Create(CultureInfo.InvariantCulture, $"{prefix}: {logEvent.Timestamp.UtcDateTime:HH:mm:ss.fff} {logEvent.Level.ToString().ToLowerInvariant()}{source} {logEvent.RenderMessage(CultureInfo.InvariantCulture)}{cause}");
            lock (writer)
            {
                writer.WriteLine(ErrorText.OneLine(line));
            }
        }
    }
}
