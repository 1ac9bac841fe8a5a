using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Testing;

namespace TaskIsolation.Actors.Tests.Testing;

/// <summary>
/// Each assertion of <c>TaskIsolation.Testing</c> passes when its property holds and, when it does not, fails with an
/// <see cref="IsolationAssertException"/> whose message names the assertion, what was expected, and what the run found.
/// </summary>
public sealed class IsolationAssertTests
{
    private const string Isolated = "nohz_full=1-3 isolcpus=1-3 task_isolation=1-3";

    /// <summary>r09 without its mitigation, seed 1: one violation on CPU 3, iso killed by SIGKILL.</summary>
    private static readonly Lazy<IsolationResult> s_race = new(() => IsolationRunner.Run(IsolationScenario.BuiltIn("r09-tlb-shootdown"), seed: 1));

    /// <summary>r09 with its mitigation, seed 1: no violation, nothing killed.</summary>
    private static readonly Lazy<IsolationResult> s_quiet = new(() => IsolationRunner.Run(IsolationScenario.BuiltIn("r09-tlb-shootdown-mitigated"), seed: 1));

    [Fact]
    public void A_double_report_is_typed_in_the_result()
    {
        // R14 (docs/races.md): seed 3 lets both senders report the one loss of isolation, seed 1 only the first.
        var twice = IsolationRunner.Run(IsolationScenario.BuiltIn("r14-two-senders"), seed: 3);
        var d = Assert.Single(twice.DoubleReports);
        Assert.Equal((3, "iso/101"), (d.Cpu, d.Task.ToString()));
        Assert.NotEqual(d.FirstReportCpu, d.SecondReportCpu);
        Assert.Empty(IsolationRunner.Run(IsolationScenario.BuiltIn("r14-two-senders"), seed: 1).DoubleReports);
    }

    [Fact]
    public void NoViolation_fails_listing_the_violation_found()
    {
        var ex = Assert.Throws<IsolationAssertException>(() => IsolationAssert.NoViolation(s_race.Value));

        Assert.StartsWith("IsolationAssert.NoViolation failed: expected no violation on any CPU; found 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("violations (1):", ex.Message, StringComparison.Ordinal);
        Assert.Contains("VIOLATION on cpu 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("iso/101 killed by signal 9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Violation_fails_saying_none_was_found()
    {
        var ex = Assert.Throws<IsolationAssertException>(() => IsolationAssert.Violation(s_quiet.Value, cpu: 3, kind: InterruptKind.CallFunctionIpi));

        Assert.Contains("IsolationAssert.Violation failed: expected at least 1 call_function_ipi violation(s) on CPU 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("found none", ex.Message, StringComparison.Ordinal);
        Assert.Contains("run of r09-tlb-shootdown-mitigated: seed 1, controlled mode", ex.Message, StringComparison.Ordinal);
        Assert.Contains("violations (0): none", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Violation_of_another_kind_fails_naming_the_one_found()
    {
        var ex = Assert.Throws<IsolationAssertException>(() => IsolationAssert.Violation(s_race.Value, kind: InterruptKind.DeviceIrq));

        Assert.Contains("found none", ex.Message, StringComparison.Ordinal);
        Assert.Contains("VIOLATION on cpu 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KilledBy_fails_when_the_task_was_not_killed()
    {
        var ex = Assert.Throws<IsolationAssertException>(() => IsolationAssert.KilledBy(s_quiet.Value, "iso", signal: Signal.SIGKILL));

        Assert.StartsWith("IsolationAssert.KilledBy failed: expected iso killed by SIGKILL; iso did not exit", ex.Message, StringComparison.Ordinal);
        Assert.Contains("exits (", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KilledBy_fails_on_another_signal_naming_the_one_that_killed()
    {
        var ex = Assert.Throws<IsolationAssertException>(() => IsolationAssert.KilledBy(s_race.Value, "iso", signal: Signal.SIGUSR1));

        Assert.StartsWith("IsolationAssert.KilledBy failed: expected iso killed by SIGUSR1; iso/101 killed by signal 9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Liveness_assertions_pass_and_fail_with_the_run_listed()
    {
        IsolationAssert.NoLivenessFailure(s_race.Value);

        var ex = Assert.Throws<IsolationAssertException>(() => IsolationAssert.LivenessFailure(s_race.Value, "iso"));

        Assert.StartsWith("IsolationAssert.LivenessFailure failed: expected a liveness failure of iso; found none", ex.Message, StringComparison.Ordinal);
        Assert.Contains("liveness failures (0): none", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Signalled_and_kernel_log_assertions_read_the_typed_run()
    {
        var signal = IsolationAssert.Signalled(s_race.Value, "iso", Signal.SIGKILL);
        Assert.Equal(Signal.SIGKILL, signal.Signal);
        IsolationAssert.KernelLogContains(s_race.Value, "lost due to IPI function");
        Assert.Contains(s_race.Value.KernelLog, l => l.Contains("task_isolation mode lost due to IPI function", StringComparison.Ordinal));

        var ex = Assert.Throws<IsolationAssertException>(() => IsolationAssert.Signalled(s_quiet.Value, "iso"));
        Assert.StartsWith("IsolationAssert.Signalled failed: expected at least 1 signal(s) sent to iso; found none", ex.Message, StringComparison.Ordinal);
        var log = Assert.Throws<IsolationAssertException>(() => IsolationAssert.KernelLogContains(s_quiet.Value, "lost due to"));
        Assert.StartsWith("IsolationAssert.KernelLogContains failed: expected a dmesg line contains \"lost due to\"", log.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpectationsHeld_fails_listing_each_failed_expectation()
    {
        var scenario = IsolationScenario.Machine(cpus: 4)
            .Named("wrong-expectation")
            .Cmdline(Isolated)
            .Task("worker", "1", new Compute(1_000_000), new Exit(3))
            .Expect(new TaskIsolation.Scenarios.Exited("worker", 0))
            .RunFor(5_000_000)
            .Build();

        var result = IsolationRunner.Run(scenario);

        IsolationAssert.ExitedWith(result, "worker", 3);
        var ex = Assert.Throws<IsolationAssertException>(() => IsolationAssert.ExpectationsHeld(result));
        Assert.StartsWith("IsolationAssert.ExpectationsHeld failed: 1 of 1 expectations of wrong-expectation failed:\n  worker exits with code 0: worker/", ex.Message, StringComparison.Ordinal);
        var exit = Assert.Throws<IsolationAssertException>(() => IsolationAssert.ExitedWith(result, "worker", 0));
        Assert.Contains("exited with 3", exit.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_machine_built_in_code_runs_like_a_scenario_file()
    {
        var scenario = IsolationScenario.Machine(cpus: 4)
            .Cmdline(Isolated)
            .Task("iso", "3", new Prctl(PrctlOptions.SetTaskIsolation, IsolationFlags.EnableBit), new Compute(1_000_000), new Syscall("write"), new Exit(0))
            .RunFor(20_000_000)
            .Build();
        var yaml = IsolationScenario.FromYaml("""
            name: test
            cpus: 4
            cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
            duration: 20ms
            tasks:
              - name: iso
                cpus: 3
                program:
                  - prctl: enable
                  - compute: 1ms
                  - syscall: write
                  - exit: 0
            """);

        var result = IsolationRunner.Run(scenario, seed: 2);

        Assert.Equal(yaml, scenario);
        IsolationAssert.KilledBy(result, "iso", signal: Signal.SIGKILL, reason: "syscall 1");
        IsolationAssert.NoViolation(result);
    }

    [Fact]
    public void NoFinding_and_Finding_fail_with_the_exploration_summary()
    {
        var found = IsolationExplorer.Explore(IsolationScenario.BuiltIn("r09-tlb-shootdown"), schedules: 16, seed: 1, untilFirst: true);
        var quiet = IsolationExplorer.Explore(IsolationScenario.BuiltIn("r09-tlb-shootdown-mitigated"), schedules: 4, seed: 1);

        var none = Assert.Throws<IsolationAssertException>(() => IsolationAssert.NoFinding(found));
        Assert.StartsWith("IsolationAssert.NoFinding failed: expected no finding in ", none.Message, StringComparison.Ordinal);
        Assert.Contains("violation on cpu 3 (CallFunctionIpi) of iso/101: task sibling/102 on cpu 0: munmap", none.Message, StringComparison.Ordinal);
        var some = Assert.Throws<IsolationAssertException>(() => IsolationAssert.Finding(quiet, cpu: 3));
        Assert.Equal("IsolationAssert.Finding failed: expected a violation finding on cpu 3 in 4 schedules, found none that matches\n4 schedules, 0 failing, 0 distinct findings", some.Message);
        var liveness = Assert.Throws<IsolationAssertException>(() => IsolationAssert.Finding(found, liveness: true));
        Assert.Contains("expected a liveness finding", liveness.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reproduces_fails_when_the_reproducer_no_longer_reproduces()
    {
        var found = IsolationExplorer.Explore(IsolationScenario.BuiltIn("r09-tlb-shootdown"), schedules: 16, seed: 1, untilFirst: true);
        var reproducer = IsolationAssert.Finding(found).Reproducer;
        var other = reproducer with { Finding = reproducer.Finding with { Cpu = 2 } };

        var ex = Assert.Throws<IsolationAssertException>(() => IsolationAssert.Reproduces(other));

        Assert.StartsWith("IsolationAssert.Reproduces failed: expected the reproducer to reproduce its finding, but the replay ended DifferentFinding", ex.Message, StringComparison.Ordinal);
        Assert.Contains("expected '", ex.Message, StringComparison.Ordinal);
        Assert.True(IsolationAssert.Reproduces(IsolationExplorer.Replay(reproducer.ToJson())).Ok);
    }
}
