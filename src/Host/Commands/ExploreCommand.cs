using System.CommandLine;
using System.Globalization;
using TaskIsolation.Exploration;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>taskisol explore FILE|NAME [--strategy random|pct|portfolio|guided|exhaustive] [--max-schedules N] [--wall T] [--no-reduction] [--iterations N] [--max-steps S] [--depth D]
/// [--seed N] [--workers W] [--until first|all] [--find KIND] [--out DIR]</c>: searches the schedules of a scenario for
/// isolation violations, liveness failures and double reports (issue 6). Exit 0 when nothing was found, 1 when something was, 2 for bad input, 3 for an internal error
/// (<see cref="ExitCodes"/>).
/// </summary>
internal static partial class ExploreCommand
{
    public static Command Create()
    {
        var scenario = CliOptions.Scenario<string>("A scenario file (YAML) or a built-in scenario's name");
        var strategy = new Option<string>("--strategy")
        {
            Description = "random (uniform), pct (Burckhardt et al. 2010: random priorities, D-1 change points), portfolio (both, alternating), guided (mutants of the schedules that reached new coverage, as a fuzzer's corpus) or exhaustive (every schedule, depth first, with sleep sets)",
            DefaultValueFactory = _ => "portfolio",
            HelpName = "random|pct|portfolio|guided|exhaustive",
        };
        strategy.CompletionSources.Add(["random", "pct", "portfolio", "guided", "exhaustive"]);
        var maxSchedules = CliOptions.OptionalNumber<long>("--max-schedules", "With --strategy exhaustive: stop after this many schedules (the run then says it was bounded)", "N");
        var wall = new Option<string?>("--wall") { Description = "With --strategy exhaustive: stop after this much wall time (30s, 5m, ...; the run then says it was bounded)", HelpName = "DURATION" };
        var noReduction = new Option<bool>("--no-reduction") { Description = "With --strategy exhaustive: run every schedule, without pruning equivalent ones (sleep sets)" };
        var iterations = CliOptions.Number<long>("--iterations", "Schedules to run", "N", 1_000);
        var maxSteps = CliOptions.Number<long>("--max-steps", "Most message deliveries in one schedule", "N", 200_000);
        var depth = CliOptions.Number<int>("--depth", "PCT bug depth D (D-1 priority change points)", "D", 3);
        var seed = CliOptions.Seed("Campaign seed: with the scenario it fixes every schedule");
        var workers = CliOptions.OptionalNumber<int>("--workers", "Worker threads, each with its own actor system (default: all cores)", "N");
        var until = new Option<string>("--until") { Description = "first: stop at the first finding; all: run every schedule", DefaultValueFactory = _ => "all", HelpName = "first|all" };
        until.CompletionSources.Add(["first", "all"]);
        var outDir = new Option<string?>("--out") { Description = "Directory for one reproducer per distinct finding (finding-N.json)", HelpName = "DIR" };
        var force = OutputDirectoryOption.Force();
        var find = new Option<string?>("--find") { Description = "Look for one kind of finding only: violation, liveness, double-report, no-progress or monitor (a schedule runs past findings of other kinds)", HelpName = "KIND" };
        find.CompletionSources.Add([.. FindingInfo.Kinds]);

        var swarm = new Option<bool>("--swarm") { Description = "Swarm runs: each schedule perturbs the scenario (timings, device IRQ rates, noise sources on or off) by a draw from its seed, recorded in its reproducer" };
        var swarmTiming = new Option<string?>("--swarm-timing-factor") { Description = "With --swarm: each timing is drawn within [t/F, t*F] (default 2; 1 leaves timings alone)", HelpName = "F" };
        var swarmIrq = new Option<string?>("--swarm-irq-factor") { Description = "With --swarm: each device IRQ's and NMI source's rate is drawn within [r/F, r*F] (default 2; 1 leaves rates alone)", HelpName = "F" };
        var swarmKeepNoise = new Option<bool>("--swarm-keep-noise") { Description = "With --swarm: never switch a noise source off" };
        var cluster = new Option<bool>("--cluster") { Description = "Coordinate the campaign on an Akka.Cluster: workers join with 'taskisol worker --seed-node' (docs/cluster.md)" };
        var journal = new Option<string?>("--journal") { Description = "With --cluster: journal of finished batches; running again with it resumes the campaign", HelpName = "FILE" };
        var hosting = ClusterHosting.Create(defaultPort: 4053, defaultLevel: "warning");
        var command = new Command("explore", ExitCodes.Describe("Search a scenario's schedules for isolation violations, liveness failures and double reports", "nothing found", "a finding found", "taskisol explore scenarios/tlb-shootdown.yaml --iterations 300 --until first --out findings", "With --cluster, 130 (143) when Ctrl-C (SIGTERM) stops the coordinator before the campaign finished."))
        {
            scenario, strategy, iterations, maxSteps, depth, seed, workers, until, outDir, force, find, cluster, journal, maxSchedules, wall, noReduction,
            swarm, swarmTiming, swarmIrq, swarmKeepNoise,
        };
        foreach (var o in hosting.All)
        {
            command.Options.Add(o);
        }
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var swarmSettings = SwarmOptions(parse, swarm, swarmTiming, swarmIrq, swarmKeepNoise);
            if (swarmSettings is not null && parse.GetValue(strategy) == "exhaustive")
            {
                throw new UsageException("--swarm is not supported with --strategy exhaustive: the search runs one scenario's whole tree");
            }

            if (swarmSettings is not null && parse.GetValue(cluster))
            {
                throw new UsageException("--swarm is not supported with --cluster yet: run the campaign on one node");
            }

            if (parse.GetValue(strategy) == "exhaustive")
            {
                if (parse.GetValue(find) is not null)
                {
                    throw new UsageException("--find is not supported with --strategy exhaustive yet: it stops at the first finding of any kind");
                }

                return Exhaustive(parse, output, error, scenario, maxSteps, maxSchedules, wall, noReduction, outDir, force, cluster, until);
            }

            if (parse.GetResult(maxSchedules) is { Implicit: false } || parse.GetResult(wall) is { Implicit: false } || parse.GetValue(noReduction))
            {
                throw new UsageException("--max-schedules, --wall and --no-reduction need --strategy exhaustive");
            }

            if (!StrategyNames.TryParse(parse.GetValue(strategy), out var kind))
            {
                throw new UsageException($"--strategy: found '{parse.GetValue(strategy)}', expected random, pct, portfolio, guided or exhaustive");
            }

            var untilMode = parse.GetValue(until) switch
            {
                "first" => UntilMode.First,
                "all" => UntilMode.All,
                var u => throw new UsageException($"--until: found '{u}', expected first or all"),
            };
            var n = parse.GetValue(iterations);
            var steps = parse.GetValue(maxSteps);
            var d = parse.GetValue(depth);
            var w = parse.GetValue(workers) ?? Environment.ProcessorCount;
            if (n < 1)
            {
                throw new UsageException($"--iterations must be at least 1, not {n}");
            }

            if (steps < 1)
            {
                throw new UsageException($"--max-steps must be at least 1, not {steps}");
            }

            if (d is < 1 or > 64)
            {
                throw new UsageException($"--depth must be between 1 and 64, not {d}");
            }

            if (w is < 1 or > 1024)
            {
                throw new UsageException($"--workers must be between 1 and 1024, not {w}");
            }

            var findKind = parse.GetValue(find);
            if (findKind is not null && !FindingInfo.Kinds.Contains(findKind))
            {
                throw new UsageException($"--find: found '{findKind}', expected {string.Join(", ", FindingInfo.Kinds.Take(FindingInfo.Kinds.Count - 1))} or {FindingInfo.Kinds[^1]}");
            }

            if (kind == StrategyKind.Guided && parse.GetValue(cluster))
            {
                throw new UsageException("--strategy guided runs on one node (each generation of schedules is drawn from the corpus the one before left): drop --cluster");
            }

            var (loaded, _) = RunCommand.Resolve(parse.GetValue(scenario), 1, null, null, error);
            if (loaded is null)
            {
                return ExitCodes.BadInput;
            }

            var inputs = RunCommand.InputsOf(parse.GetValue(scenario));
            var clustered = parse.GetValue(cluster);
            if (!clustered && parse.GetValue(journal) is not null)
            {
                throw new UsageException("--journal needs --cluster");
            }

            // A cluster's node options and files are checked before anything is made or run.
            var node = clustered ? hosting.NodeOptions(parse, []) : null;
            if (clustered)
            {
                hosting.CheckFiles(parse, inputs, parse.GetValue(journal));
            }

            // The reproducers are finding-N.json: none of them may be the scenario file.
            var dir = parse.GetValue(outDir) is { } o ? ExplorationCli.OutputDirectory(o, "--out", inputs, FindingFile().IsMatch, "explore", parse.GetValue(force)) : null;
            var target = new ScenarioTarget(loaded);
            var options = new CampaignOptions { Strategy = kind, Iterations = n, MaxSteps = steps, Depth = d, Seed = parse.GetValue(seed), Workers = w, Until = untilMode, Find = findKind, Swarm = swarmSettings };
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exploring {target.Name} ({target.Hash}): {StrategyNames.Of(kind)}, {n} schedules, max {steps} steps, depth {d}, seed {options.Seed}, {w} worker{(w == 1 ? string.Empty : "s")}, until {parse.GetValue(until)}{(findKind is null ? string.Empty : $", finding only {findKind}")}{SwarmText(swarmSettings)}"));
            // A person at a terminal gets a live bar; a pipe, a log or a test gets the plain lines.
            IExploreProgress view = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && node is null
                ? new LiveExploreProgress(Spectre.Console.AnsiConsole.Console)
                : new PlainExploreProgress(output);
            CampaignReport report;
            if (node is not null)
            {
                // --workers given: the coordinator runs that many batches itself; otherwise workers do all the work.
                var local = parse.GetValue(workers) is not null ? w : 0;
                using var logger = hosting.StartLogging(parse, error, "explore");
                report = view.Show(progress => ClusterHosting.Explore(node, target, options, local, parse.GetValue(journal), output, progress));
            }
            else
            {
                // Ctrl-C or SIGTERM: the workers finish the schedules they are running, and the summary is of what ran.
                using var stop = new StopSignals(signal => error.WriteLine($"taskisol explore: {signal} received: finishing the schedules in flight, then the summary (again to quit at once)"));

                // Each distinct finding's reproducer is written when it is found, before the progress line counts it,
                // so nothing found is lost whatever ends the process; the summary rewrites them in its own order.
                var written = 0;
                void Found(Reproducer r)
                {
                    if (dir is not null)
                    {
                        ExplorationCli.Save(Path.Combine(dir.Path, string.Create(CultureInfo.InvariantCulture, $"finding-{++written}.json")), r);
                        OutputCheck.RecordOutputs(dir, "explore", FindingFile().IsMatch);
                    }
                }

                report = view.Show(progress => Explorer.Run(target, options, progress, cancellation: stop.Token, newFinding: Found));
                WriteSummary(output, report, dir?.Path, written, stop.Received);
                if (dir is not null)
                {
                    OutputCheck.RecordOutputs(dir, "explore", FindingFile().IsMatch);
                }

                return report.Stopped && stop.Received is { } signal
                    ? ExitCodes.StoppedBy(signal)
                    : report.Result.Findings.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
            }

            WriteSummary(output, report, dir?.Path);
            if (dir is not null)
            {
                OutputCheck.RecordOutputs(dir, "explore", FindingFile().IsMatch);
            }

            return report.Result.Findings.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    /// <summary>The swarm ranges of the command line, or null without <c>--swarm</c>; a range option alone is refused.</summary>
    private static SwarmSettings? SwarmOptions(ParseResult parse, Option<bool> swarm, Option<string?> timing, Option<string?> irq, Option<bool> keepNoise)
    {
        double Factor(Option<string?> option)
        {
            var text = parse.GetValue(option);
            if (text is null)
            {
                return 2;
            }

            var ok = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var f);
            return ok && SwarmSettings.CheckFactor(f) is null
                ? f
                : throw new UsageException($"{option.Name}: found '{ErrorText.OneLine(text)}', {SwarmSettings.CheckFactor(ok ? f : double.NaN)}");
        }

        if (!parse.GetValue(swarm))
        {
            foreach (var name in new[] { timing.Name, irq.Name, keepNoise.Name })
            {
                if (parse.GetResult(parse.CommandResult.Command.Options.First(o => o.Name == name)) is { Implicit: false })
                {
                    throw new UsageException($"{name} needs --swarm");
                }
            }

            return null;
        }

        return new SwarmSettings(Factor(timing), Factor(irq), !parse.GetValue(keepNoise));
    }

    private static string SwarmText(SwarmSettings? s) => s is null
        ? string.Empty
        : string.Create(CultureInfo.InvariantCulture, $", swarm: timings within ×{s.TimingFactor:0.###}, IRQ rates within ×{s.IrqRateFactor:0.###}, noise {(s.ToggleNoise ? "on or off" : "kept")}");

    private static int Exhaustive(ParseResult parse, TextWriter output, TextWriter error, Argument<string> scenario, Option<long> maxSteps, Option<long?> maxSchedules, Option<string?> wall, Option<bool> noReduction, Option<string?> outDir, Option<bool> force, Option<bool> cluster, Option<string> until)
    {
        var untilMode = parse.GetValue(until) switch
        {
            "first" => UntilMode.First,
            "all" when parse.GetResult(until) is { Implicit: false } => UntilMode.All,
            "all" => UntilMode.First,
            var u => throw new UsageException($"--until: found '{u}', expected first or all"),
        };

        if (parse.GetValue(cluster))
        {
            throw new UsageException("--strategy exhaustive runs on one node: drop --cluster");
        }

        var steps = parse.GetValue(maxSteps);
        if (steps < 1)
        {
            throw new UsageException($"--max-steps must be at least 1, not {steps}");
        }

        var limit = parse.GetValue(maxSchedules);
        if (limit is < 1)
        {
            throw new UsageException($"--max-schedules must be at least 1, not {limit}");
        }

        TimeSpan? wallLimit = null;
        if (parse.GetValue(wall) is { } text)
        {
            var ns = ScenarioNames.ParseDuration(text, out var why) ?? throw new UsageException($"--wall: {why}");
            if (ns <= 0)
            {
                throw new UsageException($"--wall: '{text}' must be longer than 0");
            }

            wallLimit = TimeSpan.FromTicks(ns / 100);
        }

        var (loaded, _) = RunCommand.Resolve(parse.GetValue(scenario), 1, null, null, error);
        if (loaded is null)
        {
            return ExitCodes.BadInput;
        }

        var dir = parse.GetValue(outDir) is { } o ? ExplorationCli.OutputDirectory(o, "--out", RunCommand.InputsOf(parse.GetValue(scenario)), FindingFile().IsMatch, "explore", parse.GetValue(force)) : null;
        var target = new ScenarioTarget(loaded);
        var options = new ExhaustiveOptions { MaxSteps = steps, MaxSchedules = limit ?? long.MaxValue, Wall = wallLimit, Reduction = !parse.GetValue(noReduction), Until = untilMode };
        var bounds = string.Join(", ", new[]
        {
            limit is { } l ? string.Create(CultureInfo.InvariantCulture, $"at most {l} schedules") : null,
            parse.GetValue(wall) is { } wt ? $"at most {wt} wall" : null,
        }.Where(b => b is not null));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exploring {target.Name} ({target.Hash}): exhaustive{(options.Reduction ? ", sleep sets" : ", no reduction")}, max {steps} steps, until {(untilMode == UntilMode.First ? "first" : "all")}{(bounds.Length > 0 ? ", " + bounds : string.Empty)}"));
        // Ctrl-C or SIGTERM: the schedule running finishes, and the summary says what was searched.
        using var stop = new StopSignals(signal => error.WriteLine($"taskisol explore: {signal} received: finishing the schedule in flight, then the summary (again to quit at once)"));
        var reproducerPath = dir is null ? null : Path.Combine(dir.Path, "finding-1.json");
        var report = ExhaustiveExplorer.Run(
            target,
            options,
            p => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p.Schedules} schedules, {p.Pruned} pruned  {p.Fraction:P1} of the tree as far as known  {(p.Elapsed.TotalSeconds > 0 ? p.Schedules / p.Elapsed.TotalSeconds : 0):0} schedules/s")),
            cancellation: stop.Token,
            newFinding: r =>
            {
                // Written when found, not at the end: a search stopped later keeps it.
                if (reproducerPath is not null)
                {
                    ExplorationCli.Save(reproducerPath, r);
                    OutputCheck.RecordOutputs(dir!, "explore", FindingFile().IsMatch);
                }
            });
        output.WriteLine();
        if (report.End == ExhaustiveEnd.Cancelled)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stopped by {stop.Received?.ToString() ?? "a stop request"} after {report.Schedules} schedules: this summary is of those"));
        }

        var pruned = report.Schedules + report.Pruned == 0 ? 0 : (double)report.Pruned / (report.Schedules + report.Pruned);
        var totals = string.Create(CultureInfo.InvariantCulture, $"{report.Schedules} schedules ({report.Pruned} pruned as equivalent, {pruned:P1} of the branches)");
        switch (report.End)
        {
            case ExhaustiveEnd.Finding:
                var r = report.Reproducer!;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finding: {r.Finding.Signature}"));
                output.WriteLine(untilMode == UntilMode.First
                    ? string.Create(CultureInfo.InvariantCulture, $"  first violating schedule: schedule {r.Run.Schedule} ({r.DecisionList.Count} decisions), after {totals}")
                    : string.Create(CultureInfo.InvariantCulture, $"  first violating schedule: schedule {r.Run.Schedule} ({r.DecisionList.Count} decisions); {report.Failing} of {totals} {(report.Fraction >= 1 ? "(the whole tree)" : "(bounded: not the whole tree)")} fail"));
                ExplorationCli.WriteFinding(output, r.Finding);
                if (reproducerPath is not null)
                {
                    OutputCheck.RecordOutputs(dir!, "explore", FindingFile().IsMatch);
                    output.WriteLine($"  reproducer: {reproducerPath}");
                }

                break;
            case ExhaustiveEnd.Complete when report.StepLimited == 0:
                output.WriteLine($"explored all {totals} within the bounds: no violation");
                break;
            case ExhaustiveEnd.Complete:
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"explored all {totals}: no violation, but {report.StepLimited} schedules hit --max-steps, so this is bounded: their ends were not explored"));
                break;
            default:
                if (report.Reproducer is { } found)
                {
                    // Bounded or stopped after a finding (--until all): the finding stands, the rest is not a proof.
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finding: {found.Finding.Signature}"));
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  first violating schedule: schedule {found.Run.Schedule} ({found.DecisionList.Count} decisions); {report.Failing} of {totals} (bounded: not the whole tree) fail"));
                    ExplorationCli.WriteFinding(output, found.Finding);
                    if (reproducerPath is not null)
                    {
                        output.WriteLine($"  reproducer: {reproducerPath}");
                    }

                    break;
                }

                var why = report.End switch
                {
                    ExhaustiveEnd.MaxSchedules => "--max-schedules",
                    ExhaustiveEnd.Wall => "--wall",
                    _ => "a stop request",
                };
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bounded by {why}: explored {totals}, {report.Fraction:P1} of the tree as far as known: no violation in those; this is not a proof"));
                break;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"schedules: {report.Schedules} in {report.Elapsed.TotalSeconds:0.00} s; {report.StepLimited} hit --max-steps; {report.Deliveries} deliveries, {report.Decisions} decisions"));
        output.WriteLine("coverage (interrupts taken, by CPU state):");
        ExplorationCli.WriteCoverage(output, report.Coverage);
        return report.End switch
        {
            ExhaustiveEnd.Cancelled when stop.Received is { } signal => ExitCodes.StoppedBy(signal),
            _ when report.Reproducer is not null => ExitCodes.Failed,
            _ => ExitCodes.Ok,
        };
    }

    private static void WriteSummary(TextWriter w, CampaignReport report, string? dir, int written = 0, System.Runtime.InteropServices.PosixSignal? stoppedBy = null)
    {
        var r = report.Result;
        w.WriteLine();
        if (report.Stopped)
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stopped by {stoppedBy?.ToString() ?? "a stop request"} after {r.Schedules} schedules (of {report.Plan.Options.Iterations}): this summary is of those"));
        }

        var i = 0;
        foreach (var f in r.Findings)
        {
            i++;
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finding {i}: {f.Signature}"));
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {f.Count} schedule{(f.Count == 1 ? string.Empty : "s")}; first: schedule {f.FirstSchedule} ({f.Reproducer.Run.Strategy}, seed {f.Reproducer.Run.Seed}, {f.Reproducer.DecisionList.Count} decisions)"));
            ExplorationCli.WriteFinding(w, f.Reproducer.Finding);
            if (f.Reproducer.Swarm is { } sw)
            {
                ExplorationCli.WriteSwarm(w, sw);
            }

            if (dir is not null)
            {
                var path = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"finding-{i}.json"));
                ExplorationCli.Save(path, f.Reproducer);
                w.WriteLine($"  reproducer: {path}");
            }
        }

        // A reproducer written as found whose signature the summary dropped (a batch past --until first's bound) goes.
        for (var k = i + 1; dir is not null && k <= written; k++)
        {
            File.Delete(Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"finding-{k}.json")));
        }

        if (r.Findings.Count == 0)
        {
            w.WriteLine("no findings");
        }

        w.WriteLine();
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"schedules: {r.Schedules} in {report.Elapsed.TotalSeconds:0.00} s ({report.SchedulesPerSecond:0} schedules/s); {r.FailingSchedules} failing; {r.StepLimited} hit --max-steps; {r.Deliveries} deliveries, {r.Decisions} decisions"));
        var plan = report.Plan;
        if (plan.Options.Strategy is StrategyKind.Pct or StrategyKind.Portfolio)
        {
            var d = plan.Options.Depth;
            if (report.PctBound is { } bound)
            {
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PCT: n = {plan.Receivers} receivers, k = {plan.PctSteps} choice points, m = {plan.DataOptions} options, d = {d}: each PCT schedule finds a bug of up to {d} constraints (orderings or data values) with probability ≥ min(1/(n·k^(d−1)·m^(d−1)), m^−d) = {bound:G3}; missed by all {report.PctSchedules} with probability ≤ {report.PctMissProbability:G3}"));
                w.WriteLine("  (n, k and m are the most of 8 calibration schedules; k counts scheduling decisions and data choices such as IPI jitter and timer order alike)");
            }
            else
            {
                w.WriteLine($"PCT: no bound: {report.PctNoBoundReason}");
            }
        }

        w.WriteLine("coverage (interrupts taken, by CPU state):");
        ExplorationCli.WriteCoverage(w, r.Coverage);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^finding-[0-9]+\\.json$")]
    private static partial System.Text.RegularExpressions.Regex FindingFile();
}
