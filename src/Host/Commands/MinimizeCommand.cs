using System.CommandLine;
using Akka.Actor;
using TaskIsolation.Exploration;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol minimize REPRO.json [--out DIR] [--mitigation KEY[=VALUE]]</c>: shrinks a reproducer while its finding
/// persists (ddmin over the decisions, then the scenario's shrinks) and writes the minimized scenario, its reproducer
/// and an xunit regression test; with <c>--mitigation</c> a two-sided one, written only once both sides were run and
/// held. Exit 0 minimized, 1 the reproducer does not replay or the mitigation does not remove the finding, 2 bad
/// input, 3 internal error.
/// </summary>
internal static class MinimizeCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("reproducer") { Description = "A reproducer JSON file" };
        file.HelpName = "REPRO.json";
        var outDir = new Option<string?>("--out") { Description = "Output directory (default: 'minimized' next to the reproducer)", HelpName = "DIR" };
        var force = OutputDirectoryOption.Force();
        var budget = CliOptions.Number<int>("--max-runs", "Most schedules to run while minimizing", "N", 3_000);
        var mitigation = new Option<string?>("--mitigation")
        {
            Description = $"A model switch that fixes the finding, KEY[=VALUE] ({string.Join(", ", Mitigation.Keys)}): write a two-sided test that replays the finding and, with the switch, explores the minimized scenario and expects nothing",
            HelpName = "KEY[=VALUE]",
        };
        var command = new Command("minimize", ExitCodes.Describe("Shrink a reproducer and write a regression test for it", "minimized", "the reproducer does not reproduce its finding, or the mitigation does not remove it", "taskisol minimize findings/finding-1.json --out minimized")) { file, outDir, force, budget, mitigation };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(file)!;
            var (reproducer, loadedTarget) = ExplorationCli.ReadReproducer(path);
            if (reproducer.Run.DecisionsFrom > 0)
            {
                // A long soak's reproducer: shrinking it would replay its whole regenerated prefix per try.
                throw new UsageException($"{path}: lists the decisions from {reproducer.Run.DecisionsFrom} on only (a soak's reproducer: the earlier ones are taken again from its seed); minimize needs every decision listed");
            }

            var runs = parse.GetValue(budget);
            if (runs < 1)
            {
                throw new UsageException($"--max-runs must be at least 1, not {runs}");
            }

            Mitigation? fix = null;
            if (parse.GetValue(mitigation) is { } m)
            {
                try
                {
                    fix = Mitigation.Parse(m);
                    if (loadedTarget is ScenarioTarget st)
                    {
                        // Minimizing keeps the model section: a setting the scenario already has, or cannot take, is known now.
                        _ = fix.ApplyTo(st.Scenario);
                    }
                }
                catch (FormatException ex)
                {
                    throw new UsageException($"--mitigation: {ex.Message}", ex);
                }
            }

            // The names it writes come from the scenario's name, which minimizing keeps, and, for a two-sided test, from
            // the finding (its signature and CPU, which minimizing keeps too), so that two findings never collide: check them now.
            var slug = ExplorationCli.Slug(loadedTarget.Name);
            var className = ExplorationCli.ClassName(loadedTarget.Name);
            if (fix is not null)
            {
                var name = RegressionTestGenerator.NameOf(reproducer.Finding);
                slug = $"{slug}-{name.Slug}-{name.Hash}";
                className = $"{className[..^"Regression".Length]}_{name.Pascal}_{name.Hash}";
            }

            string[] names = fix is null
                ? [slug + ".min.yaml", slug + ".min.json", className + ".cs"]
                : [slug + ".min.yaml", slug + ".min.json", className + ".cs", slug + ".mitigated.json"];
            var dir = ExplorationCli.OutputDirectory(parse.GetValue(outDir) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "minimized"), "--out", [new InputFile("the reproducer", path)], names.Contains, "minimize", parse.GetValue(force), accumulates: true);
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

                var scenarioPath = Path.Combine(dir.Path, names[0]);
                var reproPath = Path.Combine(dir.Path, names[1]);
                var testPath = Path.Combine(dir.Path, names[2]);
                AtomicFile.WriteText(scenarioPath, w => w.Write(min.Target.Text));
                ExplorationCli.Save(reproPath, min.Reproducer);
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

                if (fix is not null)
                {
                    var twoSided = TwoSided(output, system, min, fix, className, scenarioPath, reproPath, testPath, Path.Combine(dir.Path, names[3]));
                    OutputCheck.RecordOutputs(dir, "minimize", names.Contains);
                    return twoSided;
                }

                var test = RegressionTestGenerator.Generate(min.Reproducer, new RegressionTestOptions("Regression", className, "ScenarioTarget.Load", []));
                AtomicFile.WriteText(testPath, w => w.Write(test));
                OutputCheck.RecordOutputs(dir, "minimize", names.Contains);
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

    /// <summary>
    /// Runs both sides of the two-sided test as the generated test will, on the files just written, and writes the test
    /// only when both held; when the mitigation does not remove the finding, writes that finding's reproducer instead
    /// and no test (exit 1): a test that fails on the day it is written tests nothing.
    /// </summary>
    private static int TwoSided(TextWriter output, ActorSystem system, MinimizeResult min, Mitigation fix, string className, string scenarioPath, string reproPath, string testPath, string mitigatedPath)
    {
        var scenarioFile = Path.GetFileName(scenarioPath);

        // (a) The decisions replayed on the scenario read back from its file, as the test reads it.
        var onFile = ScenarioLoader.LoadFile(scenarioPath);
        var replayed = Replayer.Replay(system, min.Reproducer with { Target = min.Reproducer.Target with { Text = ScenarioWriter.Write(onFile) } }, ExplorationCli.Load);
        if (!replayed.Ok)
        {
            // Minimizing has just replayed this exact schedule: the file should read back as the scenario it was written from.
            throw new InvalidOperationException($"the minimized schedule does not replay from {scenarioPath}: {replayed.Message}");
        }

        output.WriteLine($"side (a): the minimized schedule ({min.Reproducer.DecisionList.Count} decisions) replayed on {scenarioFile} reaches the finding");

        // (b) The minimized scenario with the mitigation, searched as the test will.
        var mitigated = fix.ApplyTo(((ScenarioTarget)min.Target).Scenario);
        var check = MitigationCheck.Run(new ScenarioTarget(mitigated), min.Reproducer.Run.MaxSteps, min.Reproducer.Finding.Kind, Environment.ProcessorCount);
        var searched = check.Kind == MitigationSearchKind.Exhaustive
            ? $"explored all {check.Schedules} schedules of the minimized scenario ({check.Pruned} pruned as equivalent) within the bounds"
            : $"the minimized scenario has more than {MitigationCheck.ExhaustiveBudget} schedules ({(check.ExhaustiveEnd == ExhaustiveEnd.Wall ? $"the exhaustive search ran out of its {MitigationCheck.GenerationWall.TotalSeconds:0} s after {check.ExhaustiveSchedules}" : check.ExhaustiveEnd == ExhaustiveEnd.MaxSchedules ? "the exhaustive search reached its budget" : "a schedule hit the delivery bound")}), so {MitigationCheck.SampledSchedules} schedules of random and PCT (campaign seed {MitigationCheck.SampledSeed}) were run";
        if (check.Finding is { } found)
        {
            ExplorationCli.Save(mitigatedPath, found);
            output.WriteLine($"side (b): with {fix}, {(check.Kind == MitigationSearchKind.Exhaustive ? $"schedule {check.Schedules} of the exhaustive search" : $"{searched}, and schedule {found.Run.Schedule}")} still finds {found.Finding.Signature}:");
            ExplorationCli.WriteFinding(output, found.Finding);
            output.WriteLine($"no test written: {fix} does not remove the finding, so its side (b) would fail");
            output.WriteLine($"scenario:   {scenarioPath}");
            output.WriteLine($"reproducer: {reproPath}");
            output.WriteLine($"mitigated:  {mitigatedPath} (the finding with {fix}: taskisol replay it)");
            return ExitCodes.Failed;
        }

        output.WriteLine(check.Kind == MitigationSearchKind.Exhaustive
            ? $"side (b): with {fix}, {searched}: no finding"
            : $"side (b): with {fix}, {searched}: no finding, a sample and not a proof");
        var test = RegressionTestGenerator.GenerateTwoSided(min.Reproducer, new TwoSidedTestOptions("Regression", className, scenarioFile, fix.ToString(), check));
        AtomicFile.WriteText(testPath, w => w.Write(test));
        output.WriteLine($"scenario:   {scenarioPath}");
        output.WriteLine($"reproducer: {reproPath}");
        output.WriteLine($"test:       {testPath} (both sides held; keep {scenarioFile} beside it)");
        return ExitCodes.Ok;
    }
}
