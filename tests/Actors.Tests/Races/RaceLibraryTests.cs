using System.Text.RegularExpressions;
using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Tests.Scenarios;
using TaskIsolation.Exploration;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>
/// The race library (docs/model.md §9 as built-in scenarios <c>rNN-*</c>, docs/races.md) as regression tests: exploration
/// finds each race without its mitigation within a small fixed schedule budget — the finding's interrupt kind, CPU
/// and causal-chain root checked — and nothing with the mitigation over a larger budget. That every race built-in
/// holds its expectations for seeds 1 to 10 in both modes is <see cref="EverySeedTests"/>.
/// </summary>
public sealed partial class RaceLibraryTests : TestKit
{
    /// <summary>Schedules within which exploration must find a race without its mitigation.</summary>
    private const long FindBudget = 16;

    /// <summary>Schedules over which exploration must find nothing with the mitigation on.</summary>
    private const long CleanBudget = 48;

    public RaceLibraryTests()
        : base(SimulationConfig.Hocon)
    {
    }

    /// <summary>Race built-ins with a mitigation twin: name, interrupt kind, CPU and root of the finding's chain.</summary>
    public static TheoryData<string, string, int, string> Mitigable => new()
    {
        { "r03-posix-timer-kick", "IrqWork", 3, "task hk/102 on cpu 0: timer_settime(10us)" },
        { "r04-residual-tick", "ResidualTick", 3, "tick_stop: success=1 dependency=NONE next=1001001500" },
        { "r05-tile-stale-timer", "StaleTimer", 3, "tick_stop: success=1 dependency=NONE next=none" },
        { "r06-vmstat-rearmed", "VmstatWork", 3, "task iso/101 on cpu 3: write" },
        { "r07-lru-drain-all", "LruDrainWork", 3, "task hk/102 on cpu 0: mlock" },
        { "r09-tlb-shootdown", "CallFunctionIpi", 3, "task sibling/102 on cpu 0: munmap" },
    };

    /// <summary>Built-ins of the race library: <c>r</c>, the §9 number, a dash (<c>r03-…</c>, <c>r01-…</c>, <c>r13-…</c>).</summary>
    private static IEnumerable<string> RaceNames() => BuiltInScenarios.All.Select(s => s.Name).Where(n => RaceName().IsMatch(n));

    [GeneratedRegex("^r[0-9]{1,2}-")]
    private static partial Regex RaceName();

    [Theory]
    [MemberData(nameof(Mitigable))]
    public void Without_the_mitigation_exploration_finds_the_race(string name, string kind, int cpu, string root)
    {
        var target = new ScenarioTarget(BuiltInScenarios.Load(name));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 1, MaxSteps = 100_000, Until = UntilMode.First });

        var result = Explorer.RunBatch(Sys, target, plan, 0, FindBudget);

        var finding = Assert.Single(result.Findings).Reproducer.Finding;
        Assert.Equal(("violation", kind, cpu), (finding.Kind, finding.Interrupt, finding.Cpu));
        Assert.Equal(root, finding.Root);
        Assert.StartsWith("iso/", finding.Task, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Mitigable))]
    public void With_the_mitigation_exploration_finds_nothing(string name, string kind, int cpu, string root)
    {
        _ = (kind, cpu, root);
        var target = new ScenarioTarget(BuiltInScenarios.Load(name + "-mitigated"));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 1, MaxSteps = 100_000 });

        var result = Explorer.RunBatch(Sys, target, plan, 0, CleanBudget);

        Assert.True(result.Findings.Count == 0, string.Join("; ", result.Findings.Select(f => $"schedule {f.FirstSchedule}: {f.Signature}")));
        Assert.Equal(CleanBudget, result.Schedules);
    }

    [Fact]
    public void The_racy_race_is_a_race_some_schedules_pass()
    {
        // r03 must come from the interleaving, not a scripted order: among a few schedules some fail and some do not.
        var target = new ScenarioTarget(BuiltInScenarios.Load("r03-posix-timer-kick"));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 1, MaxSteps = 100_000 });

        var result = Explorer.RunBatch(Sys, target, plan, 0, FindBudget);

        Assert.InRange(result.FailingSchedules, 1, FindBudget - 1);
    }

    [Fact]
    public void Every_mitigated_twin_has_its_race_and_the_library_lists_every_race_the_tests_drive()
    {
        var names = RaceNames().ToHashSet();
        Assert.All(names.Where(n => n.EndsWith("-mitigated", StringComparison.Ordinal)), n => Assert.Contains(n[..^"-mitigated".Length], names));
        Assert.All<object[]>(Mitigable, row => Assert.Contains((string)row[0] + "-mitigated", names));
        Assert.Contains("r03-posix-timer-kick", names);
    }
}
