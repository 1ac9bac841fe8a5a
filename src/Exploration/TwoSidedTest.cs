using System.Diagnostics;
using System.Globalization;
using System.Text;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>How side (b) of a two-sided regression test searches the mitigated scenario.</summary>
public enum MitigationSearchKind
{
    /// <summary>Every schedule (<see cref="ExhaustiveExplorer"/>, sleep sets on), within <see cref="MitigationCheck.ExhaustiveBudget"/> schedules: a proof within the bounds.</summary>
    Exhaustive,

    /// <summary>
    /// <see cref="MitigationCheck.SampledSchedules"/> schedules of the portfolio strategy (random and PCT) from campaign
    /// seed <see cref="MitigationCheck.SampledSeed"/>: the tree was larger than the budget, so a sample, not a proof.
    /// </summary>
    Sampled,
}

/// <summary>What side (b) found when it was checked.</summary>
/// <param name="Kind">How it searched.</param>
/// <param name="Schedules">Schedules run (by the search that decided the kind; an exhaustive search cut short by the budget is not counted).</param>
/// <param name="Pruned">Branches pruned as equivalent (exhaustive).</param>
/// <param name="Finding">The first finding with the mitigation on, with its reproducer; null when none.</param>
/// <param name="ExhaustiveSchedules">Schedules the exhaustive search ran (all of them when <see cref="Kind"/> is exhaustive).</param>
/// <param name="ExhaustiveEnd">Why the exhaustive search ended.</param>
/// <param name="Elapsed">Wall time of the whole check.</param>
public sealed record MitigationCheckResult(MitigationSearchKind Kind, long Schedules, long Pruned, Reproducer? Finding, long ExhaustiveSchedules, ExhaustiveEnd ExhaustiveEnd, TimeSpan Elapsed)
{
    /// <summary>Whether the mitigation removed every finding from the schedules searched.</summary>
    public bool Holds => Finding is null;
}

/// <summary>
/// Side (b) of a two-sided regression test (<c>taskisol minimize --mitigation</c>): the mitigated scenario is searched
/// exhaustively when its whole tree fits in <see cref="ExhaustiveBudget"/> schedules and the search ends within
/// <see cref="GenerationWall"/>; otherwise <see cref="SampledSchedules"/> portfolio schedules are run. The generated test
/// repeats the kind chosen here with the same options, so it gives the same answer on any machine: both searches are
/// pure functions of the scenario, the model and their bounds (the wall bound only chooses the kind, at generation).
/// </summary>
public static class MitigationCheck
{
    /// <summary>Most schedules side (b) searches exhaustively; a larger tree falls back to sampling.</summary>
    public const long ExhaustiveBudget = 1_000;

    /// <summary>Most wall time the exhaustive search may take at generation before sampling is chosen instead.</summary>
    public static readonly TimeSpan GenerationWall = TimeSpan.FromSeconds(60);

    /// <summary>Schedules side (b) runs when it samples.</summary>
    public const long SampledSchedules = 200;

    /// <summary>Campaign seed of the sampled side (b).</summary>
    public const long SampledSeed = 1;

    /// <summary>The exhaustive search of side (b).</summary>
    public static ExhaustiveOptions Exhaustive(long maxSteps, string find, long budget = ExhaustiveBudget) =>
        new() { MaxSteps = maxSteps, MaxSchedules = budget, Until = UntilMode.First, Reduction = true, Find = find };

    /// <summary>The sampled campaign of side (b).</summary>
    public static CampaignOptions Sampled(long maxSteps, string find, long schedules = SampledSchedules, int workers = 1) =>
        new() { Strategy = StrategyKind.Portfolio, Iterations = schedules, Seed = SampledSeed, MaxSteps = maxSteps, Until = UntilMode.All, Workers = workers, Find = find };

    /// <summary>Searches <paramref name="mitigated"/> as side (b) will, choosing exhaustive or sampled.</summary>
    /// <param name="mitigated">The minimized target with the mitigation on.</param>
    /// <param name="maxSteps">The reproducer's delivery bound.</param>
    /// <param name="find">
    /// The finding's kind (<see cref="FindingInfo.Kinds"/>): side (b) looks for findings of this kind, running past
    /// others. For a violation every other violation counts too; a double report's schedules pass the violation that
    /// starts it (the loss of isolation is still reported once, which is what the fix is for).
    /// </param>
    /// <param name="workers">Threads for the sampled campaign (its result does not depend on them).</param>
    public static MitigationCheckResult Run(IExplorationTarget mitigated, long maxSteps, string find, int workers = 1)
    {
        ArgumentNullException.ThrowIfNull(mitigated);
        var clock = Stopwatch.StartNew();
        var exhaustive = ExhaustiveExplorer.Run(mitigated, Exhaustive(maxSteps, find) with { Wall = GenerationWall });
        if (exhaustive.Reproducer is { } found)
        {
            return new(MitigationSearchKind.Exhaustive, exhaustive.Schedules, exhaustive.Pruned, found, exhaustive.Schedules, exhaustive.End, clock.Elapsed);
        }

        if (exhaustive.Proved)
        {
            return new(MitigationSearchKind.Exhaustive, exhaustive.Schedules, exhaustive.Pruned, null, exhaustive.Schedules, exhaustive.End, clock.Elapsed);
        }

        var campaign = Explorer.Run(mitigated, Sampled(maxSteps, find, workers: workers));
        var first = campaign.Result.Findings.OrderBy(f => f.FirstSchedule).FirstOrDefault()?.Reproducer;
        return new(MitigationSearchKind.Sampled, campaign.Result.Schedules, 0, first, exhaustive.Schedules, exhaustive.End, clock.Elapsed);
    }
}

/// <summary>What a two-sided regression test is generated from.</summary>
/// <param name="Namespace">Namespace of the test class.</param>
/// <param name="ClassName">Name of the test class (distinct per finding: see <see cref="RegressionTestGenerator.NameOf"/>).</param>
/// <param name="ScenarioFile">File name of the minimized scenario, which ships beside the test.</param>
/// <param name="Mitigation">The mitigation as <c>KEY=VALUE</c> (<c>TaskIsolation.Scenarios.Mitigation</c>).</param>
/// <param name="Check">What side (b) found at generation (it must hold).</param>
public sealed record TwoSidedTestOptions(string Namespace, string ClassName, string ScenarioFile, string Mitigation, MitigationCheckResult Check);

/// <summary>A finding's name in file and class names (<see cref="RegressionTestGenerator.NameOf"/>).</summary>
/// <param name="Pascal">Kind and interrupt in PascalCase.</param>
/// <param name="Slug">The same, lower case, words joined by dashes.</param>
/// <param name="Hash">8 hex digits of the SHA-256 of the signature and CPU.</param>
public sealed record FindingName(string Pascal, string Slug, string Hash);

/// <summary>Two-sided regression tests.</summary>
public static partial class RegressionTestGenerator
{
    /// <summary>
    /// A name for a finding that two findings of one scenario never share: its kind and interrupt, readable, and the
    /// first 8 hex digits of the SHA-256 of its signature and CPU (what minimization keeps). For a call_function_ipi
    /// violation: <c>ViolationCallFunctionIpi</c>, <c>violation-callfunctionipi</c> and, say, <c>3f2a1c9b</c>.
    /// </summary>
    public static FindingName NameOf(FindingInfo finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{finding.Signature}\n{finding.Cpu}"))))[..8];
        var words = finding.Kind.Split('-', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..]).ToList();
        if (finding.Interrupt is { Length: > 0 } i)
        {
            words.Add(i);
        }

        var clean = words.Select(w => new string([.. w.Where(char.IsAsciiLetterOrDigit)])).Where(w => w.Length > 0).ToList();
        return new FindingName(string.Concat(clean), string.Join('-', clean.Select(w => w.ToLowerInvariant())), hash);
    }

    /// <summary>
    /// The C# source of a two-sided xunit test on the Testing API (<c>TaskIsolation.Testing</c>): (a) the reproducer's
    /// decisions, replayed on the minimized scenario read from <see cref="TwoSidedTestOptions.ScenarioFile"/> beside the
    /// test, reach the finding (a changed scenario or model fails naming the first divergent decision); (b) with the
    /// mitigation on, the search <see cref="TwoSidedTestOptions.Check"/> chose finds nothing. A pure function of its
    /// arguments (the measured wall time is not written), so regenerating gives the same file.
    /// </summary>
    /// <exception cref="ArgumentException">Side (b) did not hold at generation: such a test would fail at once.</exception>
    public static string GenerateTwoSided(Reproducer reproducer, TwoSidedTestOptions options)
    {
        ArgumentNullException.ThrowIfNull(reproducer);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Check.Holds)
        {
            throw new ArgumentException($"the mitigation {options.Mitigation} does not remove the finding: {options.Check.Finding!.Finding.Signature}", nameof(options));
        }

        var f = reproducer.Finding;
        var c = CultureInfo.InvariantCulture;
        var what = f.Kind switch
        {
            "violation" => $"{f.Interrupt}_violation",
            FindingInfo.DoubleReportKind => "double_report",
            FindingInfo.MonitorKind => "monitor_failure",
            FindingInfo.NoProgressKind => "no_progress_stall",
            _ => "liveness_failure",
        };
        var kindWords = f.Kind switch
        {
            "violation" => "violation",
            FindingInfo.DoubleReportKind => "double report",
            FindingInfo.MonitorKind => "monitor failure",
            FindingInfo.NoProgressKind => "run without progress",
            _ => "liveness failure",
        };
        var switchName = new string([.. options.Mitigation.Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '_')]);
        var sb = new StringBuilder();
        sb.Append("// <auto-generated>\n");
        sb.Append("// Generated by `taskisol minimize --mitigation ").Append(options.Mitigation).Append("`: a two-sided regression test. Regenerate it\n");
        sb.Append("// rather than edit it. It reads ").Append(options.ScenarioFile).Append(", the minimized scenario, from beside this file,\n");
        sb.Append("// or from the test output directory when the sources are elsewhere: then add to the test project\n");
        sb.Append("// <None Include=\"").Append(options.ScenarioFile).Append("\" CopyToOutputDirectory=\"PreserveNewest\" />.\n");
        sb.Append("// </auto-generated>\n");
        sb.Append("using TaskIsolation.Testing;\nusing Xunit;\n\n");
        sb.Append("namespace ").Append(options.Namespace).Append(";\n\n");
        sb.Append("/// <summary>\n");
        sb.Append("/// ").Append(Xml(f.Signature)).Append(c, $" (cpu {f.Cpu}, task {Xml(f.Task)}),\n");
        sb.Append("/// and its mitigation ").Append(Xml(options.Mitigation)).Append(".\n");
        sb.Append("/// Scenario ").Append(Xml(reproducer.Target.Name)).Append(", ").Append(Xml(reproducer.Target.Hash)).Append("; model ").Append(Xml(reproducer.ModelVersion)).Append(".\n");
        sb.Append("/// </summary>\n");
        sb.Append("public sealed class ").Append(options.ClassName).Append("\n{\n");
        sb.Append("    private const string ScenarioFile = ").Append(Literal(options.ScenarioFile)).Append(";\n\n");
        sb.Append("    /// <summary>(a) The minimized schedule still reaches the finding.</summary>\n");
        sb.Append("    [Fact]\n");
        sb.Append("    public void The_minimized_schedule_reaches_the_").Append(what).Append("()\n    {\n");
        sb.Append("        var scenario = IsolationScenario.FromFileBeside(ScenarioFile);\n\n");
        sb.Append("        var replay = IsolationExplorer.Replay(scenario, new RecordedSchedule(\n");
        sb.Append("            Decisions: ").Append(Literal(reproducer.Decisions)).Append(",\n");
        sb.Append("            Signature: ").Append(Literal(f.Signature)).Append(",\n");
        sb.Append(c, $"            Cpu: {f.Cpu},\n");
        sb.Append(c, $"            MaxSteps: {reproducer.Run.MaxSteps},\n");
        sb.Append("            ScenarioHash: ").Append(Literal(reproducer.Target.Hash)).Append(",\n");
        sb.Append("            ModelVersion: ").Append(Literal(reproducer.ModelVersion)).Append("));\n\n");
        sb.Append("        IsolationAssert.Reproduces(replay);\n");
        sb.Append("        Assert.Equal(").Append(Literal(f.Task)).Append(", replay.Run!.Finding!.Task);\n");
        sb.Append("        Assert.Equal(").Append(Literal(f.Root)).Append(", replay.Run.Finding.Root);\n");
        sb.Append("    }\n\n");
        var check = options.Check;
        if (check.Kind == MitigationSearchKind.Exhaustive)
        {
            sb.Append("    /// <summary>\n");
            sb.Append("    /// (b) With ").Append(Xml(options.Mitigation)).Append(c, $" no schedule finds a {kindWords}: the exhaustive search covers the whole tree,\n");
            sb.Append(c, $"    /// {check.Schedules} schedules ({check.Pruned} branches pruned as equivalent) when generated, within a budget of {MitigationCheck.ExhaustiveBudget}.\n");
            sb.Append("    /// </summary>\n");
            sb.Append("    [Fact]\n");
            sb.Append("    public void With_").Append(switchName).Append("_no_schedule_finds_a_").Append(kindWords.Replace(' ', '_')).Append("()\n    {\n");
            sb.Append("        var scenario = IsolationScenario.WithMitigation(IsolationScenario.FromFileBeside(ScenarioFile), ").Append(Literal(options.Mitigation)).Append(");\n\n");
            sb.Append(c, $"        var search = IsolationExplorer.ExploreAll(scenario, maxSchedules: {MitigationCheck.ExhaustiveBudget}, maxSteps: {reproducer.Run.MaxSteps}, find: {Literal(f.Kind)});\n\n");
            sb.Append("        IsolationAssert.NoFinding(search);\n");
        }
        else
        {
            sb.Append("    /// <summary>\n");
            sb.Append("    /// (b) With ").Append(Xml(options.Mitigation)).Append(c, $" none of {MitigationCheck.SampledSchedules} schedules (random and PCT, campaign seed {MitigationCheck.SampledSeed}) finds\n");
            sb.Append(c, $"    /// a {kindWords}. A sample, not a proof: the tree was larger than the exhaustive budget of {MitigationCheck.ExhaustiveBudget} schedules.\n");
            sb.Append("    /// </summary>\n");
            sb.Append("    [Fact]\n");
            sb.Append("    public void With_").Append(switchName).Append(c, $"_no_schedule_of_{MitigationCheck.SampledSchedules}_finds_a_{kindWords.Replace(' ', '_')}()\n    {{\n");
            sb.Append("        var scenario = IsolationScenario.WithMitigation(IsolationScenario.FromFileBeside(ScenarioFile), ").Append(Literal(options.Mitigation)).Append(");\n\n");
            sb.Append(c, $"        var exploration = IsolationExplorer.Explore(scenario, schedules: {MitigationCheck.SampledSchedules}, seed: {MitigationCheck.SampledSeed}, maxSteps: {reproducer.Run.MaxSteps}, find: {Literal(f.Kind)});\n\n");
            sb.Append("        IsolationAssert.NoFinding(exploration);\n");
        }

        sb.Append("    }\n}\n");
        return sb.ToString();
    }
}
