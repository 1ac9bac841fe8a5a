using System.CommandLine;
using TaskIsolation.Actors.Scenarios;
using TaskIsolation.Actors.Simulation;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol run [FILE|NAME] [--seed N] [--mode controlled|concurrent] [--duration D] [--quiet]</c>: runs a
/// scenario file or a built-in scenario (the <c>default</c> one when none is named), prints what happened for a
/// person (<see cref="RunOutput"/>), and exits 0 when every expectation held, 1 when one failed, 2 for bad input.
/// </summary>
/// <remarks>
/// The steps are kept apart so that more outputs slot in: <see cref="Resolve"/> (input, exit 2 on any problem,
/// before anything runs or is written), <see cref="ScenarioRunner.Run(Scenario, RunSettings?)"/>, then each output
/// in turn. Files written by an output go through <see cref="Actors.Soak.AtomicFile"/> (a temporary file, then a rename).
/// </remarks>
internal static class RunCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string?>("scenario")
        {
            Description = "A scenario file (YAML, see docs/scenarios.md) or the name of a built-in scenario "
                + $"('taskisol scenarios' lists them); '{BuiltInScenarios.DefaultName}' when omitted",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the schedule (controlled mode) or of the model's choices (concurrent); same seed, same run in controlled mode",
            DefaultValueFactory = _ => 1,
        };
        var mode = new Option<string>("--mode")
        {
            Description = "controlled (one thread, a seeded schedule: reproducible) or concurrent (Akka's thread pool)",
            DefaultValueFactory = _ => "controlled",
        };
        mode.CompletionSources.Add(["controlled", "concurrent"]);
        var duration = new Option<string?>("--duration")
        {
            Description = "Simulated time to run instead of the scenario's duration: 500us, 2ms, 1.5s, 10m",
        };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the expectations and the summary" };

        var command = new Command("run", "Run a scenario and judge its expectations")
        {
            scenario,
            seed,
            mode,
            duration,
            quiet,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var (loaded, settings) = Resolve(parse.GetValue(scenario), parse.GetValue(seed), parse.GetValue(mode), parse.GetValue(duration), error);
            if (loaded is null)
            {
                return ExitCodes.BadInput;
            }

            var run = ScenarioRunner.Run(loaded, settings);
            new RunOutput(run).WriteText(output, parse.GetValue(quiet));
            return run.AllHeld ? ExitCodes.Ok : ExitCodes.ExpectationFailed;
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
                error.WriteLine(e.ToString());
            }

            return (null, settings);
        }
    }

    /// <summary>An existing file first, then a built-in name; anything else is an error that says which was tried.</summary>
    private static Scenario Load(string what)
    {
        if (File.Exists(what))
        {
            return ScenarioLoader.LoadFile(what);
        }

        if (BuiltInScenarios.Contains(what))
        {
            return BuiltInScenarios.Load(what);
        }

        var names = string.Join(", ", BuiltInScenarios.All.Select(s => s.Name));
        throw new UsageException(Directory.Exists(what)
            ? $"'{what}' is a directory, expected a scenario file or a built-in scenario ({names})"
            : $"no scenario file or built-in scenario named '{what}' (built-in: {names})");
    }
}
