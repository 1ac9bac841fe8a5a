using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>Noise accounting (rtla osnoise top) over known runs.</summary>
public sealed class NoiseAccountantTests() : TestKit(SimulationConfig.Hocon)
{
    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Isolated_cpus_noise_equals_the_gaps_from_interrupt_to_return_to_user(ExecutionMode mode)
    {
        var m = ReportRuns.Shootdown(Sys, mode);
        var (noise, _) = ReportRuns.Account(m);

        // An independent oracle over the whole event list: on an isolated task's CPU each gap opens at an interrupt
        // taken in isolated user mode and closes at its ReturnedToUser or its exit.
        foreach (var cpu in new[] { 2 })
        {
            var events = m.Recorder.Events.Where(e => e.Cpu == cpu).ToList();
            var gaps = new List<long>();
            long? open = null;
            foreach (var e in events)
            {
                switch (e)
                {
                    case InterruptTaken { State: CpuState.UserIsolated } taken when open is null:
                        open = taken.Time;
                        break;
                    case ReturnedToUser or TaskExited when open is { } start:
                        gaps.Add(e.Time - start);
                        open = null;
                        break;
                }
            }

            var c = noise.Cpus[cpu];
            Assert.NotEmpty(gaps);
            Assert.Equal(gaps.Count, c.Noises);
            Assert.Equal(gaps.Sum(), c.NoiseNs);
            Assert.Equal(gaps.Max(), c.MaxSingleNs);
            Assert.InRange(c.CpuAvailablePercent, 99.0, 100.0);
        }

        // CPU 2's NOSIG task: runtime from its first return to user, isolated, to the end of the run.
        var first = m.Recorder.Events.OfType<ReturnedToUser>().First(r => r.Cpu == 2 && r.Isolated);
        Assert.Equal(m.Now - first.Time, noise.Cpus[2].RuntimeNs);

        // The residual tick (one a second) reached CPU 2 twice in 2.5 s.
        Assert.Equal(2, noise.Cpus[2].Irq);

        // CPU 3: the sibling ran in the task's place once, before it moved: that noise runs from the tick to the switch
        // back plus the switch and the exit path. The shootdown killed the task: its last noise runs from the IPI to the kill.
        var t = m.Options.Timings;
        var back = m.Recorder.Events.OfType<ContextSwitched>().First(s => s.Cpu == 3 && s.Prev?.Comm == "sibling");
        var tick = m.Recorder.Events.OfType<InterruptTaken>().Last(i => i.Cpu == 3 && i.Time < back.Time);
        var killed = m.Recorder.Events.OfType<TaskExited>().Single(x => x.Task.Comm == "iso");
        var ipi = m.Recorder.Events.OfType<InterruptTaken>().Single(i => i.Cpu == 3 && i.Kind == InterruptKind.CallFunctionIpi);
        Assert.Equal(Signal.SIGKILL, killed.Signal);
        Assert.Equal(1, noise.Cpus[3].Thread);
        Assert.Equal(
            Math.Max(back.Time + t.ContextSwitchNs + t.ReturnReadyNs + t.ReturnToUserNs - tick.Time, killed.Time - ipi.Time),
            noise.Cpus[3].MaxSingleNs);
        Assert.Equal(1, noise.Histogram(3)[(int)((killed.Time - ipi.Time) / 1000)]);
        Assert.True(noise.Cpus[3].RuntimeNs < killed.Time);
        Assert.Equal(0, noise.Cpus[1].RuntimeNs);
    }

    [Fact]
    public void Counts_split_by_class_and_add_up_to_the_interrupts_taken_while_measured()
    {
        var m = ReportRuns.Shootdown(Sys, residual: ResidualTick.Offloaded);
        var (noise, _) = ReportRuns.Account(m);
        var v = Assert.Single(m.Violations);
        Assert.Equal(InterruptKind.CallFunctionIpi, v.Kind);

        foreach (var c in noise.Cpus)
        {
            Assert.Equal(0, c.Hw);
            Assert.Equal(0, c.Softirq);
            Assert.Equal(0, c.Nmi);
            var taken = m.Recorder.Events.OfType<InterruptTaken>().Count(t => t.Cpu == c.Cpu);
            Assert.InRange(c.Irq, 0, taken);
            Assert.Equal(c.NoiseNs, noise.Histogram(c.Cpu).TotalNs);
            Assert.Equal(c.Noises, noise.Histogram(c.Cpu).Count);
            Assert.Equal(c.MaxSingleNs, noise.Histogram(c.Cpu).MaxNs);
        }

        // CPU 0 ran a housekeeping task sharing the CPU with the sibling: the other thread is its noise.
        Assert.True(noise.Cpus[0].Thread > 0);
        Assert.True(noise.Cpus[0].Irq > 0);

        // The TLB shootdown is CPU 3's last noise: from the IPI to the kill.
        var taken3 = m.Recorder.Events.OfType<InterruptTaken>().Single(t => t.Cpu == 3 && t.Kind == InterruptKind.CallFunctionIpi);
        var exit = m.Recorder.Events.OfType<TaskExited>().Single(x => x.Task.Comm == "iso");
        Assert.True(noise.Cpus[3].MaxSingleNs >= exit.Time - taken3.Time);
    }

    [Fact]
    public void Snapshots_do_not_change_the_accounting_and_live_feeding_equals_replay()
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
        Assert.True(snapshots.Count > 2);

        // Runtime grows monotonically from snapshot to snapshot.
        for (var i = 1; i < snapshots.Count; i++)
        {
            for (var cpu = 0; cpu < 4; cpu++)
            {
                Assert.True(snapshots[i][cpu].RuntimeNs >= snapshots[i - 1][cpu].RuntimeNs);
                Assert.True(snapshots[i][cpu].NoiseNs >= snapshots[i - 1][cpu].NoiseNs);
            }
        }
    }

    [Fact]
    public void A_task_without_isolation_is_charged_each_tick_handler()
    {
        // CPU 0 is not nohz_full: its tick runs every millisecond. Nothing else runs there, so each tick taken in user
        // mode is one noise of exactly the tick handler's cost, and the runtime is the compute step.
        var m = Machines.Boot(Sys, Machines.Controlled(2));
        m.Start(new TaskSpec("spin", Machines.OnCpu(0), Machines.Program(new Compute(100_000_000), new Exit(0))));
        m.RunFor(200_000_000);
        var (noise, _) = ReportRuns.Account(m);

        var ticks = m.Recorder.Events.OfType<InterruptTaken>().Count(t => t.Cpu == 0 && t.State == CpuState.User);
        Assert.InRange(ticks, 99, 101);
        var c = noise.Cpus[0];
        Assert.Equal(ticks, c.Irq);
        Assert.Equal(ticks, c.Noises);
        Assert.Equal(ticks * m.Options.Timings.TickHandlerNs, c.NoiseNs);
        Assert.Equal(m.Options.Timings.TickHandlerNs, c.MaxSingleNs);
        Assert.Equal(ticks, noise.Histogram(0)[1]);

        // Runtime: from the compute step's start to the exit call, which includes the noise.
        var start = m.Recorder.Events.OfType<OperationStarted>().Single(o => o.Operation.StartsWith("compute", StringComparison.Ordinal));
        var exit = m.Recorder.Events.OfType<SyscallEntered>().Single(s => s.Name == "exit_group");
        Assert.Equal(exit.Time - start.Time, c.RuntimeNs);
        Assert.Equal(100_000_000 + c.NoiseNs, c.RuntimeNs);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("4us", "7us")]
    [InlineData("900ns", "2.5us")]
    public void A_timing_changed_in_the_scenario_changes_the_noise_the_cpu_pays_and_the_report_measures_alike(string? tick, string? irq)
    {
        // CPU 0 is not nohz_full: a spinning task there takes the 1 kHz tick and a 100 Hz device interrupt in user
        // mode. Each is one noise of its handler's cost, and the task's runtime (from its trace) is its compute plus
        // exactly that noise: the CPU was charged what the report measured, under the scenario's timings.
        var timings = tick is null ? string.Empty : $"model:\n  timings:\n    tick_handler: {tick}\n    device_irq_handler: {irq}\n";
        var scenario = ScenarioLoader.Load(
            "name: timings\ncpus: 2\ncmdline: nohz_full=1\n" + timings + "duration: 200ms\n"
            + "tasks:\n  - name: spin\n    cpus: 0\n    program:\n      - compute: 100ms\n      - exit: 0\n"
            + "noise:\n  - irq: {number: 24, name: eth0, cpus: 0, period: 10ms, first: 5500us}\n",
            "timings.yaml");
        var run = ScenarioRunner.Run(Sys, scenario);
        var m = run.Machine;
        var t = m.Options.Timings;
        Assert.Equal(tick ?? "1.5us", Durations.Format(t.TickHandlerNs));
        Assert.Equal(irq ?? "3us", Durations.Format(t.DeviceIrqHandlerNs));

        var report = RunOutputs.Report(new FinishedRun(new RunInfo("timings", 1, "controlled", m.Now, 0), m.Recorder.Events, m.Booted.NrCpus, t, m.Booted.Log, []));
        var c = report.Cpus.Single(n => n.Cpu == 0);
        var taken = m.Recorder.Events.OfType<InterruptTaken>().Where(i => i.Cpu == 0 && i.State == CpuState.User).ToList();
        var ticks = taken.Count(i => i.Kind == InterruptKind.Tick);
        var devices = taken.Count(i => i.Kind == InterruptKind.DeviceIrq);
        Assert.InRange(ticks, 95, 101);
        Assert.InRange(devices, 9, 10);
        Assert.Equal(ticks + devices, c.Noises);
        Assert.Equal((ticks * t.TickHandlerNs) + (devices * t.DeviceIrqHandlerNs), c.NoiseNs);
        Assert.Equal(Math.Max(t.TickHandlerNs, t.DeviceIrqHandlerNs), c.MaxSingleNs);

        var start = m.Recorder.Events.OfType<OperationStarted>().Single(o => o.Cpu == 0 && o.Operation.StartsWith("compute", StringComparison.Ordinal));
        var exit = m.Recorder.Events.OfType<SyscallEntered>().Single(x => x.Cpu == 0 && x.Name == "exit_group");
        Assert.Equal(100_000_000 + c.NoiseNs, exit.Time - start.Time);
        Assert.Equal(c.RuntimeNs, exit.Time - start.Time);
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
    public void The_table_lists_measured_cpus_in_aligned_columns()
    {
        var m = ReportRuns.Shootdown(Sys);
        var (noise, _) = ReportRuns.Account(m);
        var text = ReportText.NoiseTable(noise.Cpus.Select(CpuNoiseReport.From), m.Now);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal("duration:   0 00:00:02.500000 | time is in ns", lines[1]);
        Assert.StartsWith("CPU", lines[2], StringComparison.Ordinal);
        var rows = lines.Skip(3).ToList();
        Assert.Equal(["0", "2", "3"], rows.Select(r => r[..3].Trim()));
        Assert.All(rows, r => Assert.Equal(lines[2].Length, r.Length));
        Assert.Contains(" 99.9", rows[1], StringComparison.Ordinal);
    }
}
