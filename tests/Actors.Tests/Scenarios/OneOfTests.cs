using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// <c>one_of</c>, the expectation form of a race (docs/scenarios.md): it reads into named outcomes, writes back
/// canonically, and holds when every expectation of at least one outcome holds, naming the outcome the run took.
/// </summary>
public sealed class OneOfTests : TestKit
{
    /// <summary>The selftest's write(): the isolated task is killed by SIGKILL, so only the first outcome holds.</summary>
    private static string Yaml(string outcomes) => $"""
        name: one-of
        cpus: 4
        cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
        duration: 50ms
        tasks:
          - name: iso
            cpus: 3
            program:
              - prctl: enable
              - compute: 1ms
              - syscall: write
        expectations:
          - no_violations: 0-2
          - one_of:
        {outcomes}
        """;

    private const string KilledOrNot = """
              killed by its write:
                - killed: {task: iso, signal: SIGKILL, reason: syscall 1}
                - signals: {task: iso, count: 1}
              runs on:
                - signals: {task: iso, count: 0}
        """;

    public OneOfTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Fact]
    public void Reads_named_outcomes_in_order_each_with_its_expectations()
    {
        var s = ScenarioLoader.Load(Yaml(KilledOrNot), "t.yaml");

        var race = Assert.IsType<OneOf>(s.Expectations[1]);
        Assert.Equal(["killed by its write", "runs on"], race.Outcomes.Select(o => o.Name));
        Assert.Equal(
            new OneOf([
                new Outcome("killed by its write", [new Killed("iso", Signal.SIGKILL, "syscall 1"), new SignalCount("iso", null, new CountRange(1, 1))]),
                new Outcome("runs on", [new SignalCount("iso", null, new CountRange(0, 0))]),
            ]),
            race);
        Assert.Equal(new NoViolations(CpuMask.Range(4, 0, 2)), s.Expectations[0]);
    }

    [Fact]
    public void The_canonical_text_reads_back_equal_and_is_a_fixed_point()
    {
        var s = ScenarioLoader.Load(Yaml(KilledOrNot), "t.yaml");
        var text = ScenarioWriter.Write(s);
        var again = ScenarioLoader.Load(text, "canonical");

        Assert.Contains("  - one_of:\n      \"killed by its write\":\n        - killed:\n", text, StringComparison.Ordinal);
        Assert.Equal(s.Expectations[1], again.Expectations[1]);
        Assert.Equal(text, ScenarioWriter.Write(again));
    }

    [Fact]
    public void Holds_when_one_outcome_holds_and_names_it()
    {
        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(Yaml(KilledOrNot), "t.yaml"));

        var verdict = run.Expectations[1];
        Assert.True(verdict.Held, verdict.Detail);
        Assert.StartsWith("outcome \"killed by its write\": iso/101 killed by signal 9", verdict.Detail, StringComparison.Ordinal);
        Assert.Equal("one of: \"killed by its write\" (iso killed by SIGKILL after losing isolation due to syscall 1 and exactly 1 signal(s) sent to iso) or \"runs on\" (exactly 0 signal(s) sent to iso)", verdict.Text);
        var taken = Assert.Single(((OneOf)verdict.Expectation).Taken(run.Record()));
        Assert.Equal("killed by its write", taken.Name);
    }

    [Fact]
    public void Fails_when_no_outcome_holds_and_says_why_for_each()
    {
        const string Neither = """
                  killed by SIGUSR1:
                    - killed: {task: iso, signal: SIGUSR1}
                  runs on:
                    - signals: {task: iso, count: 0}
            """;
        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(Yaml(Neither), "t.yaml"));

        var verdict = run.Expectations[1];
        Assert.False(verdict.Held);
        Assert.Empty(((OneOf)verdict.Expectation).Taken(run.Record()));
        Assert.Equal(
            "no outcome held: \"killed by SIGUSR1\": iso killed by SIGUSR1: iso/101 killed by signal 9; \"runs on\": exactly 0 signal(s) sent to iso: found 1; first: "
                + run.Machine.Recorder.Events.OfType<TaskIsolation.Machine.Events.SignalSent>().Single().What,
            verdict.Detail);
    }
}
