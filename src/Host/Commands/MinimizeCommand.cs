using System.CommandLine;
using Akka.Actor;
using TaskIsolation.Exploration;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol minimize REPRO.json [--out DIR]</c>: shrinks a reproducer while its finding persists (ddmin over the
/// decisions, then the scenario's shrinks) and writes the minimized scenario, its reproducer and an xunit regression
/// test. Exit 0 minimized, 1 the reproducer does not replay, 2 bad input, 3 internal error.
/// </summary>
internal static class MinimizeCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("reproducer") { Description = "A reproducer JSON file" };
        var outDir = new Option<string?>("--out") { Description = "Output directory (default: 'minimized' next to the reproducer)" };
        var budget = new Option<int>("--max-runs") { Description = "Most schedules to run while minimizing", DefaultValueFactory = _ => 3_000 };
        var command = new Command("minimize", ExitCodes.Describe("Shrink a reproducer and write a regression test for it", "minimized", "the reproducer does not reproduce its finding")) { file, outDir, budget };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(file)!;
            var (reproducer, loadedTarget) = ExplorationCli.ReadReproducer(path);
            var runs = parse.GetValue(budget);
            if (runs < 1)
            {
                throw new UsageException($"--max-runs must be at least 1, not {runs}");
            }

            // The names it writes come from the scenario's name, which minimizing keeps: check them now.
            var slug = ExplorationCli.Slug(loadedTarget.Name);
            var className = ExplorationCli.ClassName(loadedTarget.Name);
            string[] names = [slug + ".min.yaml", slug + ".min.json", className + ".cs"];
            var dir = ExplorationCli.OutputDirectory(parse.GetValue(outDir) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "minimized"), "--out", [new InputFile("the reproducer", path)], names.Contains);
            using var system = ActorSystem.Create("taskisol-minimize", SimulationConfig.Hocon);
            try
            {
                MinimizeResult min;
                try
                {
                    min = Minimizer.Minimize(system, reproducer, ExplorationCli.Load, runs);
                }
                catch (InvalidOperationException ex)
                {
                    error.WriteLine($"{path}: {ex.Message}");
                    return ExitCodes.Failed;
                }

                var scenarioPath = Path.Combine(dir, names[0]);
                var reproPath = Path.Combine(dir, names[1]);
                var testPath = Path.Combine(dir, names[2]);
                AtomicFile.WriteText(scenarioPath, w => w.Write(min.Target.Text));
                ExplorationCli.Save(reproPath, min.Reproducer);
                var test = RegressionTestGenerator.Generate(min.Reproducer, new RegressionTestOptions("Regression", className, "ScenarioTarget.Load", []));
                AtomicFile.WriteText(testPath, w => w.Write(test));
                output.WriteLine($"minimized {reproducer.Target.Name}: {min.OriginalDeviations} → {min.Deviations} non-default decisions ({min.OriginalDecisions} → {min.Reproducer.DecisionList.Count} decisions), {min.TargetShrinks} scenario shrinks, {min.Runs} runs");
                if (reproducer.Swarm is not null)
                {
                    output.WriteLine($"swarm: {min.OriginalPerturbations} → {min.Perturbations} changes to the scenario (those kept are applied in the minimized scenario)");
                }

                ExplorationCli.WriteFinding(output, min.Reproducer.Finding);
                if (ModelVersion.Mismatch(reproducer.ModelVersion) is { } model)
                {
                    output.WriteLine($"note: {model}; the minimized reproducer is recorded with this model");
                }

                output.WriteLine($"scenario:   {scenarioPath}");
                output.WriteLine($"reproducer: {reproPath}");
                output.WriteLine($"test:       {testPath}");
                return ExitCodes.Ok;
            }
            finally
            {
                system.Terminate().Wait(TimeSpan.FromSeconds(10));
            }
        });
        return command;
    }
}
