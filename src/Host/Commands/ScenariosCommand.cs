using System.CommandLine;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Host.Commands;

/// <summary><c>taskisol scenarios</c>: lists the built-in scenarios <c>taskisol run NAME</c> takes.</summary>
internal static class ScenariosCommand
{
    public static Command Create()
    {
        var command = new Command("scenarios", ExitCodes.Describe("List the built-in scenarios (run one with 'taskisol run NAME')", "listed", null, "taskisol scenarios"));
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var width = BuiltInScenarios.All.Max(s => s.Name.Length);
            foreach (var s in BuiltInScenarios.All)
            {
                output.WriteLine($"{s.Name.PadRight(width)}  {s.Summary}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
