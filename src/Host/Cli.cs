using System.CommandLine;
using TaskIsolation.Host.Commands;

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

        return root;
    }
}
