using TaskIsolation.Machine.Abi;
using TaskIsolation.Testing;

namespace MyKernel.IsolationTests;

/// <summary>
/// Race R9: a sibling thread's munmap sends a TLB-shootdown IPI to the CPU where the isolated thread runs in user
/// mode, which kills it; the deferred flush (deferred_tlb_flush) leaves it alone.
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
    }

    [Fact]
    public void Exploration_finds_the_race_and_its_reproducer_replays_it()
    {
        var exploration = IsolationExplorer.Explore(IsolationScenario.BuiltIn("r09-tlb-shootdown"), schedules: 16, seed: 1, untilFirst: true);

        var finding = IsolationAssert.Finding(exploration, cpu: 3, kind: InterruptKind.CallFunctionIpi);
        IsolationAssert.Reproduces(finding.Reproducer);
    }

    [Fact]
    public void With_the_deferred_flush_exploration_finds_nothing()
    {
        var exploration = IsolationExplorer.Explore(IsolationScenario.BuiltIn("r09-tlb-shootdown-mitigated"), schedules: 48, seed: 1);

        IsolationAssert.NoFinding(exploration);
    }
}
