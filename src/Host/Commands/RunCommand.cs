using System.CommandLine;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol run [FILE|NAME] [--seed N] [--mode controlled|concurrent] [--duration D] [--cpus LIST]
/// [--stop-us N] [--trace-on-stop F.txt] [--report R.json] [--trace T.json] [--ftrace F.txt] [--log L.clef]
/// [--html R.html] [--quiet]</c>: runs a
/// scenario file or a built-in scenario (the <c>default</c> one when none is named), prints what happened for a
/// person (<see cref="RunOutput"/>), and exits 0 when every expectation held, 1 when one failed, 2 for bad input, 3 for an internal
/// error.
/// </summary>
/// <remarks>
/// The steps are kept apart so that more outputs slot in: <see cref="Resolve"/> (input, exit 2 on any problem,
/// before anything runs or is written), <see cref="ScenarioRunner.Run(Scenario, RunSettings?)"/>, then each output
/// in turn. The output paths are checked with the input; the files (docs/reports.md) are written after the run, each
/// through <see cref="AtomicFile"/> (a temporary file, then a rename), so a failed or interrupted run leaves none
/// half-written.
/// </remarks>
internal static class RunCommand
{
    public static Command Create()
    {
        var scenario = CliOptions.Scenario<string?>("A scenario file (YAML, see docs/scenarios.md) or the name of a built-in scenario "
                + $"('taskisol scenarios' lists them); '{BuiltInScenarios.DefaultName}' when omitted");
        scenario.Arity = ArgumentArity.ZeroOrOne;
        var seed = CliOptions.Seed("Seed of the schedule (controlled mode) or of the model's choices (concurrent); same seed, same run in controlled mode");
        var mode = new Option<string>("--mode")
        {
            Description = "controlled (one thread, a seeded schedule: reproducible) or concurrent (Akka's thread pool)",
            DefaultValueFactory = _ => "controlled",
            HelpName = "controlled|concurrent",
        };
        mode.CompletionSources.Add(["controlled", "concurrent"]);
        var duration = new Option<string?>("--duration")
        {
            Description = "Simulated time to run instead of the scenario's duration: 500us, 2ms, 1.5s, 10m",
            HelpName = "DURATION",
        };
        var noiseCpus = NoiseCpusOption.Create();
        var quiet = new Option<bool>("--quiet") { Description = "Print only the expectations and the summary" };
        var report = new Option<string?>("--report") { Description = "Write the run as JSON (docs/report.schema.json) to this file", HelpName = "FILE" };
        var trace = new Option<string?>("--trace") { Description = "Write a Chrome trace-event timeline for ui.perfetto.dev to this file", HelpName = "FILE" };
        var ftrace = new Option<string?>("--ftrace") { Description = "Write the 4.7-style ftrace text of the run to this file", HelpName = "FILE" };
        var log = new Option<string?>("--log") { Description = "Write the kernel log and findings as Serilog compact JSON (CLEF) to this file", HelpName = "FILE" };
        var html = new Option<string?>("--html") { Description = "Write the HTML report (noise over time, percentiles, findings with their timelines; docs/reports.md) to this file", HelpName = "FILE" };
        var stopUs = StopOptions.CreateStop();
        var traceOnStop = StopOptions.CreateTrace();

        var command = new Command("run", ExitCodes.Describe("Run a scenario and judge its expectations", "every expectation held and no monitor failed", "one failed, or simulated time stopped", "taskisol run scenarios/tlb-shootdown.yaml --quiet"))
        {
            scenario,
            seed,
            mode,
            duration,
            noiseCpus,
            stopUs,
            traceOnStop,
            report,
            trace,
            ftrace,
            log,
            html,
            quiet,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var (loaded, settings) = Resolve(parse.GetValue(scenario), CliOptions.RunSeed(parse.GetValue(seed)), parse.GetValue(mode), parse.GetValue(duration), error);
            if (loaded is null)
            {
                return ExitCodes.BadInput;
            }

            var osnoise = NoiseCpusOption.Apply(loaded, parse.GetValue(noiseCpus));
            var stopAboveNs = StopOptions.Parse(parse.GetValue(stopUs), parse.GetValue(traceOnStop));

            // Before the run: every output can be written, none is the scenario file, no two are the same file.
            var paths = new OutputPaths(parse.GetValue(report), parse.GetValue(trace), parse.GetValue(ftrace), parse.GetValue(log));
            var extra = new List<(string, string)>();
            if (parse.GetValue(html) is { } htmlPath)
            {
                extra.Add(("--html", htmlPath));
            }

            if (parse.GetValue(traceOnStop) is { } stopTrace)
            {
                extra.Add((StopOptions.TraceName, stopTrace));
            }

            OutputCheck.CheckFiles(paths.Given().Concat(extra), InputsOf(parse.GetValue(scenario)));

            NoiseStop? watch = null;
            if (stopAboveNs is { } above)
            {
                watch = new NoiseStop(loaded.Cpus, loaded.Model.Timings, osnoise, above);
                settings = settings with { Observer = watch.Observe, Stop = m => watch.StopNow(m.Now) };
            }

            var run = ScenarioRunner.Run(loaded, settings);
            var finished = run.Finished() with { Osnoise = osnoise };
            var runReport = RunOutputs.Report(finished);
            new RunOutput(run, runReport).WriteText(output, parse.GetValue(quiet));
            var crossing = watch?.Crossing;
            if (crossing is { } x)
            {
                output.WriteLine(StopOptions.Stopped(x, watch!.AboveNs));
            }

            // A file that cannot be written after all (a full disk) is an OutputFileException: bad input naming it.
            RunOutputs.Write(paths, finished, runReport);
            if (parse.GetValue(html) is { } h)
            {
                var text = new StringWriter();
                new RunOutput(run, runReport).WriteText(text, quiet: true);
                var heading = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Run of {loaded.Name}, seed {settings.Seed}, {settings.Mode.ToString().ToLowerInvariant()} mode");
                AtomicFile.WriteAllText(h, Html.ReportHtml.Render(Html.NoiseReports.Of(finished, loaded, heading, text.ToString() + (crossing is { } c ? StopOptions.Stopped(c, watch!.AboveNs) + "\n" : string.Empty), crossing)));
            }

            if (crossing is { } stopped && parse.GetValue(traceOnStop) is { } tracePath)
            {
                StopOptions.WriteTrace(tracePath, run.Machine.Recorder.Events, stopped, run.Machine.Now, run.Machine.Booted.NrCpus, run.Machine.Options.Timings, run.Machine.Booted.Arch);
            }

            // A monitor's failure fails the run as an expectation's does: both are what the scenario says must hold. A run
            // whose simulated time stopped did not reach its end, and a noise above --stop-us is an answer of no too.
            return run.AllHeld && run.Machine.MonitorFailures.Count == 0 && run.Machine.NoProgress is null && crossing is null ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    /// <summary>
    /// The scenario and run settings, or null after writing every problem to <paramref name="error"/>: scenario
    /// errors as <c>file:line:col: message</c>, one a line, the way compilers print them.
    /// </summary>
    internal static (Scenario? Scenario, RunSettings Settings) Resolve(string? what, int seed, string? mode, string? duration, TextWriter error)
    {
        var settings = new RunSettings { Seed = seed };
        switch (mode)
        {
            case "controlled" or null:
                break;
            case "concurrent":
                settings = settings with { Mode = ExecutionMode.Concurrent };
                break;
            default:
                throw new UsageException($"--mode: found '{mode}', expected controlled or concurrent");
        }

        if (duration is not null)
        {
            var ns = ScenarioNames.ParseDuration(duration, out var why);
            if (ns is not { } d || d == 0)
            {
                throw new UsageException($"--duration: {why ?? $"'{duration}' is zero, expected a duration above 0"}");
            }

            settings = settings with { DurationNs = d };
        }

        try
        {
            return (Load(what ?? BuiltInScenarios.DefaultName), settings);
        }
        catch (ScenarioException ex)
        {
            foreach (var e in ex.Errors)
            {
                error.WriteLine(ErrorText.OneLine(e.ToString()));
            }

            return (null, settings);
        }
    }

    /// <summary>The scenario file <paramref name="what"/> names, as an input no output may overwrite; none for a built-in scenario.</summary>
    internal static IReadOnlyCollection<InputFile> InputsOf(string? what) =>
        what is not null && File.Exists(what) ? [new InputFile("the scenario", what)] : [];

    /// <summary>An existing file first, then a built-in name; anything else is an error that says which was tried.</summary>
    internal static Scenario Load(string what)
    {
        if (File.Exists(what))
        {
            return ScenarioLoader.LoadFile(what);
        }

        if (BuiltInScenarios.Contains(what))
        {
            return BuiltInScenarios.Load(what);
        }

        var names = BuiltInScenarios.All.Select(s => s.Name);
        throw new UsageException(Directory.Exists(what)
            ? $"'{what}' is a directory, expected a scenario file or a built-in scenario ('taskisol scenarios' lists them)"
            : $"no scenario file or built-in scenario named '{what}'{Cli.DidYouMean(what, names)} ('taskisol scenarios' lists the built-in ones)");
    }
}
