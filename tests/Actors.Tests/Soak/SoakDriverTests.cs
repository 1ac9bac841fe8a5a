using System.Text.Json;
using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;
using TaskIsolation.Soak;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests.Soak;

/// <summary>
/// The soak driver on a small machine: a housekeeping task making noise on CPU 0 and a polling task isolated on CPU 3
/// without a signal, so the 4.7 residual tick breaks its isolation once a second and the run goes on.
/// </summary>
public sealed class SoakDriverTests : TestKit, IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), $"soak-test-{Guid.NewGuid():N}");

    public SoakDriverTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Fact]
    public void A_controlled_soak_writes_snapshots_that_add_up_to_the_events_of_the_run()
    {
        var settings = new SoakSettings { ForNs = 120_000_000_000, SnapshotEveryNs = 30_000_000_000, ViolationsKept = 10, RecentEvents = 500 };

        // This test checks the snapshots against every event of the run, so the recorder keeps them all.
        var (m, ledger) = Soaked(settings, keepEverything: true);
        List<SoakSnapshot> seen = [];
        var result = SoakDriver.Run(new ScenarioSession(m), ledger, settings, new Both(new SnapshotWriter(_out), seen));

        Assert.Equal(SoakEnd.Completed, result.End);
        Assert.Equal(120_000_000_000, m.Now);
        Assert.Equal([30_000_000_000, 60_000_000_000, 90_000_000_000, 120_000_000_000], seen.Select(s => s.Capture.NowNs));
        Assert.Equal([false, false, false, true], seen.Select(s => s.Final));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_out, "latest", "snapshot.json")));
        var root = json.RootElement;
        var events = m.Recorder.Events;
        Assert.Equal(4, root.GetProperty("sequence").GetInt32());
        Assert.True(root.GetProperty("final").GetBoolean());
        Assert.Equal(events.Count, root.GetProperty("events").GetInt64());
        // The same accounting fed the whole recorded run from outside gives the same figures: nothing lost, nothing twice.
        var reference = new NoiseAccountant(4, m.Options.Timings);
        foreach (var e in events)
        {
            reference.Observe(e);
        }

        var expected = reference.Snapshot(m.Now);
        foreach (var cpu in root.GetProperty("cpus").EnumerateArray())
        {
            var c = cpu.GetProperty("cpu").GetInt32();
            Assert.Equal(expected[c].Irq, cpu.GetProperty("irq").GetInt64());
            Assert.Equal(expected[c].Nmi, cpu.GetProperty("nmi").GetInt64());
            Assert.Equal(expected[c].Thread, cpu.GetProperty("thread").GetInt64());
            Assert.Equal(expected[c].NoiseNs, cpu.GetProperty("noiseNs").GetInt64());
            Assert.Equal(expected[c].RuntimeNs, cpu.GetProperty("runtimeNs").GetInt64());

            var h = cpu.GetProperty("histogram");
            Assert.Equal(cpu.GetProperty("noises").GetInt64(), h.GetProperty("count").GetInt64());
            Assert.Equal(h.GetProperty("count").GetInt64(), h.GetProperty("buckets").EnumerateObject().Sum(b => b.Value.GetInt64()) + h.GetProperty("over").GetInt64());
            // The histogram holds the noises that have ended; the noise figure also counts one still going on (the
            // housekeeping task keeps CPU 0 from the osnoise thread for the whole run).
            Assert.InRange(h.GetProperty("totalNs").GetInt64(), 0, cpu.GetProperty("noiseNs").GetInt64());
            Assert.Equal(expected[c].MaxNoiseNs, cpu.GetProperty("maxNoiseNs").GetInt64());
            Assert.Equal(expected[c].Periods, cpu.GetProperty("periods").GetInt64());
            Assert.Equal(cpu.GetProperty("noiseNs").GetInt64(), root.GetProperty("series").EnumerateArray().Sum(p => p.GetProperty("noiseNs")[c].GetInt64()));
        }

        // Every interrupt CPU 3 took is one IRQ of its noise, whoever was measured then.
        Assert.Equal(events.OfType<InterruptTaken>().Count(t => t.Cpu == 3 && t.Kind != InterruptKind.PageFault), root.GetProperty("cpus")[3].GetProperty("irq").GetInt64());
        Assert.True(root.GetProperty("cpus")[3].GetProperty("irq").GetInt64() >= 119);

        // The residual tick breaks isolation once a second: 119 violations in two minutes, the first ten in full.
        var violations = root.GetProperty("violations");
        Assert.Equal(m.Violations.Count, violations.GetProperty("count").GetInt64());
        Assert.True(m.Violations.Count > 100, $"{m.Violations.Count} violations");
        Assert.Equal(10, violations.GetProperty("kept").GetArrayLength());
        Assert.Equal(m.Violations[0].ChainText, string.Join(" → ", violations.GetProperty("kept")[0].GetProperty("chain").EnumerateArray().Select(l => l.GetProperty("what").GetString())));

        var recent = File.ReadAllLines(Path.Combine(_out, "latest", "recent-events.txt")).Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal(events.TakeLast(500).Select(e => e.ToTraceLine()), recent);
        Assert.Contains("Operating System Noise", File.ReadAllText(Path.Combine(_out, "latest", "noise.txt")), StringComparison.Ordinal);
        var report = RunReportJson.Deserialize(File.ReadAllText(Path.Combine(_out, "latest", "noise.json")));
        Assert.Equal(120_000_000_000, report.SimulatedNs);
        Assert.Equal(expected[3].Irq, report.Cpus[3].Irq);
        Assert.Equal(10, report.Violations.Length);
        Assert.StartsWith("soak ended: the simulated duration was reached", File.ReadAllText(Path.Combine(_out, "latest", "summary.txt")), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_out, "*.tmp"));
    }

    [Fact]
    public void A_stop_request_mid_run_finishes_the_slice_and_leaves_a_complete_final_snapshot()
    {
        var settings = new SoakSettings { ForNs = 3_600_000_000_000, SnapshotEveryNs = 5_000_000_000, SliceNs = 500_000_000 };
        var (m, ledger) = Soaked(settings);
        using var stop = new CancellationTokenSource();
        var result = SoakDriver.Run(new ScenarioSession(m), ledger, settings, new SnapshotWriter(_out), s =>
        {
            if (s.NowNs >= 7_200_000_000)
            {
                stop.Cancel();
            }
        }, stop.Token);

        Assert.Equal(SoakEnd.StopRequested, result.End);
        Assert.Equal(7_500_000_000, m.Now);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_out, "latest", "snapshot.json")));
        Assert.True(json.RootElement.GetProperty("final").GetBoolean());
        Assert.Equal("StopRequested", json.RootElement.GetProperty("end").GetString());
        Assert.Equal(7_500_000_000, json.RootElement.GetProperty("simulatedNs").GetInt64());
        Assert.Equal(2, json.RootElement.GetProperty("sequence").GetInt32());
        Assert.Contains("stopped on request", File.ReadAllText(Path.Combine(_out, "latest", "summary.txt")), StringComparison.Ordinal);
        Assert.Contains("at 7.500000 s simulated", File.ReadAllText(Path.Combine(_out, "latest", "hist.txt")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_machine_keeps_only_the_ring_and_the_findings_while_the_ledger_counts_everything()
    {
        var settings = new SoakSettings { ForNs = 30_000_000_000, SnapshotEveryNs = 10_000_000_000, RecentEvents = 300, ViolationsKept = 5 };
        var (m, ledger) = Soaked(settings);

        var result = SoakDriver.Run(new ScenarioSession(m), ledger, settings, new SnapshotWriter(_out));

        Assert.Equal(300, m.Recorder.Events.Count);
        Assert.Equal(m.Recorder.TotalEvents, ledger.Events);
        Assert.True(ledger.Events > 10_000, $"{ledger.Events} events");
        Assert.Equal(m.Recorder.Events.Select(e => e.ToTraceLine()), result.Last.Capture.Recent.Select(e => e.ToTraceLine()));
        Assert.Equal(29, result.Last.Capture.ViolationCount);
        Assert.Equal(5, result.Last.Capture.Violations.Length);
        // Each kept violation has its whole chain, resolved when it was found: from the tick stop that programmed the
        // residual tick to the tick taken by dpdk, however much of the run the ring has dropped since.
        Assert.All(result.Last.Capture.Violations, v =>
        {
            Assert.StartsWith("tick_stop: success=1 dependency=NONE", v.Chain[0].What, StringComparison.Ordinal);
            Assert.EndsWith("taken in userisolated by dpdk/102", v.Chain[^1].What, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void The_wall_clock_limit_ends_the_soak_between_slices_with_a_final_snapshot()
    {
        var settings = new SoakSettings { ForNs = 3_600_000_000_000, SnapshotEveryNs = 10_000_000_000, SliceNs = 1_000_000_000, WallLimit = TimeSpan.FromSeconds(30) };
        var (m, ledger) = Soaked(settings);
        List<SoakSnapshot> seen = [];

        // A wall clock that moves only when the soak reports progress: ten seconds per slice.
        var clock = new ManualClock();
        var result = SoakDriver.Run(new ScenarioSession(m), ledger, settings, new Both(new SnapshotWriter(_out), seen), _ => clock.Advance(TimeSpan.FromSeconds(10)), wallClock: clock);

        Assert.Equal(SoakEnd.WallLimit, result.End);
        Assert.Equal(3_000_000_000, m.Now);
        Assert.Equal(SoakEnd.WallLimit, seen.Single().End);
        Assert.Equal(TimeSpan.FromSeconds(30), seen.Single().Status.Wall);
        Assert.Contains("the wall-clock limit was reached", File.ReadAllText(Path.Combine(_out, "latest", "summary.txt")), StringComparison.Ordinal);
    }

    public new void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }

        base.Dispose();
    }

    private (SimulatedMachine Machine, SoakLedger Ledger) Soaked(SoakSettings settings, bool keepEverything = false)
    {
        var ledger = new SoakLedger(settings);
        var options = ledger.Observe(Controlled(3));
        var m = Boot(Sys, keepEverything ? options with { KeepEvents = 0 } : options);
        ledger.Attach(m);
        m.Start(new TaskSpec("hk", OnCpu(0), Program(new Loop(-1, [new Compute(9_000_000), new Syscall("write"), new Mmap(4096)]))));
        m.Start(new TaskSpec("dpdk", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, NoSig), new Loop(-1, [new Compute(1_000_000_000)]))));
        return (m, ledger);
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private sealed class Both(ISoakOutput files, List<SoakSnapshot> seen) : ISoakOutput
    {
        public void Write(SoakSnapshot snapshot)
        {
            files.Write(snapshot);
            seen.Add(snapshot);
        }
    }
}
