using System.CommandLine;
using System.Globalization;
using Akka.Actor;
using Spectre.Console;
using TaskIsolation.Host.Soak;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using TaskIsolation.Soak;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol soak FILE|NAME [--for SIMULATED] [--wall LIMIT] [--mode concurrent|controlled] [--seed N]
/// [--snapshot-every SIMULATED] [--cpus LIST] [--stop-us N] [--trace-on-stop F.txt] [--out DIR]</c>: runs a scenario for hours of simulated time in bounded memory,
/// showing progress and writing snapshots (docs/soak.md). Exit 0 when it found nothing, 1 when it found a violation or
/// a liveness failure (also when stopped by a signal or a limit: the final snapshot is written first), 2 for bad input
/// or a snapshot that could not be written (as <c>run</c> treats an output file), 3 for an internal error.
/// </summary>
internal static class SoakCommand
{
    public static Command Create()
    {
        var scenario = CliOptions.Scenario<string>("A scenario file (YAML) or the name of a built-in scenario, e.g. default");
        var forOption = new Option<string>("--for") { Description = "Simulated time to run: 30s, 10m, 1h, ...", DefaultValueFactory = _ => "1h", HelpName = "DURATION" };
        var wall = new Option<string?>("--wall") { Description = "Wall-clock limit: stop after this much real time (10m, 1h, ...)", HelpName = "DURATION" };
        var mode = new Option<string>("--mode") { Description = "controlled (one thread, seeded, reproducible) or concurrent (Akka's threads)", DefaultValueFactory = _ => "controlled", HelpName = "controlled|concurrent" };
        mode.CompletionSources.Add("controlled", "concurrent");
        var seed = CliOptions.Seed("Seed of the schedule (controlled) or of the model's choices (concurrent)");
        var every = new Option<string>("--snapshot-every") { Description = "Simulated time between snapshots", DefaultValueFactory = _ => "10s", HelpName = "DURATION" };
        var noiseCpus = NoiseCpusOption.Create();
        var stopUs = StopOptions.CreateStop();
        var traceOnStop = StopOptions.CreateTrace();
        var output = new Option<string>("--out") { Description = "Directory for the snapshots and the final report (created if missing)", DefaultValueFactory = _ => "soak", HelpName = "DIR" };

        var force = OutputDirectoryOption.Force();
        var command = new Command("soak", ExitCodes.Describe("Run a scenario for a long simulated time: live progress, periodic snapshots, bounded memory", "nothing found", "a violation or liveness failure found", "taskisol soak default --for 10m --snapshot-every 1m --out soak-default"))
        {
            scenario,
            forOption,
            wall,
            mode,
            seed,
            every,
            noiseCpus,
            stopUs,
            traceOnStop,
            output,
            force,
        };
        command.SetAction(parse =>
        {
            // Everything the user gave is checked before anything is written.
            var settings = new SoakSettings
            {
                ForNs = Duration("--for", parse.GetValue(forOption)!, positive: true),
                SnapshotEveryNs = Duration("--snapshot-every", parse.GetValue(every)!, positive: true),
                WallLimit = parse.GetValue(wall) is { } w ? TimeSpan.FromTicks(Duration("--wall", w, positive: true) / 100) : null,
                StopAboveNs = StopOptions.Parse(parse.GetValue(stopUs), parse.GetValue(traceOnStop)),
                StopTraceLeadNs = StopOptions.LeadNs,
            };
            settings = settings with { SliceNs = Math.Min(settings.SliceNs, settings.SnapshotEveryNs) };
            var executionMode = parse.GetValue(mode) switch
            {
                "controlled" => ExecutionMode.Controlled,
                "concurrent" => ExecutionMode.Concurrent,
                var m => throw new UsageException($"--mode: unknown mode '{m}' (expected controlled or concurrent)"),
            };
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var what = parse.GetValue(scenario)!;
            var loaded = LoadScenario(what, stderr);
            if (loaded is null)
            {
                return ExitCodes.BadInput;
            }

            var osnoise = NoiseCpusOption.Apply(loaded, parse.GetValue(noiseCpus));
            var inputs = RunCommand.InputsOf(what);
            var stopTrace = parse.GetValue(traceOnStop);
            if (stopTrace is not null)
            {
                OutputCheck.CheckFiles([(StopOptions.TraceName, stopTrace)], inputs);
            }

            return Run(loaded, osnoise, inputs, settings, executionMode, CliOptions.RunSeed(parse.GetValue(seed)), parse.GetValue(output)!, parse.GetValue(force), stopTrace, stdout, stderr);
        });
        return command;
    }

    private static int Run(Scenario scenario, OsnoiseSettings osnoise, IReadOnlyCollection<InputFile> inputs, SoakSettings settings, ExecutionMode mode, int seed, string output, bool force, string? stopTrace, TextWriter stdout, TextWriter stderr)
    {
        // The last check of the user's input, and the first write: before anything runs.
        if (Directory.Exists(output))
        {
            CheckOwnEntries(output, Path.GetFullPath(output));
        }

        var owned = OutputCheck.PrepareOwnedDirectory("--out", output, inputs, Writes, "soak", force);
        var dir = owned.Path;
        using var signals = new StopSignals(signal => stderr.WriteLine($"taskisol soak: {signal} received: finishing the current slice and writing the final snapshot (again to quit at once)"));
        using var system = ActorSystem.Create("taskisol-soak", SimulationConfig.Hocon);
        try
        {
            var ledger = new SoakLedger(settings);
            var options = ledger.Observe(ScenarioSession.Options(scenario, new RunSettings { Mode = mode, Seed = seed }));
            var session = ScenarioSession.Start(system, scenario, options, m => ledger.Attach(m, new RunInfo(scenario.Name, seed, mode == ExecutionMode.Controlled ? "controlled" : "concurrent", 0, 0), osnoise));
            var machine = session.Machine;
            session.StartDue();

            var reproducers = mode == ExecutionMode.Controlled ? new SoakReproducer(scenario, seed, () => machine.Simulation.Log) : null;
            ISoakProgress view = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected
                ? new LiveProgress(AnsiConsole.Console)
                : new PlainProgress(stdout);
            var result = view.Show((progress, snapshotShown) =>
            {
                var writer = new SnapshotWriter(dir, (snapshot, into) =>
                {
                    reproducers?.Write(snapshot, into);
                    if (snapshot.Final)
                    {
                        Reports.AtomicFile.WriteAllText(Path.Combine(into, HtmlReport.FileName), HtmlReport.Render(snapshot, scenario, machine.Booted.NrCpus, machine.Options.Timings));
                    }

                    OutputCheck.RecordOutputs(owned, "soak", Writes);
                });
                return SoakDriver.Run(session, ledger, settings, new Shown(writer, snapshotShown), progress, signals.Token);
            });

            stdout.Write(SoakFormats.Summary(result.Last));
            if (ledger.Crossing is { } x && stopTrace is not null)
            {
                var from = x.StartNs - StopOptions.LeadNs;
                Reports.AtomicFile.WriteText(stopTrace, w => FtraceExporter.WriteTrace(w, ledger.CrossingWindow.Where(e => e.Time >= from), x.EndNs, machine.Booted.NrCpus, machine.Options.Timings, TaskIsolation.Machine.Arch.ArchInfo.For(machine.Booted.Arch)));
                stdout.WriteLine($"trace of the window before the stop: {stopTrace}");
            }

            stdout.WriteLine($"snapshots in {Path.Combine(dir, SnapshotWriter.LatestLink)}: {string.Join(", ", SnapshotWriter.Files)}, {SnapshotWriter.SummaryFile}, {HtmlReport.FileName}");
            // explore's convention: a finding is what the user ran it to learn, and a script must see it.
            return SoakFormats.Found(result.Last) ? ExitCodes.Failed : ExitCodes.Ok;
        }
        catch (OutputFileException ex)
        {
            // A snapshot could not be written mid-run (disk full, directory removed): the earlier ones are whole.
            stderr.WriteLine($"{Cli.Name} soak: {ErrorText.OneLine(ex.Message)}; the soak stopped there");
            return ExitCodes.BadInput;
        }
        finally
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>
    /// A scenario file if one exists at <paramref name="what"/>, else a built-in scenario of that name; null after
    /// writing a scenario file's errors to <paramref name="error"/>, one a line as <c>file:line:col: message</c>.
    /// </summary>
    private static Scenario? LoadScenario(string what, TextWriter error)
    {
        try
        {
            return RunCommand.Load(what);
        }
        catch (ScenarioException ex)
        {
            foreach (var e in ex.Errors)
            {
                error.WriteLine(ErrorText.OneLine(e.ToString()));
            }

            return null;
        }
    }

    /// <summary>Whether the soak writes an entry of this name into its output directory: the <c>latest</c> link, its temporary name, the snapshot folders.</summary>
    private static bool Writes(string name) => SnapshotWriter.Writes(name);

    /// <summary>
    /// Before anything runs: an entry of the output directory that has a name the soak writes must be the soak's own
    /// kind (<c>latest</c> a symbolic link, <c>snapshots</c> a directory), never something else it would replace.
    /// </summary>
    private static void CheckOwnEntries(string output, string dir)
    {
        var latest = new FileInfo(Path.Combine(dir, SnapshotWriter.LatestLink));
        if ((latest.Exists || Directory.Exists(latest.FullName)) && latest.LinkTarget is null && !latest.Attributes.HasFlag(FileAttributes.ReparsePoint))
        {
            throw new OutputFileException(output, $"--out '{output}': holds '{SnapshotWriter.LatestLink}', which is not the link a soak makes; it would be replaced");
        }

        var snapshots = Path.Combine(dir, SnapshotWriter.SnapshotsDirectory);
        if (File.Exists(snapshots) || (Directory.Exists(snapshots) && new DirectoryInfo(snapshots).LinkTarget is not null))
        {
            throw new OutputFileException(output, $"--out '{output}': holds '{SnapshotWriter.SnapshotsDirectory}', which is not a directory of snapshot folders");
        }
    }

    private static long Duration(string option, string text, bool positive)
    {
        var ns = ScenarioNames.ParseDuration(text, out var error);
        if (ns is null)
        {
            throw new UsageException($"{option}: {error}");
        }

        if (positive && ns <= 0)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{option}: '{text}' must be longer than 0"));
        }

        return ns.Value;
    }

    /// <summary>Writes snapshots, then tells the progress display one was written.</summary>
    private sealed class Shown(ISoakOutput files, Action<SoakSnapshot> shown) : ISoakOutput
    {
        public void Write(SoakSnapshot snapshot)
        {
            files.Write(snapshot);
            shown(snapshot);
        }
    }
}
