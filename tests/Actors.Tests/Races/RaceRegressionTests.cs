using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>
/// §9 races as regression tests: without the mitigation a few seeds of the controlled random strategy find the
/// violation (its kind, CPU and the root of its causal chain are checked); with it many seeds find none.
/// </summary>
public sealed class RaceRegressionTests : TestKit
{
    private const int FindSeeds = 3;
    private const int CleanSeeds = 12;

    public RaceRegressionTests()
        : base(SimulationConfig.Hocon)
    {
    }

    public static TheoryData<string, InterruptKind, string> Found => new()
    {
        { "R3", InterruptKind.IrqWork, "task hk/102 on cpu 0: timer_settime(1s)" },
        { "R4", InterruptKind.ResidualTick, "tick_stop: success=1 dependency=NONE next=1001001500" },
        { "R5", InterruptKind.StaleTimer, "tick_stop: success=1 dependency=NONE next=none" },
        { "R9", InterruptKind.CallFunctionIpi, "task sibling/102 on cpu 0: munmap" },
        { "R12", InterruptKind.Nmi, "NMI source raises NMI → cpu 3" },
    };

    public static TheoryData<string> Mitigated => new() { "R3", "R4", "R5", "R9" };

    [Theory]
    [MemberData(nameof(Found))]
    public void Without_the_mitigation_a_few_seeds_find_the_violation(string id, InterruptKind kind, string root)
    {
        var race = Scenario(id);
        var found = new List<ViolationDetected>();
        for (var seed = 1; seed <= FindSeeds; seed++)
        {
            var m = race.Boot(Sys, seed, mitigated: false);
            m.RunFor(race.RunNs);
            found.AddRange(m.Violations);
            m.Shutdown();
        }

        Assert.NotEmpty(found);
        var v = found[0];
        Assert.Equal((kind, 3), (v.Kind, v.Cpu));
        Assert.Equal(root, v.Chain[0].What);
    }

    [Theory]
    [MemberData(nameof(Mitigated))]
    public void With_the_mitigation_many_seeds_find_nothing(string id)
    {
        var race = Scenario(id);
        for (var seed = 1; seed <= CleanSeeds; seed++)
        {
            var m = race.Boot(Sys, seed, mitigated: true);
            m.RunFor(race.RunNs);
            Assert.True(m.Violations.Count == 0, $"{id} seed {seed}: {string.Join("; ", m.Violations.Select(x => x.What))}");
            m.Shutdown();
        }
    }

    [Fact]
    public void R12_an_NMI_sends_no_signal_and_dumps()
    {
        var m = RaceScenarios.R12.Boot(Sys, 1, mitigated: false);
        m.RunFor(RaceScenarios.R12.RunNs);

        Assert.Contains(m.Violations, v => v.Kind == InterruptKind.Nmi);
        Assert.Empty(m.Recorder.Events.OfType<SignalSent>());
        Assert.Contains(m.Recorder.Events.OfType<KernelLogged>(), l => l.Text.StartsWith("CPU: 3 PID: 101 Comm: iso", StringComparison.Ordinal));
        m.Shutdown();
    }

    [Fact]
    public void R11_a_signal_from_a_housekeeping_task_is_the_only_signal()
    {
        for (var seed = 1; seed <= FindSeeds; seed++)
        {
            var m = RaceScenarios.R11.Boot(Sys, seed, mitigated: false);
            m.RunFor(RaceScenarios.R11.RunNs);
            var sent = m.Recorder.Events.OfType<SignalSent>().Where(s => s.Task.Comm == "iso").ToList();
            Assert.Equal(10, Assert.Single(sent).Signal);
            Assert.Empty(m.Violations);
            Assert.Equal(Signal.SIGUSR1, m.Recorder.Events.OfType<TaskExited>().Single(e => e.Task.Comm == "iso").Signal);
            m.Shutdown();
        }
    }

    [Fact]
    public void R14_two_cpus_interrupting_the_isolated_task_one_after_the_other_give_one_signal()
    {
        for (var seed = 1; seed <= FindSeeds; seed++)
        {
            var m = RaceScenarios.R14.Boot(Sys, seed, mitigated: false);
            m.RunFor(RaceScenarios.R14.RunNs);

            // Both siblings' shootdowns were sent to CPU 3 and both reached it; the second sender tested the task after
            // the first report had cleared its flags (they send at different instants), so it reported nothing.
            var signal = m.Recorder.Events.OfType<SignalSent>().Single(x => x.Task.Comm == "iso");
            var shootdowns = m.Recorder.Events.OfType<InterruptSent>()
                .Where(x => x.TargetCpu == 3 && x.Kind == InterruptKind.CallFunctionIpi)
                .ToList();
            Assert.Equal([0, 1], shootdowns.Select(x => x.Cpu).Distinct().Order());
            Assert.Equal(shootdowns.Min(x => x.Time), signal.Time);
            Assert.Empty(m.DoubleReports);

            var v = m.Violations[0];
            Assert.Equal((InterruptKind.CallFunctionIpi, 3), (v.Kind, v.Cpu));
            Assert.Matches("^task s[01]/10[23] on cpu [01]: munmap$", v.Chain[0].What);
            Assert.Equal(Signal.SIGKILL, signal.Signal);
            Assert.Single(m.Recorder.Events.OfType<KernelLogged>(), l => l.Text == "iso/101: task_isolation mode lost due to IPI function");
            Assert.Equal(Signal.SIGKILL, m.Recorder.Events.OfType<TaskExited>().Single(e => e.Task.Comm == "iso").Signal);
            m.Shutdown();
        }
    }

    [Fact]
    public void R15_exempt_syscalls_send_no_signal()
    {
        var m = RaceScenarios.R15.Boot(Sys, 1, mitigated: false);
        m.RunFor(RaceScenarios.R15.RunNs);

        Assert.Empty(m.Recorder.Events.OfType<SignalSent>());
        Assert.Equal((0, 0), (m.Recorder.Events.OfType<TaskExited>().Single().Signal, m.Recorder.Events.OfType<TaskExited>().Single().Code));
        m.Shutdown();
    }

    private static RaceScenario Scenario(string id) => id switch
    {
        "R3" => RaceScenarios.R3,
        "R4" => RaceScenarios.R4,
        "R5" => RaceScenarios.R5,
        "R9" => RaceScenarios.R9,
        "R12" => RaceScenarios.R12,
        "R14" => RaceScenarios.R14,
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "no such race scenario"),
    };
}
