using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using Xunit.Abstractions;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// The kernel selftest's checks (docs/model.md §8) as built-in scenarios: every <c>selftest-*</c> built-in runs with all of
/// its expectations holding in both execution modes, and together they cover the checks 1 to 11.
/// </summary>
public sealed class SelftestScenarioTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public SelftestScenarioTests(ITestOutputHelper output)
        : base(SimulationConfig.Hocon, output: output)
    {
        _output = output;
    }

    public static TheoryData<string, ExecutionMode> Runs()
    {
        var data = new TheoryData<string, ExecutionMode>();
        foreach (var s in BuiltInScenarios.All.Where(s => s.Name.StartsWith("selftest-", StringComparison.Ordinal)))
        {
            data.Add(s.Name, ExecutionMode.Controlled);
            data.Add(s.Name, ExecutionMode.Concurrent);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Every_expectation_holds(string name, ExecutionMode mode)
    {
        var scenario = BuiltInScenarios.Load(name);
        var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Mode = mode, Seed = 7 });

        Assert.True(run.Expectations.Length >= 3, "a selftest scenario asserts the outcome, the signal and the log");
        ExpectationAssert.AllHeld(run, _output);
        Assert.Equal(scenario.DurationNs, run.SimulatedNs);
    }

    [Fact]
    public void Each_built_in_selftest_names_its_check_in_its_summary()
    {
        var selftests = BuiltInScenarios.All.Where(s => s.Name.StartsWith("selftest-", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(selftests);
        Assert.All(selftests, s =>
        {
            var number = int.Parse(s.Name.AsSpan(9, 2), System.Globalization.CultureInfo.InvariantCulture);
            Assert.StartsWith($"Selftest {number}", s.Summary, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void The_selftest_built_ins_cover_every_check_of_section_8_with_the_arm64_twin_of_6()
    {
        var names = BuiltInScenarios.All.Select(s => s.Name).Where(n => n.StartsWith("selftest-", StringComparison.Ordinal)).ToList();

        for (var check = 1; check <= 11; check++)
        {
            Assert.Contains(names, n => n.StartsWith($"selftest-{check:00}-", StringComparison.Ordinal));
        }

        Assert.Equal(ArchKind.Arm64, BuiltInScenarios.Load("selftest-06-tlb-shootdown-arm64").Arch);
        Assert.Equal(ArchKind.X86_64, BuiltInScenarios.Load("selftest-06-tlb-shootdown").Arch);
    }

    [Fact]
    public void The_jitter_check_fails_with_the_residual_1hz_tick_as_the_selftest_would()
    {
        // Selftest 11 patches the residual tick out; put 4.7's back and the spin takes a timer interrupt, SIGUSR1 kills it.
        var text = BuiltInScenarios.Text("selftest-11-jitter").Replace("residual_tick: offloaded", "residual_tick: 1hz", StringComparison.Ordinal);
        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(text), new RunSettings { Seed = 7 });

        var failed = run.Expectations.Where(e => !e.Held).Select(e => e.Expectation).ToList();
        Assert.Contains(failed, e => e is MaxNoise);
        Assert.Contains(failed, e => e is Elapsed);
        Assert.Contains(failed, e => e is SignalCount);
        Assert.Contains(failed, e => e is NoViolations);
    }

    [Fact]
    public void The_new_expectations_fail_when_the_run_disagrees()
    {
        var text = BuiltInScenarios.Text("selftest-10-nosig-migrate")
            .Replace("at_least: 400ms", "at_least: 550ms", StringComparison.Ordinal)
            .Replace("cmdline: nohz_full=1-15", "cmdline: nohz_full=1-15", StringComparison.Ordinal)
            + "  - sysfs: {file: task_isolation, cpus: 1-14}\n  - sysfs: {file: online, cpus: 0-15}\n  - elapsed: {from: {task: parent, ends: fork}, to: {task: child, exits: true}, at_least: 0}\n";
        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(text), new RunSettings { Seed = 7 });

        var verdicts = run.Expectations.ToDictionary(e => e.Text, e => (e.Held, e.Detail));
        Assert.False(verdicts.Single(v => v.Key.Contains("between 550ms and 600ms", StringComparison.Ordinal)).Value.Held);
        Assert.False(verdicts["/sys/devices/system/cpu/task_isolation reads \"1-14\\n\""].Held);
        Assert.Equal((true, "reads \"0-15\\n\""), verdicts["/sys/devices/system/cpu/online reads \"0-15\\n\""]);
        Assert.False(verdicts.Single(v => v.Key.StartsWith("from \"parent is done", StringComparison.Ordinal)).Value.Held, "the order is asserted");
    }

    [Theory]
    [InlineData("sysfs: {file: isolcpus, cpus: 1}", "unknown file 'isolcpus'")]
    [InlineData("sysfs: {file: nohz_full}", "'cpus' is missing")]
    [InlineData("elapsed: {from: {task: iso, starts: fork, ends: fork}, to: {task: iso, exits: true}, at_most: 1s}", "give exactly one of")]
    [InlineData("elapsed: {from: {task: iso, starts: fork}, to: {task: iso, exits: true}}", "give 'at_least' and/or 'at_most'")]
    [InlineData("elapsed: {from: {task: iso, exits: true, call: 2}, to: {task: iso, exits: true}, at_most: 1s}", "a task exits once")]
    [InlineData("elapsed: {from: {task: nobody, starts: fork}, to: {task: iso, exits: true}, at_most: 1s}", "nobody")]
    [InlineData("max_noise: {cpus: 1, at_least: 2us, at_most: 1us}", "at_least 2us is above at_most 1us")]
    [InlineData("max_noise: {cpus: 1, at_most: 2 parsecs}", "unknown unit")]
    public void Bad_new_expectations_are_refused_at_their_place(string expectation, string message)
    {
        var yaml = "cpus: 4\ntasks:\n  - name: iso\n    cpus: 1\n    program: [compute: 1ms]\nexpectations:\n  - " + expectation + "\n";

        var ex = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(yaml, "t.yaml"));

        Assert.Contains(ex.Errors, e => e.Line == 7 && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void The_new_expectations_round_trip_through_the_canonical_text()
    {
        foreach (var name in new[] { "selftest-01-sysfs", "selftest-07-unaligned", "selftest-10-nosig-migrate", "selftest-11-jitter" })
        {
            var scenario = BuiltInScenarios.Load(name);
            var canonical = ScenarioWriter.Write(scenario);

            var again = ScenarioLoader.Load(canonical);
            Assert.Equal(canonical, ScenarioWriter.Write(again));
            Assert.Equal(scenario.Expectations.Select(e => e.Describe()), again.Expectations.Select(e => e.Describe()));
        }

        var empty = ScenarioLoader.Load("cpus: 4\nexpectations:\n  - sysfs: {file: task_isolation, cpus: \"\"}\n");
        Assert.Equal(empty, ScenarioLoader.Load(ScenarioWriter.Write(empty)));
    }

    [Fact]
    public void An_unaligned_step_reads_as_an_address_or_with_its_pc_and_needs_the_address()
    {
        static UnalignedAccess Step(string op) =>
            Assert.IsType<UnalignedAccess>(ScenarioLoader.Load($"cpus: 2\ntasks:\n  - name: t\n    cpus: 1\n    program:\n      - {op}\n").Tasks[0].Program[0]);

        Assert.Equal(new UnalignedAccess(0x7f0000000003, ScenarioLoader.UnalignedAccessDefaultPc), Step("unaligned: 0x7f0000000003"));
        Assert.Equal(new UnalignedAccess(0x1001, 0x10c48), Step("unaligned: {address: 0x1001, pc: 0x10c48}"));
        var ex = Assert.Throws<ScenarioException>(() => Step("unaligned: {pc: 0x10c48}"));
        Assert.Contains(ex.Errors, e => e.Line == 6 && e.Message.Contains("'address' is missing", StringComparison.Ordinal));
    }
}
