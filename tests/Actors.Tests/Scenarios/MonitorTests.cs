using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Monitors;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using TaskIsolation.Testing;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// Monitors (docs/scenarios.md, "Monitors"; docs/exploration.md): each kind of the <c>monitors:</c> section fails when
/// its property is broken and holds when it is kept, a monitor of one's own with hot and cold states fails when a run
/// ends hot and holds when it ends cold, and every failure is a finding with a chain, a signature, a reproducer that
/// replays it, found by exploration, exhaustive search included.
/// </summary>
public sealed class MonitorTests : TestKit
{
    public MonitorTests()
        : base(SimulationConfig.Hocon)
    {
    }

    /// <summary>
    /// The TLB race of scenarios/tlb-race.yaml: a sibling on CPU 0 munmaps twice while iso, isolated (NOSIG) on CPU 3,
    /// loops getpid. On x86_64 each munmap sends a TLB shootdown IPI to CPU 3; on arm64 a broadcast TLBI sends none.
    /// </summary>
    private static Scenario Race(string monitors, string arch = "x86_64") => ScenarioLoader.Load($$"""
        name: tlb-race-monitored
        cpus: 4
        arch: {{arch}}
        cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
        model:
          residual_tick: offloaded
        duration: 2ms
        tasks:
          - name: iso
            cpus: 3
            program:
              - thread:
                  name: sibling
                  program:
                    - affinity: 0
                    - loop:
                        count: 2
                        body:
                          - compute: 37us
                          - munmap: 0x1000
                    - exit: 0
              - prctl: nosig
              - loop:
                  count: 60
                  body:
                    - syscall: { name: getpid, work: 3us }
                    - compute: 150ns
              - exit: 0
        monitors:
        {{monitors}}
        """);

    private ScenarioRun Run(Scenario scenario, int seed = 1, IReadOnlyList<Func<IMachineMonitor>>? mine = null) =>
        ScenarioRunner.Run(Sys, scenario, new RunSettings { Seed = seed, Monitors = mine ?? [] });

    [Fact]
    public void No_interrupt_fails_at_the_first_shootdown_after_prctl_and_holds_without_one()
    {
        const string Monitor = "  - no_interrupt: {name: quiet, cpus: 3, kind: call_function_ipi, from: {task: iso, ends: prctl}, to: {task: iso, exits: true}}";
        var broken = Run(Race(Monitor));
        var failure = Assert.Single(broken.Machine.MonitorFailures);
        Assert.Equal("quiet", failure.Monitor);
        Assert.Equal("no_interrupt", failure.MonitorKind);
        Assert.Equal(MonitorFailure.Assertion, failure.Failure);
        Assert.Equal(3, failure.Cpu);
        Assert.Equal("iso", failure.Task?.Comm);

        // The chain runs from the sibling's munmap to the IPI taken on CPU 3, and the monitor failed at that instant.
        Assert.StartsWith("task sibling/", failure.Chain[0].What, StringComparison.Ordinal);
        Assert.EndsWith(": munmap", failure.Chain[0].What, StringComparison.Ordinal);
        var taken = Assert.IsType<InterruptTaken>(broken.Machine.Recorder.Find(failure.Cause));
        Assert.Equal(InterruptKind.CallFunctionIpi, taken.Source.Kind);
        Assert.Equal(taken.Time, failure.Time);

        // arm64 flushes by broadcast TLBI: no IPI reaches CPU 3, the property holds.
        Assert.Empty(Run(Race(Monitor, "arm64")).Machine.MonitorFailures);

        // A window that closes before the first munmap (iso's 2nd getpid comes at about 30 us) holds on x86_64 too.
        Assert.Empty(Run(Race("  - no_interrupt: {cpus: 3, from: {task: iso, ends: prctl}, to: {task: iso, starts: getpid, call: 2}}")).Machine.MonitorFailures);
    }

    [Fact]
    public void Max_single_noise_fails_past_its_bound_and_holds_under_it()
    {
        var broken = Run(Race("  - max_single_noise: {name: jitter, cpus: 3, at_most: 100ns}"));
        var failure = Assert.Single(broken.Machine.MonitorFailures);
        Assert.Equal(MonitorFailure.Assertion, failure.Failure);
        Assert.Equal(3, failure.Cpu);

        // What it measured is the noise accountant's single noise: the run's noise table shows one above the bound.
        var noise = new TaskIsolation.Reports.NoiseAccountant(4, broken.Machine.Options.Timings);
        TaskIsolation.Reports.RunObservers.Replay(broken.Machine.Recorder.Events, broken.Machine.Now, noise);
        Assert.True(noise.Cpus[3].MaxSingleNs > 100);

        Assert.Empty(Run(Race($"  - max_single_noise: {{cpus: 3, at_most: {noise.Cpus[3].MaxSingleNs}ns}}")).Machine.MonitorFailures);
    }

    [Fact]
    public void Reaches_user_fails_when_prctl_takes_longer_than_the_bound_or_the_run_ends_first_and_holds_within_it()
    {
        // Enabling isolation quiesces the CPU first: iso's prctl takes tens of microseconds to return.
        var slow = Run(Race("  - reaches_user: {name: back, task: iso, within: 5us}"));
        var failure = Assert.Single(slow.Machine.MonitorFailures);
        Assert.Equal(MonitorFailure.HotTooLong, failure.Failure);
        Assert.EndsWith(": prctl(48, 0x3)", failure.Chain[^1].What, StringComparison.Ordinal);

        Assert.Empty(Run(Race("  - reaches_user: {task: iso, within: 1ms}")).Machine.MonitorFailures);

        // A step still under way when the run ends: the monitor ends hot, and fails then.
        var sleeper = ScenarioLoader.Load("""
            name: sleeper
            cpus: 2
            duration: 1ms
            tasks:
              - name: s
                cpus: 1
                program: [sleep: 10ms, exit: 0]
            monitors:
              - reaches_user: {task: s, after: sleep, within: 50ms}
            """);
        var hot = Assert.Single(Run(sleeper).Machine.MonitorFailures);
        Assert.Equal(MonitorFailure.HotAtEnd, hot.Failure);
        Assert.Equal(1_000_000, hot.Time);
    }

    /// <summary>
    /// A monitor of one's own: every munmap of the sibling owes a TLB shootdown IPI taken on CPU 3 (hot from the
    /// munmap, cold when the IPI is taken). On x86_64 it always comes; on arm64 never, and the run ends hot.
    /// </summary>
    private sealed class ShootdownReachesCpu3() : IsolationMonitor("shootdown-reaches-cpu3")
    {
        protected override void OnEvent(MachineEvent e)
        {
            switch (e)
            {
                case OperationStarted { Step.Name: "munmap" } o when o.Task.Comm == "sibling":
                    Hot(o, "a TLB shootdown IPI on cpu 3 for the sibling's munmap", cpu: 3);
                    break;
                case InterruptTaken { Cpu: 3, Source.Kind: InterruptKind.CallFunctionIpi }:
                    Cold();
                    break;
            }
        }
    }

    [Fact]
    public void A_monitor_of_ones_own_fails_when_the_run_ends_hot_and_holds_when_it_ends_cold()
    {
        Func<IsolationMonitor>[] mine = [() => new ShootdownReachesCpu3()];
        var cold = IsolationRunner.Run(Race(string.Empty, "x86_64"), 1, mine);
        IsolationAssert.NoMonitorFailure(cold);

        var hot = IsolationRunner.Run(Race(string.Empty, "arm64"), 1, mine);
        var failure = IsolationAssert.MonitorFailure(hot, "shootdown-reaches-cpu3", MonitorFailure.HotAtEnd);
        Assert.Equal(nameof(ShootdownReachesCpu3), failure.MonitorKind);
        Assert.Equal(3, failure.Cpu);
        Assert.EndsWith(": munmap", failure.Chain[^1].What, StringComparison.Ordinal);

        // Exploration finds it as a finding of kind "monitor", and its reproducer replays with the same monitor.
        var explored = IsolationExplorer.Explore(Race(string.Empty, "arm64"), new CampaignOptions { Iterations = 4, Workers = 1 }, mine);
        var group = Assert.Single(explored.Findings);
        Assert.Equal(FindingInfo.MonitorKind, group.Reproducer.Finding.Kind);
        Assert.Equal("monitor shootdown-reaches-cpu3 (ShootdownReachesCpu3) ended the run hot on a nohz_full+isolcpus+task_isolation cpu; root: task step munmap", group.Signature);
        Assert.Equal(4, group.Count);
        IsolationAssert.Reproduces(IsolationExplorer.Replay(group.Reproducer, mine));

        // Without the monitor the reproducer's run finds nothing: the finding is the monitor's.
        Assert.False(IsolationExplorer.Replay(group.Reproducer).Ok);

        // The exhaustive search stops at its first schedule with it too.
        var exhaustive = IsolationExplorer.ExploreExhaustively(Race(string.Empty, "arm64"), new ExhaustiveOptions(), mine);
        Assert.Equal(ExhaustiveEnd.Finding, exhaustive.End);
        Assert.Equal(group.Signature, exhaustive.Reproducer!.Finding.Signature);
    }

    [Fact]
    public void A_scenario_monitor_finding_is_explored_replayed_and_deterministic()
    {
        var scenario = Race("  - no_interrupt: {name: quiet, cpus: 3, kind: call_function_ipi, from: {task: iso, ends: prctl}}");
        var options = new CampaignOptions { Iterations = 16, Workers = 2, Find = FindingInfo.MonitorKind };
        var first = IsolationExplorer.Explore(scenario, options);
        var again = IsolationExplorer.Explore(scenario, options with { Workers = 1 });
        Assert.Equal(first.Report.Result.Canonical(), again.Report.Result.Canonical());
        var group = Assert.Single(first.Findings);
        Assert.Equal("monitor quiet (no_interrupt) failed on a nohz_full+isolcpus+task_isolation cpu; root: task step munmap", group.Signature);
        var replay = IsolationExplorer.Replay(group.Reproducer);
        IsolationAssert.Reproduces(replay);

        // Same seed, same trace, byte for byte.
        Assert.Equal(Run(scenario, 7).Machine.Recorder.Trace(), Run(scenario, 7).Machine.Recorder.Trace());
    }

    [Fact]
    public void The_section_writes_back_canonically_and_leaves_scenarios_without_it_as_they_were()
    {
        var scenario = Race("""
              - no_interrupt: {cpus: 3, from: {task: iso, ends: prctl}}
              - max_single_noise: {name: jitter, at_most: 2us}
              - reaches_user: {task: iso, within: 100us}
            """);
        var text = ScenarioWriter.Write(scenario);
        Assert.Contains("monitors:\n  - no_interrupt:\n      name: no_interrupt\n      cpus: 3\n", text, StringComparison.Ordinal);
        Assert.Equal(text, ScenarioWriter.Write(ScenarioLoader.Load(text)));
        Assert.DoesNotContain("monitors:", ScenarioWriter.Write(BuiltInScenarios.Load("default")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  - no_interrupt: {cpus: 3}", "monitors[0].no_interrupt: 'from' is missing")]
    [InlineData("  - no_interrupt: {cpus: 3, from: {task: nobody, exits: true}}", "no task named 'nobody'")]
    [InlineData("  - max_single_noise: {cpus: 3, at_mots: 2us}", "monitors[0].max_single_noise: unknown key 'at_mots' (did you mean 'at_most'?)")]
    [InlineData("  - reaches_user: {task: iso, within: 0}", "monitors[0].reaches_user.within")]
    [InlineData("  - no_interupt: {cpus: 3}", "did you mean 'no_interrupt'?")]
    [InlineData("  - reaches_user: {task: iso, within: 1us}\n  - reaches_user: {task: iso, within: 2us}", "monitors[1]: monitor name 'reaches_user' is already used by monitors[0]: give each monitor its own 'name'")]
    public void A_bad_monitor_is_one_line_naming_the_key_and_its_place(string monitors, string message)
    {
        var ex = Assert.Throws<ScenarioException>(() => Race(monitors));
        var errors = ex.Errors.Select(e => e.ToString()).ToList();
        Assert.Contains(errors, e => e.Contains(message, StringComparison.Ordinal));
        Assert.All(errors, e => Assert.Matches(@"^<[^>]*>:\d+:\d+: ", e));
        Assert.All(errors, e => Assert.DoesNotContain('\n', e));
    }
}
