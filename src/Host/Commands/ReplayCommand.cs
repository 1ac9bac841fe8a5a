using System.CommandLine;
using Akka.Actor;
using TaskIsolation.Exploration;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol replay REPRO.json [--trace T.json] [--ftrace F.txt] [--check]</c>: re-runs a reproducer exactly and
/// reports the same finding, or fails loudly naming the first divergent decision. Exit 0 reproduced, 1 not, 2 bad input,
/// 3 internal error.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("reproducer") { Description = "A reproducer JSON file written by 'taskisol explore --out' or 'minimize'" };
        file.HelpName = "REPRO.json";
        var trace = new Option<string?>("--trace") { Description = "Write the replayed run as a Perfetto (Chrome trace-event JSON) file", HelpName = "FILE" };
        var ftrace = new Option<string?>("--ftrace") { Description = "Write the replayed run as 4.7 ftrace text", HelpName = "FILE" };
        var check = new Option<bool>("--check") { Description = "Replay twice and compare the traces byte for byte" };
        var html = new Option<string?>("--html") { Description = "Write the HTML report of the replayed run (the page run --html writes; docs/reports.md)", HelpName = "FILE" };
        var command = new Command("replay", ExitCodes.Describe("Re-run a reproducer exactly and report its finding", "the finding reproduced", "it did not (the first divergent decision is named)", "taskisol replay findings/finding-1.json --check")) { file, trace, ftrace, html, check };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var path = parse.GetValue(file)!;
            var (reproducer, target) = ExplorationCli.ReadReproducer(path);

            // The outputs are checked before the replay: writable, not the reproducer, not one another.
            var outputs = new List<(string, string)>();
            if (parse.GetValue(trace) is { } tracePath)
            {
                outputs.Add(("--trace", tracePath));
            }

            if (parse.GetValue(ftrace) is { } ftracePath)
            {
                outputs.Add(("--ftrace", ftracePath));
            }

            if (parse.GetValue(html) is { } htmlPath)
            {
                outputs.Add(("--html", htmlPath));
            }

            OutputCheck.CheckFiles(outputs, [new InputFile("the reproducer", path)]);
            using var system = ActorSystem.Create("taskisol-replay", SimulationConfig.Hocon);
            try
            {
                output.WriteLine($"replaying {reproducer.Target.Name} ({reproducer.Target.Hash}): {reproducer.Run.Strategy} seed {reproducer.Run.Seed}, {(reproducer.Run.DecisionsFrom > 0 ? $"{reproducer.Run.DecisionsFrom} decisions taken again from the seed, then " : string.Empty)}{reproducer.DecisionList.Count} decisions");
                var report = parse.GetValue(check)
                    ? Replayer.Check(system, reproducer, ExplorationCli.Load)
                    : Replayer.Replay(system, reproducer, ExplorationCli.Load);
                output.WriteLine(report.Message);
                if (report.Run?.Finding is { } f)
                {
                    ExplorationCli.WriteFinding(output, f);
                }

                if (report.Run is { } run)
                {
                    var m = run.Machine;
                    if (parse.GetValue(trace) is { } t)
                    {
                        AtomicFile.Write(t, s => ChromeTraceWriter.WriteTrace(s, m.Recorder.Events, m.Now, m.Booted.NrCpus, m.Options.Timings));
                        output.WriteLine($"trace: {t}");
                    }

                    if (parse.GetValue(ftrace) is { } ft)
                    {
                        AtomicFile.WriteText(ft, w => FtraceExporter.WriteTrace(w, m.Recorder.Events, m.Now, m.Booted.NrCpus, m.Options.Timings, TaskIsolation.Machine.Arch.ArchInfo.For(m.Booted.Arch)));
                        output.WriteLine($"ftrace: {ft}");
                    }

                    if (parse.GetValue(html) is { } h)
                    {
                        var scenario = (target as ScenarioTarget)?.Scenario;
                        var info = new RunInfo(reproducer.Target.Name, 0, "controlled", m.Now, 0);
                        var finished = new FinishedRun(info, m.Recorder.Events, m.Booted.NrCpus, m.Options.Timings, m.Booted.Log, [], m.Booted.Arch)
                        {
                            Osnoise = scenario?.Osnoise ?? OsnoiseSettings.Default,
                        };
                        var summary = report.Message + "\n" + (report.Run.Finding is { } found ? found.Signature + "\n" : string.Empty);
                        AtomicFile.WriteAllText(h, Html.ReportHtml.Render(Html.NoiseReports.Of(finished, scenario, $"Replay of {reproducer.Target.Name} ({reproducer.Run.Strategy} seed {reproducer.Run.Seed})", summary)));
                        output.WriteLine($"html: {h}");
                    }
                }

                return report.Ok ? ExitCodes.Ok : ExitCodes.Failed;
            }
            finally
            {
                system.Terminate().Wait(TimeSpan.FromSeconds(10));
            }
        });
        return command;
    }
}
