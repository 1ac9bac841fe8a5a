using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Exploration;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using TaskIsolation.Soak;

namespace TaskIsolation.Actors.Tests.Soak;

/// <summary>A controlled soak's findings, one reproducer per distinct signature, replay to the same findings.</summary>
public sealed class SoakReproducerTests : TestKit
{
    public SoakReproducerTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Theory]
    [InlineData(5)]
    [InlineData(11)]
    public void The_first_finding_of_a_sliced_soak_replays_exactly_from_its_reproducer(int seed)
    {
        var scenario = BuiltInScenarios.Load("residual-tick");
        var settings = new SoakSettings { ForNs = 4_000_000_000, SnapshotEveryNs = 1_000_000_000, SliceNs = 250_000_000 };
        var ledger = new SoakLedger(settings);
        var session = ScenarioSession.Start(Sys, scenario, ledger.Observe(ScenarioSession.Options(scenario, new RunSettings { Seed = seed })), m => ledger.Attach(m));
        var m = session.Machine;
        var result = SoakDriver.Run(session, ledger, settings, new Discard());
        var first = Assert.IsType<FirstFinding>(result.Last.First);
        var written = new SoakReproducer(scenario, seed, () => m.Simulation.Decisions).For(first);
        var reproducer = Reproducer.Parse(written.ToJson());

        // The soak went on past it: the reproducer holds only the decisions up to the delivery that found it.
        Assert.True(m.Simulation.Decisions.Count > first.Decisions);
        Assert.Equal(first.Decisions, reproducer.DecisionList.Count);
        var replay = Replayer.Replay(Sys, reproducer, ScenarioTarget.Load);
        Assert.True(replay.Ok, replay.Message);
        Assert.Equal(first.Info.TimeNs, replay.Run!.Finding!.TimeNs);
    }

    [Fact]
    public void Every_distinct_finding_signature_gets_its_own_reproducer_and_each_replays_to_its_finding()
    {
        // An isolated poller that an NMI reaches at 350 ms (no signal from NMI context, it polls on) and the residual
        // 1 Hz tick at 1 s (which kills it): two findings of different signatures; more NMIs, none after the kill.
        var scenario = ScenarioLoader.Load(
            """
            name: two-kinds
            cpus: 4
            cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
            duration: 1s
            tasks:
              - name: dpdk
                cpus: 3
                program:
                  - prctl: enable
                  - compute: 100s
              - name: other
                cpus: 2
                program:
                  - prctl: enable
                  - compute: 100s
            noise:
              - nmi: {cpus: 2-3, period: 200ms, first: 350ms}
            """,
            "two-kinds.yaml");
        var dir = Directory.CreateTempSubdirectory("soak-repro-").FullName;
        try
        {
            var (m, result) = Soak(scenario, 7, new SoakSettings { ForNs = 3_000_000_000, SnapshotEveryNs = 1_000_000_000 }, dir);
            var distinct = result.Last.Distinct!;

            // Several findings share a signature (the NMIs on both CPUs); each signature is written once.
            Assert.True(result.Last.Capture.ViolationCount > distinct.Count);
            Assert.Equal(2, distinct.Count);
            Assert.Equal(distinct.Count, distinct.Select(d => d.Info.Signature).Distinct().Count());
            Assert.Equal(result.Last.First, distinct[0]);
            Assert.Equal(result.Last.Capture.ViolationCount, distinct.Sum(d => d.Count));
            Assert.Equal(0, distinct[0].FindingsBefore);
            Assert.True(distinct[1].FindingsBefore > 0);
            Assert.Equal(["reproducer-2.json", "reproducer.json"], Directory.GetFiles(dir, "reproducer*").Select(Path.GetFileName).Order(StringComparer.Ordinal));

            for (var i = 0; i < distinct.Count; i++)
            {
                var reproducer = Reproducer.Parse(File.ReadAllText(Path.Combine(dir, SoakReproducer.FileNameOf(i))));
                Assert.Equal(distinct[i].FindingsBefore, reproducer.Run.FindingsBefore);
                var replay = Replayer.Replay(Sys, reproducer, ScenarioTarget.Load);
                Assert.True(replay.Ok, replay.Message);
                Assert.Equal(distinct[i].Info.Signature, replay.Run!.Finding!.Signature);
                Assert.Equal(distinct[i].Info.TimeNs, replay.Run.Finding.TimeNs);
            }

            // Without the count of findings to run past, the later one's replay stops at the first finding, short of its
            // decisions: it cannot reproduce.
            var later = Reproducer.Parse(File.ReadAllText(Path.Combine(dir, SoakReproducer.FileNameOf(1))));
            var naive = Replayer.Replay(Sys, later with { Run = later.Run with { FindingsBefore = 0 } }, ScenarioTarget.Load);
            Assert.Contains(naive.Status, new[] { ReplayStatus.DifferentFinding, ReplayStatus.Diverged });

            // The first reproducer stays in exploration's format as it was: no findingsBefore field.
            Assert.DoesNotContain("findingsBefore", File.ReadAllText(Path.Combine(dir, SoakReproducer.FileName)), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_residual_tick_soak_reports_one_root_cause_once_with_its_repeats_and_one_reproducer()
    {
        // The residual 1 Hz tick re-arms itself at each tick stop: every violation's chain starts at the stop that
        // programmed it. One root cause, so one finding counted eleven times, and one reproducer.
        var dir = Directory.CreateTempSubdirectory("soak-repro-").FullName;
        try
        {
            var scenario = BuiltInScenarios.Load("residual-tick");
            var (_, result) = Soak(scenario, 1, new SoakSettings { ForNs = 20_000_000_000, SnapshotEveryNs = 10_000_000_000 }, dir);

            Assert.True(result.Last.Capture.ViolationCount >= 10);
            var only = Assert.Single(result.Last.Distinct!);
            Assert.Equal(result.Last.Capture.ViolationCount, only.Count);
            Assert.Equal("violation ResidualTick on a nohz_full+isolcpus+task_isolation cpu; root: tick stop", only.Info.Signature);
            Assert.Equal(["reproducer.json"], Directory.GetFiles(dir, "reproducer*").Select(Path.GetFileName));
            Assert.Contains($"finding 1 ({only.Count} times, ", SoakFormats.Summary(result.Last), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Reproducers_are_bounded_by_ReproducersKept()
    {
        var dir = Directory.CreateTempSubdirectory("soak-repro-").FullName;
        try
        {
            var scenario = ScenarioLoader.Load(
                "name: nmis\ncpus: 4\ncmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3\nduration: 1s\n"
                + "tasks:\n  - name: dpdk\n    cpus: 3\n    program:\n      - prctl: enable\n      - compute: 100s\n"
                + "noise:\n  - nmi: {cpus: 3, period: 200ms, first: 350ms}\n",
                "nmis.yaml");
            var (_, result) = Soak(scenario, 7, new SoakSettings { ForNs = 3_000_000_000, SnapshotEveryNs = 1_000_000_000, ReproducersKept = 1 }, dir);

            Assert.True(result.Last.Capture.ViolationCount >= 2);
            Assert.Single(result.Last.Distinct!);
            Assert.Equal(["reproducer.json"], Directory.GetFiles(dir, "reproducer*").Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private (SimulatedMachine Machine, SoakResult Result) Soak(Scenario scenario, int seed, SoakSettings settings, string dir)
    {
        var ledger = new SoakLedger(settings);
        var session = ScenarioSession.Start(Sys, scenario, ledger.Observe(ScenarioSession.Options(scenario, new RunSettings { Seed = seed })), m => ledger.Attach(m));
        var m = session.Machine;
        var reproducers = new SoakReproducer(scenario, seed, () => m.Simulation.Decisions);
        return (m, SoakDriver.Run(session, ledger, settings, new Files(reproducers, dir)));
    }

    private sealed class Files(SoakReproducer reproducers, string dir) : ISoakOutput
    {
        public void Write(SoakSnapshot snapshot) => reproducers.Write(snapshot, dir);
    }

    private sealed class Discard : ISoakOutput
    {
        public void Write(SoakSnapshot snapshot)
        {
        }
    }
}
