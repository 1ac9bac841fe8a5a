using TaskIsolation.Machine.Abi;
using TaskIsolation.Testing;

namespace TaskIsolation.Actors.Tests.Testing;

/// <summary>
/// A two-sided race regression test written as a user would, with nothing but <c>TaskIsolation.Testing</c>: without
/// its mitigation the TLB-shootdown race (docs/model.md §9 R9) is found, and its reproducer replays it; with the
/// deferred flush nothing is found over a larger budget.
/// </summary>
public sealed class TlbShootdownRaceTests
{
    [Fact]
    public void Sibling_munmap_kills_the_isolated_task_by_a_call_function_ipi()
    {
        var result = IsolationRunner.Run(IsolationScenario.BuiltIn("r09-tlb-shootdown"), seed: 1);

        var violation = IsolationAssert.Violation(result, cpu: 3, kind: InterruptKind.CallFunctionIpi);
        Assert.Equal("task sibling/102 on cpu 0: munmap", violation.Chain[0].What);
        IsolationAssert.KilledBy(result, "iso", signal: Signal.SIGKILL, reason: "IPI function");
        IsolationAssert.NoViolation(result, cpu: 0);
        IsolationAssert.ExpectationsHeld(result);
    }

    [Fact]
    public void Exploration_finds_the_race_and_its_reproducer_replays_it()
    {
        var exploration = IsolationExplorer.Explore(IsolationScenario.BuiltIn("r09-tlb-shootdown"), schedules: 16, seed: 1, untilFirst: true);

        var finding = IsolationAssert.Finding(exploration, cpu: 3, kind: InterruptKind.CallFunctionIpi);
        Assert.Equal("task sibling/102 on cpu 0: munmap", finding.Reproducer.Finding.Root);
        IsolationAssert.Reproduces(finding.Reproducer);
    }

    [Fact]
    public void With_the_deferred_flush_exploration_finds_nothing()
    {
        var exploration = IsolationExplorer.Explore(IsolationScenario.BuiltIn("r09-tlb-shootdown-mitigated"), schedules: 48, seed: 1);

        IsolationAssert.NoFinding(exploration);
        Assert.Equal(48, exploration.Schedules);
    }
}
