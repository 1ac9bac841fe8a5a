using System.CommandLine;
using TaskIsolation.Host.Bench;
using TaskIsolation.Reports;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol bench [--quick] [--report FILE]</c>: how fast the model runs, against raw Akka in the same process and run
/// (issue 8). Prints a table; with <c>--report</c> also writes the figures as JSON, atomically. Targets are reported,
/// never enforced: the exit code is 0 whatever the figures.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Run each stage briefly (seconds, not minutes): a smoke test of the bench itself" };
        var json = new Option<string?>("--report") { Description = "Also write the figures as JSON to this file (written to a temp file, then renamed)", HelpName = "FILE" };
        var command = new Command("bench", ExitCodes.Describe("Measure the model's speed against raw Akka: message rate, time compression, scale", "measured (whatever the figures)", null, "taskisol bench --report bench.json"))
        {
            quick,
            json,
        };
        command.SetAction(parse =>
        {
            var jsonPath = parse.GetValue(json);
            if (jsonPath is not null)
            {
                // Check the destination before spending minutes measuring.
                OutputCheck.CheckFile("--report", jsonPath, []);
            }

            var output = parse.InvocationConfiguration.Output;
            var report = new BenchRunner(parse.GetValue(quick), parse.InvocationConfiguration.Error).Run();
            report.WriteTable(output);
            if (jsonPath is not null)
            {
                report.WriteJsonFile(jsonPath);
                output.WriteLine($"figures written to {jsonPath}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
