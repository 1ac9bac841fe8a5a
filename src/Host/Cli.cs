using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Parsing;
using TaskIsolation.Host.Commands;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Host;

/// <summary>The command tree of <c>taskisol</c>.</summary>
internal static class Cli
{
    /// <summary>The program's name, as error messages start.</summary>
    public const string Name = "taskisol";

    /// <summary>
    /// Every subcommand, in the order help lists them. A new command is one file under Commands/ with a static
    /// <c>Create()</c>, and one entry here.
    /// </summary>
    private static readonly Func<Command>[] Commands =
    [
        BenchCommand.Create,
        BootCommand.Create,
        CpulistCommand.Create,
        RunCommand.Create,
        ScenariosCommand.Create,
        SoakCommand.Create,
        ExploreCommand.Create,
        ReplayCommand.Create,
        MinimizeCommand.Create,
        WorkerCommand.Create,
    ];

    /// <summary>A fresh command tree (commands hold parse state, so each run builds its own).</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            $"A concurrent machine model of Linux task isolation (Chris Metcalf's 2016 series on 4.7). {ExitCodes.Help}");
        foreach (var create in Commands)
        {
            root.Subcommands.Add(create());
        }

        // Shell completion through dotnet-suggest: `taskisol [suggest:N] "command line"` prints the candidates.
        if (!root.Directives.OfType<SuggestDirective>().Any())
        {
            root.Directives.Add(new SuggestDirective());
        }

        return root;
    }

    /// <summary>
    /// Options that were renamed so that one option name has one meaning in every command: the old name on that
    /// command is refused with a message that gives the new one (no silent alias).
    /// </summary>
    private static readonly Dictionary<(string Command, string Option), string> Renamed = new()
    {
        [("explore", "--log")] = "--node-log",
        [("worker", "--log")] = "--node-log",
        [("explore", "--config")] = "--cluster-config",
        [("worker", "--config")] = "--cluster-config",
        [("bench", "--json")] = "--report",
    };

    /// <summary>
    /// The command line's errors in the project's words, one line each (without the <c>taskisol CMD:</c> prefix), or
    /// none: an unknown command or option is named with the closest known one (<see cref="DidYouMean"/>), an
    /// unknown option is never taken as a value of an argument (<c>run --sed 3</c> is not a scenario named
    /// <c>--sed</c>), and no message names a .NET type.
    /// </summary>
    public static IReadOnlyList<string> Errors(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (parse.Tokens.Any(t => t.Type == TokenType.Directive))
        {
            return [];
        }

        var command = parse.CommandResult.Command;
        var errors = new List<string>();

        // A word that starts with '-' before any '--' is an option, whatever slot it would fill: an unknown one is an
        // error, never a scenario or reproducer name. ("-1" and other numbers are left to the command.)
        var doubleDash = parse.Tokens.ToList().FindIndex(t => t.Type == TokenType.DoubleDash);
        var beforeDash = doubleDash < 0 ? parse.Tokens : parse.Tokens.Take(doubleDash).ToList();
        foreach (var argument in parse.CommandResult.Children.OfType<ArgumentResult>())
        {
            foreach (var token in argument.Tokens)
            {
                if (LooksLikeOption(token.Value) && beforeDash.Any(t => ReferenceEquals(t, token)))
                {
                    errors.Add(UnknownOption(command, token.Value));
                }
            }
        }

        errors.AddRange(parse.UnmatchedTokens.Where(LooksLikeOption).Select(w => UnknownOption(command, w)));
        if (errors.Count > 0)
        {
            // The words after an unknown option are most likely its value: the option is the error to report.
            return errors;
        }

        if (command is RootCommand && parse.UnmatchedTokens.Count > 0)
        {
            // The words after an unknown command are its arguments: the command is the one error.
            var word = parse.UnmatchedTokens[0];
            return [$"unknown command '{ErrorText.OneLine(word)}'{DidYouMean(word, command.Subcommands.Select(c => c.Name))}"];
        }

        errors.AddRange(parse.UnmatchedTokens.Select(word => $"unexpected argument '{ErrorText.OneLine(word)}'"));

        if (errors.Count > 0)
        {
            return errors;
        }

        foreach (var error in parse.Errors)
        {
            errors.Add(ErrorText.OneLine(error.Message));
        }

        return errors;
    }

    /// <summary><c>; did you mean 'x'?</c> when one of <paramref name="known"/> is close to <paramref name="word"/>
    /// (the scenario loader's measure: <see cref="ScenarioNames.Suggest"/>), or nothing.</summary>
    public static string DidYouMean(string word, IEnumerable<string> known) =>
        ScenarioNames.Suggest(word, known) is { } s ? $"; did you mean '{s}'?" : string.Empty;

    private static bool LooksLikeOption(string word) =>
        word.Length > 1 && word[0] == '-' && !(char.IsAsciiDigit(word[1]) || word[1] == '.');

    private static string UnknownOption(Command command, string word)
    {
        var name = word.Split('=', ':')[0];
        if (Renamed.TryGetValue((command.Name, name), out var now))
        {
            return $"unknown option '{ErrorText.OneLine(name)}': it is now '{now}' (one name, one meaning across commands; see '{Name} {command.Name} --help')";
        }

        var known = command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal));
        return $"unknown option '{ErrorText.OneLine(word)}'{DidYouMean(name, known)}";
    }
}
