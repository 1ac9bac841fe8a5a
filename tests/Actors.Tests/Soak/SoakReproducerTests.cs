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
        var dir = Directory.CreateTempSubdirectory("soak-repro-").FullName;
        try
        {
            var (m, result) = Soak(scenario, seed, new SoakSettings { ForNs = 4_000_000_000, SnapshotEveryNs = 1_000_000_000, SliceNs = 250_000_000 }, dir);
            var first = Assert.IsType<FirstFinding>(result.Last.First);
            var reproducer = Reproducer.Parse(File.ReadAllText(Path.Combine(dir, SoakReproducer.FileName)));

            // The soak went on past it: the reproducer holds only the decisions up to the delivery that found it, and,
            // the finding coming after the first snapshot, only those since that snapshot.
            Assert.True(m.Simulation.Log.Total > first.Decisions);
            Assert.True(reproducer.Run.DecisionsFrom > 0);
            Assert.Equal(first.Decisions - reproducer.Run.DecisionsFrom, reproducer.DecisionList.Count);
            var replay = Replayer.Replay(Sys, reproducer, ScenarioTarget.Load);
            Assert.True(replay.Ok, replay.Message);
            Assert.Equal(first.Info.TimeNs, replay.Run!.Finding!.TimeNs);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A poller isolated on CPU 3 (SIGKILL mode; an NMI signals nothing, so it polls on) that NMIs first reach at 3.35 s,
    /// and a logger on each of the housekeeping CPUs 0 and 1, whose same-jiffy ticks give the strategy choices all along.
    /// </summary>
    private static Scenario LateNmi() => ScenarioLoader.Load(
        """
        name: late-nmi
        cpus: 4
        cmdline: nohz_full=2-3 isolcpus=2-3 task_isolation=2-3
        model:
          residual_tick: offloaded
        duration: 1s
        tasks:
          - name: dpdk
            cpus: 3
            program:
              - prctl: enable
              - compute: 100s
        noise:
          - nmi: {cpus: 3, period: 200ms, first: 3350ms}
          - periodic: {name: logger, cpus: 0, every: 10ms, do: {syscall: write}}
          - periodic: {name: logger1, cpus: 1, every: 10ms, do: {syscall: write}}
        """,
        "late-nmi.yaml");

    [Fact]
    public void A_finding_made_after_several_snapshots_replays_from_a_reproducer_that_lists_only_the_last_interval()
    {
        var scenario = LateNmi();
        var dir = Directory.CreateTempSubdirectory("soak-repro-").FullName;
        try
        {
            var settings = new SoakSettings { ForNs = 5_000_000_000, SnapshotEveryNs = 1_000_000_000 };
            var totals = new List<long>();
            var (m, result) = Soak(scenario, 3, settings, dir, s => totals.Add(s.Decisions));
            var first = Assert.IsType<FirstFinding>(result.Last.First);
            Assert.Equal(3_350_000_000, first.Info.TimeNs);
            var reproducer = Reproducer.Parse(File.ReadAllText(Path.Combine(dir, SoakReproducer.FileName)));

            // Made at the snapshot of 4 s, it lists the decisions since the one of 3 s; the 3 s before are the seed's.
            Assert.Equal(totals[2], reproducer.Run.DecisionsFrom);
            Assert.True(reproducer.Run.DecisionsFrom > 0);
            Assert.NotNull(reproducer.Run.PrefixDigest);
            Assert.Equal(first.Decisions - totals[2], reproducer.DecisionList.Count);
            Assert.True(reproducer.DecisionList.Count < first.Decisions);

            var replay = Replayer.Replay(Sys, reproducer, ScenarioTarget.Load);
            Assert.True(replay.Ok, replay.Message);
            Assert.Equal(first.Info.Signature, replay.Run!.Finding!.Signature);
            Assert.Equal(first.Info.Cpu, replay.Run.Finding.Cpu);
            Assert.Equal(first.Info.TimeNs, replay.Run.Finding.TimeNs);
            Assert.Equal(first.Decisions, replay.Run.Machine.Simulation.Log.Total);

            // A prefix that the seed does not regenerate (another seed here) is a divergence named at the prefix's end,
            // never a quiet wrong answer.
            var other = reproducer with { Run = reproducer.Run with { Seed = 4 } };
            var diverged = Replayer.Replay(Sys, other, ScenarioTarget.Load);
            Assert.Equal(ReplayStatus.Diverged, diverged.Status);
            Assert.Equal(reproducer.Run.DecisionsFrom - 1, diverged.Divergence!.Index);
            Assert.Contains($"{reproducer.Run.DecisionsFrom} decisions regenerated from seed 4 with digest {reproducer.Run.PrefixDigest}", diverged.Message, StringComparison.Ordinal);

            // The replay command reads it and says where its listed decisions start.
            Assert.Contains($"\"decisionsFrom\": {reproducer.Run.DecisionsFrom}", reproducer.ToJson(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_decision_log_of_a_controlled_soak_keeps_one_snapshot_interval_however_many_intervals_pass()
    {
        var scenario = LateNmi();
        var settings = new SoakSettings { ForNs = 6_000_000_000, SnapshotEveryNs = 1_000_000_000 };
        var ledger = new SoakLedger(settings);
        var session = ScenarioSession.Start(Sys, scenario, ledger.Observe(ScenarioSession.Options(scenario, new RunSettings { Seed = 2 })), m => ledger.Attach(m));
        var log = session.Machine.Simulation.Log;
        var seen = new List<(long Start, int Kept, long Total)>();
        var result = SoakDriver.Run(session, ledger, settings, new Probe(_ => seen.Add((log.Start, log.Count, log.Total))));

        Assert.Equal(SoakEnd.Completed, result.End);
        Assert.Equal(6, seen.Count);
        for (var i = 0; i < seen.Count; i++)
        {
            // When snapshot i is written the log holds exactly the decisions since snapshot i-1, and after it none.
            var since = i == 0 ? 0 : seen[i - 1].Total;
            Assert.Equal(since, seen[i].Start);
            Assert.Equal(seen[i].Total - since, seen[i].Kept);
            Assert.True(seen[i].Kept > 0, $"interval {i} took no decision");
        }

        Assert.Equal(seen[^1].Total, log.Start);
        Assert.Empty(log);
        Assert.Equal(seen[^1].Total, result.Last.Decisions);
        Assert.True(seen.Max(s => s.Kept) * 3 < log.Total, $"kept at most {seen.Max(s => s.Kept)} of {log.Total}");
    }

    [Fact]
    public void Two_controlled_soaks_of_one_seed_take_the_same_decisions_and_snapshots_though_the_log_forgets()
    {
        List<(long Decisions, long Deliveries, long Events, string Digest, string Recent)> Run()
        {
            var scenario = LateNmi();
            var settings = new SoakSettings { ForNs = 4_000_000_000, SnapshotEveryNs = 1_000_000_000, RecentEvents = 200 };
            var ledger = new SoakLedger(settings);
            var session = ScenarioSession.Start(Sys, scenario, ledger.Observe(ScenarioSession.Options(scenario, new RunSettings { Seed = 9 })), m => ledger.Attach(m));
            var log = session.Machine.Simulation.Log;
            var seen = new List<(long, long, long, string, string)>();
            SoakDriver.Run(session, ledger, settings, new Probe(s => seen.Add((s.Decisions, s.Deliveries, s.Capture.Events, log.StartDigest.ToString(), string.Join('\n', s.Capture.Recent.Select(e => e.ToTraceLine()))))));
            return seen;
        }

        var a = Run();
        var b = Run();
        Assert.Equal(4, a.Count);
        Assert.Equal(a, b);
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

    private (SimulatedMachine Machine, SoakResult Result) Soak(Scenario scenario, int seed, SoakSettings settings, string dir, Action<SoakSnapshot>? seen = null)
    {
        var ledger = new SoakLedger(settings);
        var session = ScenarioSession.Start(Sys, scenario, ledger.Observe(ScenarioSession.Options(scenario, new RunSettings { Seed = seed })), m => ledger.Attach(m));
        var m = session.Machine;
        var reproducers = new SoakReproducer(scenario, seed, () => m.Simulation.Log);
        return (m, SoakDriver.Run(session, ledger, settings, new Files(reproducers, dir, seen)));
    }

    private sealed class Files(SoakReproducer reproducers, string dir, Action<SoakSnapshot>? seen) : ISoakOutput
    {
        public void Write(SoakSnapshot snapshot)
        {
            reproducers.Write(snapshot, dir);
            seen?.Invoke(snapshot);
        }
    }

    private sealed class Probe(Action<SoakSnapshot> seen) : ISoakOutput
    {
        public void Write(SoakSnapshot snapshot) => seen(snapshot);
    }
}
