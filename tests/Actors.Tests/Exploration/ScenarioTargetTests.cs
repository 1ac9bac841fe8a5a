using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Tests.Scenarios;
using TaskIsolation.Exploration;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Exploration;

/// <summary>Exploration of scenarios written in YAML, through <see cref="ScenarioTarget"/>.</summary>
public sealed class ScenarioTargetTests : TestKit
{
    /// <summary>The race of <see cref="TlbRaceTarget"/> as a scenario file states it: scenarios/tlb-race.yaml.</summary>
    public static readonly string TlbRace = File.ReadAllText(Path.Combine(ScenarioFiles.ExamplesDirectory, "tlb-race.yaml"));

    public ScenarioTargetTests()
        : base(SimulationConfig.Hocon)
    {
    }

    private static ScenarioTarget Target(string yaml, Func<string, string>? edit = null) =>
        new(ScenarioLoader.Load(edit is null ? yaml : edit(yaml)));

    [Fact]
    public void A_scenario_race_is_found_replayed_and_minimized()
    {
        var target = Target(TlbRace);
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 7, MaxSteps = 50_000, Until = UntilMode.First });
        var result = Explorer.RunBatch(Sys, target, plan, 0, 300);
        var reproducer = Reproducer.Parse(Assert.Single(result.Findings).Reproducer.ToJson());
        Assert.Equal("violation CallFunctionIpi on a nohz_full+isolcpus+task_isolation cpu; root: task step munmap", reproducer.Finding.Signature);
        Assert.Equal(ReplayStatus.Reproduced, Replayer.Replay(Sys, reproducer, ScenarioTarget.Load).Status);

        var min = Minimizer.Minimize(Sys, reproducer, ScenarioTarget.Load, maxRuns: 400, searchPerShrink: 8);

        Assert.True(min.Deviations <= min.OriginalDeviations);
        Assert.True(min.Target.DurationNs <= target.DurationNs);
        Assert.Equal(ReplayStatus.Reproduced, Replayer.Replay(Sys, min.Reproducer, ScenarioTarget.Load).Status);
        Assert.Equal(reproducer.Finding.Signature, min.Reproducer.Finding.Signature);
    }

    [Fact]
    public void The_arm64_twin_of_the_scenario_finds_nothing()
    {
        var target = Target(TlbRace, y => y.Replace("arch: x86_64", "arch: arm64", StringComparison.Ordinal));
        var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 7, MaxSteps = 50_000 });

        Assert.Empty(Explorer.RunBatch(Sys, target, plan, 0, 100).Findings);
    }

    [Fact]
    public void The_residual_tick_is_found_with_1hz_and_not_when_offloaded()
    {
        const string Yaml = """
            name: residual
            cpus: 4
            cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
            model:
              residual_tick: RT
            duration: 1100ms
            tasks:
              - name: dpdk
                cpus: 3
                program:
                  - prctl: nosig
                  - compute: 2s
            """;
        var oneHz = Target(Yaml, y => y.Replace("RT", "1hz", StringComparison.Ordinal));
        var offloaded = Target(Yaml, y => y.Replace("RT", "offloaded", StringComparison.Ordinal));
        var options = new CampaignOptions { Seed = 3, MaxSteps = 50_000 };

        var found = Explorer.RunBatch(Sys, oneHz, Explorer.Plan(Sys, oneHz, options), 0, 4);
        var clean = Explorer.RunBatch(Sys, offloaded, Explorer.Plan(Sys, offloaded, options), 0, 4);

        Assert.StartsWith("violation ResidualTick", Assert.Single(found.Findings).Signature, StringComparison.Ordinal);
        Assert.Empty(clean.Findings);
    }

    [Fact]
    public void Loading_a_reproducer_of_another_kind_or_an_invalid_scenario_is_a_format_error()
    {
        Assert.Throws<FormatException>(() => ScenarioTarget.Load("test-tlb-race", TlbRace));
        Assert.Contains("invalid", Assert.Throws<FormatException>(() => ScenarioTarget.Load("scenario", "cpus: lots")).Message, StringComparison.Ordinal);
    }
}
