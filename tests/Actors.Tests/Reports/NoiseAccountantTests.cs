using System.Text.Json;
using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>
/// Noise accounting as <c>rtla osnoise</c> measures it (docs/reports.md): a measuring workload on every selected CPU,
/// each interference attributed to its kind by the events' typed fields, Max Noise per period, and the one definition
/// of the percentages. Hand-made event streams pin each rule; real runs check the counts against the trace.
/// </summary>
public sealed class NoiseAccountantTests() : TestKit(SimulationConfig.Hocon)
{
    private static readonly ModelTimings T = new();
    private static readonly TaskRef Iso = new(101, "iso");
    private static readonly TaskRef Other = new(102, "logger");
    private static readonly TaskRef Kworker = new(0, "kworker/1:1");

    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    [Fact]
    public void Device_interrupts_on_an_idle_cpu_are_each_one_irq_noise_of_their_handler_cost()
    {
        // The osnoise thread has the idle CPU; each device interrupt takes it away for its handler.
        var f = new Feed(2);
        for (var i = 1; i <= 5; i++)
        {
            f.Irq(i * 100_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);
        }

        var c = f.Finish(1_000_000)[1];
        Assert.True(c.Measured);
        Assert.Equal((5L, 0L, 0L, 5L), (c.Irq, c.Nmi, c.Thread, c.Noises));
        Assert.Equal(5 * T.DeviceIrqHandlerNs, c.NoiseNs);
        Assert.Equal(T.DeviceIrqHandlerNs, c.MaxSingleNs);
        Assert.Equal(1_000_000, c.RuntimeNs);
        Assert.Equal("98.50000", c.Share.AvailableText);
        Assert.Equal("1.50000", c.Share.NoiseText);

        // CPU 0 had nothing happen: the osnoise thread had all of it, and that is a measurement, not a default.
        var quiet = f.Accountant.Cpus[0];
        Assert.Equal((true, 1_000_000L, 0L, "100.00000"), (quiet.Measured, quiet.RuntimeNs, quiet.NoiseNs, quiet.Share.AvailableText));
    }

    [Fact]
    public void An_nmi_inside_a_handler_counts_as_an_nmi_and_lengthens_the_same_single_noise()
    {
        var f = new Feed(2);
        f.Irq(100_000, 1, TimerExpiry.Tick, CpuState.Idle);
        f.Irq(100_500, 1, NonMaskableInterrupt.Instance, CpuState.Kernel);
        var c = f.Finish(1_000_000)[1];
        Assert.Equal((1L, 1L, 1L), (c.Irq, c.Nmi, c.Noises));
        Assert.Equal(T.TickHandlerNs + T.NmiHandlerNs, c.NoiseNs);
    }

    [Fact]
    public void A_kworker_or_another_task_running_is_thread_noise_until_the_workload_has_the_cpu_again()
    {
        var f = new Feed(2);

        // vmstat_update in a kworker, from idle and back: the item, then the switch back the CPU pays.
        f.Irq(100_000, 1, new WorkWakeup(WorkFunction.VmstatUpdate), CpuState.Idle);
        f.Switch(100_800, 1, null, Kworker);
        f.Add(new WorkExecuted(f.Id, 106_800, 1, 0, WorkFunction.VmstatUpdate));
        f.Switch(106_800, 1, Kworker, null);

        // Another task wakes, runs 20 us and sleeps again: the osnoise thread sees it as a thread.
        f.Irq(500_000, 1, TimerExpiry.Nanosleep, CpuState.Idle);
        f.Switch(501_500, 1, null, Other);
        f.Switch(521_500, 1, Other, null);

        var c = f.Finish(1_000_000)[1];
        Assert.Equal((2L, 0L, 2L, 2L), (c.Irq, c.Nmi, c.Thread, c.Noises));
        var kworker = 106_800 + T.ContextSwitchNs - 100_000;
        var task = 521_500 - 500_000;
        Assert.Equal(kworker + task, c.NoiseNs);
        Assert.Equal(Math.Max(kworker, task), c.MaxSingleNs);
        Assert.Equal(1, f.Accountant.Histogram(1)[(int)(kworker / 1000)]);
        Assert.Equal(1, f.Accountant.Histogram(1)[(int)(task / 1000)]);
    }

    [Fact]
    public void A_task_that_enables_isolation_becomes_the_workload_and_only_what_interrupts_it_is_noise()
    {
        var f = new Feed(4);

        // It arrives on the idle CPU (a thread to the osnoise thread) until its prctl(ENABLE) returns 0.
        f.Switch(0, 3, null, Iso);
        f.Add(new SyscallEntered(f.Id, 2_000, 3, 0, Iso, 157, "prctl"));
        f.Add(new PrctlReturned(f.Id, 3_000, 3, 0, Iso, PrctlOptions.SetTaskIsolation, IsolationFlags.EnabledNoSig.Word, 0));

        // Its own wait in the return loop is its time; a tick taken there costs only its handler.
        f.Irq(1_000_000, 3, TimerExpiry.Tick, CpuState.ReturnEnter, Iso);
        f.Add(new ReturnedToUser(f.Id, 1_010_000, 3, 0, Iso, true, 1_007_000));

        // In user mode isolated: the residual tick takes it out until it is back in user mode.
        f.Irq(2_000_000, 3, TimerExpiry.ResidualTick, CpuState.UserIsolated, Iso);
        f.Add(new ReturnedToUser(f.Id, 2_003_650, 3, 0, Iso, true, 2_150));

        // Its own system call is its own business, NOSIG or not.
        f.Add(new SyscallEntered(f.Id, 3_000_000, 3, 0, Iso, 1, "write"));
        f.Add(new ReturnedToUser(f.Id, 3_050_000, 3, 0, Iso, true, 50_000));

        // An NMI in user mode: back in user mode at the NMI's iret.
        f.Irq(4_000_000, 3, NonMaskableInterrupt.Instance, CpuState.UserIsolated, Iso);
        f.Add(new ReturnedToUser(f.Id, 4_000_000 + T.NmiHandlerNs, 3, 0, Iso, true, 0));

        var c = f.Finish(5_000_000)[3];
        Assert.Equal((2L, 1L, 1L, 4L), (c.Irq, c.Nmi, c.Thread, c.Noises));
        Assert.Equal(3_000 + T.TickHandlerNs + 3_650 + T.NmiHandlerNs, c.NoiseNs);
        Assert.Equal(3_650, c.MaxSingleNs);
    }

    [Fact]
    public void The_workload_killed_after_an_interrupt_leaves_the_cpu_to_the_osnoise_thread_at_its_exit()
    {
        var f = new Feed(4);
        f.Switch(0, 3, null, Iso);
        f.Add(new ReturnToUserBegan(f.Id, 1_000, 3, 0, Iso));
        f.Add(new ReturnedToUser(f.Id, 5_000, 3, 0, Iso, true, 4_000));
        f.Irq(100_000, 3, TlbShootdown.Instance, CpuState.UserIsolated, Iso);
        f.Add(new TaskExited(f.Id, 110_000, 3, 0, Iso, 0, Signal.SIGKILL));
        f.Switch(110_000, 3, Iso, null);
        f.Irq(200_000, 3, new DeviceInterrupt(24, "eth0"), CpuState.Idle);

        var c = f.Finish(300_000)[3];
        Assert.Equal(1_000 + 10_000 + T.DeviceIrqHandlerNs, c.NoiseNs);
        Assert.Equal(10_000, c.MaxSingleNs);
        Assert.Equal((2L, 1L, 3L), (c.Irq, c.Thread, c.Noises));
    }

    [Fact]
    public void Max_noise_is_the_most_noise_within_one_period_and_a_noise_counts_in_the_period_it_ends_in()
    {
        var f = new Feed(2, new OsnoiseSettings { PeriodNs = 1_000_000 });

        // Period 0: three interrupts; period 1: one, plus a thread that began in period 0; period 2: two.
        f.Irq(100_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);
        f.Irq(200_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);
        f.Irq(300_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);
        f.Switch(990_000, 1, null, Other);
        f.Switch(1_010_000, 1, Other, null);
        f.Irq(1_500_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);
        f.Irq(2_100_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);
        f.Irq(2_200_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);

        var c = f.Finish(2_500_000)[1];
        Assert.Equal(3, c.Periods);
        Assert.Equal(20_000 + T.DeviceIrqHandlerNs, c.MaxNoiseNs);
        Assert.Equal(20_000, c.MaxSingleNs);
        Assert.Equal((6 * T.DeviceIrqHandlerNs) + 20_000, c.NoiseNs);

        // A snapshot in the middle of period 1 counts the noise still going on in it.
        var g = new Feed(2, new OsnoiseSettings { PeriodNs = 1_000_000 });
        g.Irq(100_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);
        g.Switch(1_100_000, 1, null, Other);
        var mid = g.Accountant.Snapshot(1_150_000)[1];
        Assert.Equal((2L, 50_000L, 50_000L, 50_000L + T.DeviceIrqHandlerNs, 1L), (mid.Periods, mid.MaxNoiseNs, mid.MaxSingleNs, mid.NoiseNs, mid.Noises));
    }

    [Fact]
    public void A_cpu_not_selected_or_still_warming_up_is_not_measured_and_says_so_everywhere()
    {
        var f = new Feed(4, new OsnoiseSettings { Cpus = CpuMask.Of(4, 1, 3), WarmUpNs = 1_000_000 });
        f.Irq(500_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);
        f.Irq(1_500_000, 1, new DeviceInterrupt(24, "eth0"), CpuState.Idle);
        f.Irq(1_500_000, 0, new DeviceInterrupt(25, "nvme0"), CpuState.Idle);
        var cpus = f.Finish(3_000_000);

        // CPU 0 is not in the list: no figures at all, and no percentage.
        Assert.Equal(new CpuNoise(0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), cpus[0]);
        Assert.Null(cpus[0].Share.AvailableUnits);
        Assert.Equal(NoiseShare.NotMeasured, cpus[0].Share.AvailableText);

        // CPU 1 is measured after the warm-up only: 2 ms, one interrupt.
        Assert.Equal((true, 2_000_000L, 1L, T.DeviceIrqHandlerNs, 1L), (cpus[1].Measured, cpus[1].RuntimeNs, cpus[1].Irq, cpus[1].NoiseNs, cpus[1].Periods));

        var reports = cpus.Select(CpuNoiseReport.From).ToList();
        var table = ReportText.NoiseTable(reports, 3_000_000, allCpus: true);
        Assert.Contains("\n  0 not measured\n", table, StringComparison.Ordinal);
        Assert.Contains("\n  2 not measured\n", table, StringComparison.Ordinal);
        Assert.DoesNotContain("not measured", ReportText.NoiseTable(reports, 3_000_000), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(reports[0], RunReportJson.Options));
        Assert.False(json.RootElement.GetProperty("measured").GetBoolean());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("cpu_available_percent").ValueKind);

        // A run that ends inside the warm-up measured nothing anywhere.
        var early = new Feed(2, new OsnoiseSettings { WarmUpNs = 1_000_000 });
        Assert.All(early.Finish(900_000), c => Assert.False(c.Measured));
    }

    [Theory]
    [InlineData(3, 1, 6_666_666L, "66.66666", "33.33334")]
    [InlineData(1_000_000_000, 0, 10_000_000L, "100.00000", "0.00000")]
    [InlineData(1_000_000_000, 1, 9_999_999L, "99.99999", "0.00001")]
    [InlineData(10_000_000_000, 1_230, 9_999_998L, "99.99998", "0.00002")]
    [InlineData(1_000, 1_000, 0L, "0.00000", "100.00000")]
    public void The_share_is_rtla_percentage_truncated_to_five_decimals_and_noise_is_its_complement(long runtime, long noise, long units, string available, string noisePct)
    {
        var s = new NoiseShare(runtime, noise);
        Assert.Equal(units, s.AvailableUnits);
        Assert.Equal(NoiseShare.UnitsPerPercent * 100, s.AvailableUnits + s.NoiseUnits);
        Assert.Equal(available, s.AvailableText);
        Assert.Equal(noisePct, s.NoiseText);
        Assert.Equal(decimal.Parse(available, System.Globalization.CultureInfo.InvariantCulture), s.AvailablePercent);

        // The JSON number is the same five decimals.
        var report = new CpuNoiseReport(0, true, 1, runtime, noise, s.AvailablePercent, noise, noise, 0, 0, 0, 0, 0, 1);
        Assert.Contains($"\"cpu_available_percent\": {available},", JsonSerializer.Serialize(report, RunReportJson.Options), StringComparison.Ordinal);
    }

    [Fact]
    public void Nothing_measured_has_no_percentage()
    {
        var s = new NoiseShare(0, 0);
        Assert.False(s.Measured);
        Assert.Null(s.AvailablePercent);
        Assert.Null(s.NoisePercent);
        Assert.Equal(NoiseShare.NotMeasured, s.NoiseText);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void On_a_real_run_every_interrupt_on_a_measured_cpu_is_counted_by_its_kind_and_every_other_thread_as_a_thread(ExecutionMode mode)
    {
        var run = ScenarioRunner.Run(Sys, BuiltInScenarios.Load("default"), new RunSettings { Mode = mode, DurationNs = 2_000_000_000 });
        var m = run.Machine;
        var report = RunOutputs.Report(run.Finished());
        var events = m.Recorder.Events;
        foreach (var c in report.Cpus)
        {
            var taken = events.OfType<InterruptTaken>().Where(i => i.Cpu == c.Cpu && i.Kind != InterruptKind.PageFault).ToList();
            Assert.Equal(taken.Count(i => i.Kind == InterruptKind.Nmi), c.Nmi);
            Assert.Equal(taken.Count(i => i.Kind != InterruptKind.Nmi), c.Irq);
            Assert.Equal(m.Now, c.RuntimeNs);
            Assert.Equal(2, c.Periods);
            Assert.InRange(c.NoiseNs, c.MaxNoiseNs, c.RuntimeNs);
            Assert.InRange(c.MaxSingleNs, 0, c.MaxNoiseNs);
        }

        // CPU 0 takes eth0's 1000 interrupts a second, all of them counted though no task of its own is measured, and
        // its logger and hk-mm tasks run there as threads.
        var cpu0 = report.Cpus[0];
        Assert.InRange(events.OfType<InterruptTaken>().Count(i => i.Cpu == 0 && i.Kind == InterruptKind.DeviceIrq), 1_999, 2_001);
        Assert.True(cpu0.Irq >= 1_999);
        var threads = events.OfType<ContextSwitched>().Count(s => s.Cpu == 0 && s.Next is not null);
        Assert.Equal(threads, cpu0.Thread);
        var handlers0 = events.OfType<InterruptTaken>().Where(i => i.Cpu == 0 && i.Kind != InterruptKind.PageFault).Sum(i => m.Options.Timings.HandlerNs(i.Kind));
        Assert.True(cpu0.NoiseNs >= handlers0, $"noise {cpu0.NoiseNs} ns covers every handler ({handlers0} ns)");

        // CPU 3: the poller arrives (a thread to the osnoise thread) until its prctl enabling isolation returns; from
        // then it is the workload, and only the tick its prctl's wait takes (in the kernel, its own time) is noise.
        var cpu3 = report.Cpus[3];
        var arrival = events.OfType<ContextSwitched>().Single(s => s.Cpu == 3 && s.Next?.Comm == "dpdk");
        var enabled = events.OfType<PrctlReturned>().Single(p => p.Task.Comm == "dpdk");
        var taken3 = events.OfType<InterruptTaken>().Where(i => i.Cpu == 3).ToList();
        Assert.NotEmpty(taken3);
        Assert.All(taken3, i => Assert.True(i.Time > enabled.Time && i.State is not (CpuState.User or CpuState.UserIsolated)));
        Assert.Equal((1L, (long)taken3.Count), (cpu3.Thread, cpu3.Irq));
        Assert.Equal(enabled.Time - arrival.Time + taken3.Sum(i => m.Options.Timings.HandlerNs(i.Kind)), cpu3.NoiseNs);
    }

    [Fact]
    public void Snapshots_do_not_change_the_figures_and_live_feeding_equals_replay()
    {
        var m = ReportRuns.Shootdown(Sys);
        var events = m.Recorder.Events;
        var live = new NoiseAccountant(4, m.Options.Timings);
        var snapshots = new List<IReadOnlyList<CpuNoise>>();
        for (var i = 0; i < events.Count; i++)
        {
            live.Observe(events[i]);
            if (i % 500 == 0)
            {
                snapshots.Add(live.Snapshot(events[i].Time));
            }
        }

        live.Finish(m.Now);
        var (replayed, _) = ReportRuns.Account(m);
        Assert.Equal(replayed.Cpus, live.Cpus);
        for (var cpu = 0; cpu < 4; cpu++)
        {
            Assert.Equal(replayed.Histogram(cpu).NonEmpty(), live.Histogram(cpu).NonEmpty());
        }

        Assert.True(snapshots.Count > 2);

        // Runtime and noise grow from snapshot to snapshot (a noise still going on counts up to then).
        for (var i = 1; i < snapshots.Count; i++)
        {
            for (var cpu = 0; cpu < 4; cpu++)
            {
                Assert.True(snapshots[i][cpu].RuntimeNs >= snapshots[i - 1][cpu].RuntimeNs);
                Assert.True(snapshots[i][cpu].NoiseNs >= snapshots[i - 1][cpu].NoiseNs);
                Assert.True(snapshots[i][cpu].MaxNoiseNs >= snapshots[i - 1][cpu].MaxNoiseNs);
            }
        }

        // At the end the histogram holds every noise.
        foreach (var c in live.Cpus)
        {
            Assert.Equal((c.NoiseNs, c.Noises, c.MaxSingleNs), (live.Histogram(c.Cpu).TotalNs, live.Histogram(c.Cpu).Count, live.Histogram(c.Cpu).MaxNs));
            Assert.Equal(0, c.Hw);
            Assert.Equal(0, c.Softirq);
        }
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("4us", "7us")]
    [InlineData("900ns", "2.5us")]
    public void A_timing_changed_in_the_scenario_changes_the_noise_the_cpu_pays_and_the_report_measures_alike(string? nmi, string? irq)
    {
        // CPU 1 is idle: a 100 Hz device interrupt and a 10 Hz NMI are its only noise, each one noise of its handler's
        // cost under the scenario's timings, which are the costs the CPU was charged.
        var timings = nmi is null ? string.Empty : $"model:\n  timings:\n    nmi_handler: {nmi}\n    device_irq_handler: {irq}\n";
        var scenario = ScenarioLoader.Load(
            "name: timings\ncpus: 2\ncmdline: nohz_full=1\n" + timings + "duration: 200ms\n"
            + "noise:\n  - irq: {number: 24, name: eth0, cpus: 1, period: 10ms, first: 5500us}\n"
            + "  - nmi: {cpus: 1, period: 100ms, first: 50ms}\n",
            "timings.yaml");
        var run = ScenarioRunner.Run(Sys, scenario);
        var m = run.Machine;
        var t = m.Options.Timings;
        Assert.Equal(nmi ?? "1us", Durations.Format(t.NmiHandlerNs));
        Assert.Equal(irq ?? "3us", Durations.Format(t.DeviceIrqHandlerNs));

        var c = RunOutputs.Report(run.Finished()).Cpus.Single(n => n.Cpu == 1);
        var taken = m.Recorder.Events.OfType<InterruptTaken>().Where(i => i.Cpu == 1).ToList();
        var devices = taken.Count(i => i.Kind == InterruptKind.DeviceIrq);
        var nmis = taken.Count(i => i.Kind == InterruptKind.Nmi);
        Assert.Equal((20, 2), (devices, nmis));
        Assert.Equal((devices, nmis, devices + nmis), ((int)c.Irq, (int)c.Nmi, (int)c.Noises));
        Assert.Equal((devices * t.DeviceIrqHandlerNs) + (nmis * t.NmiHandlerNs), c.NoiseNs);
        Assert.Equal(Math.Max(t.NmiHandlerNs, t.DeviceIrqHandlerNs), c.MaxSingleNs);
    }

    [Fact]
    public void Histogram_buckets_are_one_microsecond_with_overflow_and_merge()
    {
        var a = new NoiseHistogram(4);
        a.Add(0);
        a.Add(999);
        a.Add(1_000);
        a.Add(3_999);
        a.Add(4_000);
        a.Add(1_000_000);
        Assert.Equal(2, a[0]);
        Assert.Equal(1, a[1]);
        Assert.Equal(0, a[2]);
        Assert.Equal(1, a[3]);
        Assert.Equal(2, a.Overflow);
        Assert.Equal(6, a.Count);
        Assert.Equal(0, a.MinNs);
        Assert.Equal(1_000_000, a.MaxNs);

        var b = new NoiseHistogram(4);
        b.Add(2_500);
        var merged = a.Clone();
        merged.Merge(b);
        Assert.Equal(1, merged[2]);
        Assert.Equal(7, merged.Count);
        Assert.Equal(a.TotalNs + 2_500, merged.TotalNs);
        Assert.Equal(6, a.Count);
        Assert.Throws<ArgumentException>(() => merged.Merge(new NoiseHistogram(5)));
        Assert.Equal([(0, 2L), (1, 1L), (2, 1L), (3, 1L)], merged.NonEmpty());
    }

    [Fact]
    public void The_table_has_rtlas_columns_aligned()
    {
        var m = ReportRuns.Shootdown(Sys);
        var (noise, _) = ReportRuns.Account(m);
        var text = ReportText.NoiseTable(noise.Cpus.Select(CpuNoiseReport.From), m.Now);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal("duration:   0 00:00:02.500000 | time is in ns", lines[1]);
        Assert.Matches("^CPU Period +Runtime +Noise +% CPU Aval +Max Noise +Max Single +HW +NMI +IRQ +Softirq +Thread$", lines[2]);
        var rows = lines.Skip(3).ToList();
        Assert.Equal(["0", "1", "2", "3"], rows.Select(r => r[..3].Trim()));
        Assert.All(rows, r => Assert.Equal(lines[2].Length, r.Length));
        Assert.All(rows, r => Assert.Equal("#3", r[4..11].Trim()));
        Assert.Contains(" 99.9", rows[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Settings_that_do_not_fit_the_machine_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new NoiseAccountant(4, T, new OsnoiseSettings { Cpus = CpuMask.Of(8, 1) }));
        Assert.Throws<ArgumentException>(() => new NoiseAccountant(4, T, new OsnoiseSettings { Cpus = CpuMask.Empty(4) }));
        Assert.Throws<ArgumentException>(() => new NoiseAccountant(4, T, new OsnoiseSettings { PeriodNs = 0 }));
        Assert.Throws<ArgumentException>(() => new NoiseAccountant(4, T, new OsnoiseSettings { WarmUpNs = -1 }));
    }

    /// <summary>A hand-made event stream fed to an accountant.</summary>
    private sealed class Feed(int cpus, OsnoiseSettings? settings = null)
    {
        private long _id;

        public NoiseAccountant Accountant { get; } = new(cpus, T, settings);

        public long Id => ++_id;

        public void Add(MachineEvent e) => Accountant.Observe(e);

        public void Irq(long time, int cpu, InterruptSource source, CpuState state, TaskRef? current = null) =>
            Add(new InterruptTaken(Id, time, cpu, 0, source, state, current, false));

        public void Switch(long time, int cpu, TaskRef? prev, TaskRef? next) => Add(new ContextSwitched(Id, time, cpu, 0, prev, next));

        public IReadOnlyList<CpuNoise> Finish(long now)
        {
            Accountant.Finish(now);
            return Accountant.Cpus;
        }
    }
}
