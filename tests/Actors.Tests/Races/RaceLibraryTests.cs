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
/// and causal-chain root checked — and nothing with the mitigation over a larger budget; every race built-in runs
/// under <c>taskisol run</c> semantics with its expectations held.
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

    /// <summary>Every race built-in.</summary>
    public static TheoryData<string> Races => [.. RaceNames()];

    /// <summary>
    /// The race built-ins whose expectations do not depend on the interleaving, so they hold in concurrent mode too.
    /// r03-posix-timer-kick is left out: whether a kick lands in a user window is the race itself.
    /// </summary>
    public static TheoryData<string> InterleavingFree =>
    [
        "r03-posix-timer-kick-mitigated", "r04-residual-tick", "r04-residual-tick-mitigated", "r05-tile-stale-timer",
        "r05-tile-stale-timer-mitigated", "r06-vmstat-rearmed-mitigated", "r07-lru-drain-all-mitigated", "r09-tlb-shootdown", "r09-tlb-shootdown-mitigated", "r11-signal-from-housekeeping",
        "r10-page-fault", "r12-nmi-in-user", "r14-two-senders", "r14-two-senders-v16", "r15-exempt-syscalls",
        "r01-tick-dependency-loop", "r01-tick-dependency-loop-bounded",
    ];

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

    [Theory]
    [MemberData(nameof(Races))]
    public void Each_race_holds_its_expectations_in_controlled_mode(string name)
    {
        var run = ScenarioRunner.Run(Sys, BuiltInScenarios.Load(name), new RunSettings { Mode = ExecutionMode.Controlled, Seed = 1 });

        ExpectationAssert.AllHeld(run);
    }

    [Theory]
    [MemberData(nameof(InterleavingFree))]
    public void Each_race_that_does_not_depend_on_the_interleaving_holds_in_concurrent_mode(string name)
    {
        var run = ScenarioRunner.Run(Sys, BuiltInScenarios.Load(name), new RunSettings { Mode = ExecutionMode.Concurrent, Seed = 1 });

        ExpectationAssert.AllHeld(run);
    }

    [Fact]
    public void Every_mitigated_twin_has_its_race_and_the_library_lists_every_race_the_tests_drive()
    {
        var names = RaceNames().ToHashSet();
        Assert.All(names.Where(n => n.EndsWith("-mitigated", StringComparison.Ordinal)), n => Assert.Contains(n[..^"-mitigated".Length], names));
        Assert.All<object[]>(Mitigable, row => Assert.Contains((string)row[0] + "-mitigated", names));
        Assert.All<object[]>(InterleavingFree, row => Assert.Contains((string)row[0], names));
        Assert.Contains("r03-posix-timer-kick", names);
    }
}
