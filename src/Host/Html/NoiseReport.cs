using System.Collections.Immutable;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Soak;

namespace TaskIsolation.Host.Html;

/// <summary>One CPU as the HTML report shows it.</summary>
/// <param name="Noise">Its figures (the noise table's row).</param>
/// <param name="Histogram">Its single noises as rtla osnoise hist counts them: exact min, mean and max.</param>
/// <param name="Latency">Its single noises for percentiles and the log-scaled histogram.</param>
/// <param name="BoundNs">The scenario's bound on its longest single noise (<c>max_noise: at_most</c>), if it declares one.</param>
internal sealed record ReportCpu(CpuNoise Noise, NoiseHistogram Histogram, LatencyHistogram Latency, long? BoundNs);

/// <summary>A slice of the violation window's timeline.</summary>
/// <param name="Cpu">The CPU.</param>
/// <param name="Lane">0 task, 1 kernel (system calls, the exit to user), 2 interrupt handlers.</param>
/// <param name="StartNs">Start.</param>
/// <param name="EndNs">End.</param>
/// <param name="Label">What ran.</param>
internal sealed record TimelineSlice(int Cpu, int Lane, long StartNs, long EndNs, string Label);

/// <summary>The simulated time around a finding, CPU by CPU.</summary>
/// <param name="FromNs">Window start.</param>
/// <param name="ToNs">Window end.</param>
/// <param name="Cpus">The CPUs shown: the finding's and those of its chain.</param>
/// <param name="Slices">What ran on them.</param>
internal sealed record Timeline(long FromNs, long ToNs, ImmutableArray<int> Cpus, ImmutableArray<TimelineSlice> Slices);

/// <summary>A violation, liveness failure, double report or noise above <c>--stop-us</c>, as a marker and a section.</summary>
/// <param name="Kind">violation, liveness, double report, stop.</param>
/// <param name="TimeNs">When.</param>
/// <param name="Cpu">Where.</param>
/// <param name="Title">One line.</param>
/// <param name="Chain">Its causal chain, root first.</param>
/// <param name="Window">The timeline around it, when the events are at hand.</param>
internal sealed record ReportFinding(string Kind, long TimeNs, int Cpu, string Title, ImmutableArray<ChainLink> Chain, Timeline? Window);

/// <summary>Everything the page shows: one run (<c>run</c>, <c>replay</c>) or one soak.</summary>
/// <param name="Heading">The page's heading.</param>
/// <param name="Summary">A few lines of text for a person.</param>
/// <param name="Cpus">Every CPU of the machine.</param>
/// <param name="Series">Noise over time, one point per interval.</param>
/// <param name="Findings">The findings, in time order.</param>
/// <param name="NoiseTable">The rtla osnoise top table.</param>
/// <param name="EndNs">Simulated time reached.</param>
/// <param name="StartNs">Where measurement starts (the warm-up's end).</param>
internal sealed record NoiseReport(string Heading, string Summary, ImmutableArray<ReportCpu> Cpus, ImmutableArray<SeriesPoint> Series, ImmutableArray<ReportFinding> Findings, string NoiseTable, long EndNs, long StartNs);

/// <summary>Builds the <see cref="NoiseReport"/> of a run, a replay or a soak from typed events and figures only.</summary>
internal static class NoiseReports
{
    /// <summary>Intervals of the noise-over-time chart of a run.</summary>
    public const int RunIntervals = 100;

    /// <summary>How far before a finding its timeline reaches at most.</summary>
    public const long WindowBeforeNs = 200_000;

    /// <summary>How far after a finding its timeline reaches.</summary>
    public const long WindowAfterNs = 20_000;

    /// <summary>The report of one finished run (<c>run --html</c>, <c>replay --html</c>), measured as <paramref name="run"/>'s noise table is.</summary>
    public static NoiseReport Of(FinishedRun run, Scenario? scenario, string heading, string summary, SingleNoise? stoppedAt = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var noise = new NoiseAccountant(run.NrCpus, run.Timings, run.Osnoise, latency: true);
        var series = new NoiseSeries(RunIntervals * 2);
        var end = run.Info.SimulatedNs;
        var step = Math.Max(1, (end - run.Osnoise.WarmUpNs) / RunIntervals);
        var next = run.Osnoise.WarmUpNs + step;
        foreach (var e in run.Events)
        {
            while (e.Time > next && next < end)
            {
                series.Close(next, noise.Snapshot(next));
                next += step;
            }

            noise.Observe(e);
        }

        while (next < end)
        {
            series.Close(next, noise.Snapshot(next));
            next += step;
        }

        noise.Finish(end);
        var cpus = noise.Snapshot(end);
        series.Close(end, cpus);
        var points = series.Points.Where(p => p.EndNs > run.Osnoise.WarmUpNs).ToImmutableArray();
        var findings = Findings(run.Events, run.Events, run.NrCpus, run.Timings, stoppedAt);
        return new NoiseReport(
            heading,
            summary,
            [.. cpus.Select(c => new ReportCpu(c, noise.Histogram(c.Cpu), noise.Latency(c.Cpu), Bound(scenario, c.Cpu)))],
            points,
            findings,
            ReportText.NoiseTable(cpus.Select(CpuNoiseReport.From), end, allCpus: true),
            end,
            run.Osnoise.WarmUpNs);
    }

    /// <summary>The report of a soak's snapshot: its series, histograms and kept findings; a timeline where the ring still holds the events.</summary>
    public static NoiseReport Of(SoakSnapshot s, Scenario scenario, int nrCpus, ModelTimings timings)
    {
        ArgumentNullException.ThrowIfNull(s);
        var cap = s.Capture;
        var kept = cap.Violations.Select(k => k.Finding).Concat(cap.Liveness.Select(k => k.Finding)).OrderBy(f => f.Time).ToList();
        var chains = cap.Violations.Concat(cap.Liveness).ToDictionary(k => k.Finding.Id, k => k.Chain);
        var findings = Findings(kept, cap.Recent, nrCpus, timings, cap.Crossing, chains);
        var latency = cap.Latency.IsDefaultOrEmpty ? [.. cap.Cpus.Select(_ => new LatencyHistogram())] : cap.Latency;
        return new NoiseReport(
            $"Soak of {scenario.Name}",
            SoakFormats.Summary(s),
            [.. cap.Cpus.Select(c => new ReportCpu(c, cap.Histograms[c.Cpu], latency[c.Cpu], Bound(scenario, c.Cpu)))],
            [.. cap.Series.Where(p => p.RuntimeNs.Any(r => r > 0))],
            findings,
            SoakFormats.NoiseTable(s),
            cap.NowNs,
            scenario.Osnoise.WarmUpNs);
    }

    /// <summary>The tightest <c>max_noise: at_most</c> of <paramref name="scenario"/> that covers <paramref name="cpu"/>, if any.</summary>
    public static long? Bound(Scenario? scenario, int cpu)
    {
        if (scenario is null)
        {
            return null;
        }

        long? bound = null;
        foreach (var m in Flatten(scenario.Expectations).OfType<MaxNoise>())
        {
            if (m.Range.AtMostNs is { } at && (m.Cpus is null || (cpu < m.Cpus.NBits && m.Cpus.Test(cpu))))
            {
                bound = bound is { } b ? Math.Min(b, at) : at;
            }
        }

        return bound;
    }

    private static IEnumerable<Expectation> Flatten(IEnumerable<Expectation> list) =>
        list.SelectMany(e => e is OneOf o ? o.Outcomes.SelectMany(x => Flatten(x.Expectations)) : [e]);

    private static ImmutableArray<ReportFinding> Findings(
        IEnumerable<MachineEvent> findings,
        IReadOnlyList<MachineEvent> events,
        int nrCpus,
        ModelTimings timings,
        SingleNoise? stoppedAt,
        IReadOnlyDictionary<long, ImmutableArray<ChainLink>>? chains = null)
    {
        var list = new List<ReportFinding>();
        foreach (var f in findings)
        {
            ReportFinding? r = f switch
            {
                ViolationDetected v => new("violation", v.Time, v.Cpu, $"{v.Source} reached {v.Task} in user mode ({ScenarioNames.KindName(v.Kind)})", v.Chain, null),
                LivenessViolated l => new("liveness", l.Time, l.Cpu, ReportText.Liveness(RunReportCollector.ToReport(l)).Trim(), chains?.GetValueOrDefault(l.Id) ?? [], null),
                DoubleReport d => new("double report", d.Time, d.Cpu, $"{d.Task}'s loss of isolation reported twice, by cpu {d.FirstReportCpu} and cpu {d.SecondReportCpu}", d.Chain, null),
                _ => null,
            };
            if (r is not null)
            {
                list.Add(r);
            }
        }

        if (stoppedAt is { } x)
        {
            list.Add(new ReportFinding("stop", x.EndNs, x.Cpu, $"single noise of {DurationText.Short(x.Ns)} on cpu {x.Cpu} above --stop-us: the run stopped here", [], null));
        }

        list.Sort((a, b) => a.TimeNs.CompareTo(b.TimeNs));
        return [.. list.Select(f => f with { Window = Window(f, events, nrCpus, timings) })];
    }

    /// <summary>
    /// The timeline around <paramref name="f"/>: from its chain's root (at most <see cref="WindowBeforeNs"/> before it)
    /// to <see cref="WindowAfterNs"/> after, on its CPU and its chain's; null when <paramref name="events"/> (a soak's
    /// ring) no longer reach back to its start.
    /// </summary>
    private static Timeline? Window(ReportFinding f, IReadOnlyList<MachineEvent> events, int nrCpus, ModelTimings timings)
    {
        var root = f.Chain.IsDefaultOrEmpty ? f.TimeNs : Math.Min(f.Chain.Min(l => l.TimeNs), f.TimeNs);
        var from = Math.Max(root - (WindowBeforeNs / 10), f.TimeNs - WindowBeforeNs);
        if (f.Kind == "stop")
        {
            from = Math.Max(0, from - WindowBeforeNs);
        }

        from = Math.Max(0, from);
        var to = f.TimeNs + WindowAfterNs;
        if (events.Count == 0 || events[0].Time > from)
        {
            return null;
        }

        var cpus = f.Chain.IsDefaultOrEmpty ? [f.Cpu] : f.Chain.Select(l => l.Cpu).Append(f.Cpu).Where(c => c >= 0 && c < nrCpus).Distinct().Order().ToImmutableArray();
        var slices = new List<TimelineSlice>();
        var task = new (long Since, string Label)?[nrCpus];
        var kernel = new (long Since, string Label)?[nrCpus];
        var irqs = new Stack<(long Since, string Label, InterruptKind Kind)>[nrCpus];
        for (var i = 0; i < nrCpus; i++)
        {
            irqs[i] = new();
        }

        void Close(int cpu, int lane, (long Since, string Label)? open, long at)
        {
            if (open is { } o && at > from && o.Since < to && cpus.Contains(cpu))
            {
                slices.Add(new TimelineSlice(cpu, lane, Math.Max(o.Since, from), Math.Min(at, to), o.Label));
            }
        }

        foreach (var e in events)
        {
            if (e.Time > to)
            {
                break;
            }

            if ((uint)e.Cpu >= (uint)nrCpus)
            {
                continue;
            }

            var c = e.Cpu;
            switch (e)
            {
                case ContextSwitched sw:
                    Close(c, 0, task[c], sw.Time);
                    task[c] = sw.Next is { } n ? (sw.Time, n.Pid == 0 ? $"kworker/{c}" : n.ToString()) : null;
                    break;
                case SyscallEntered s:
                    Close(c, 1, kernel[c], s.Time);
                    kernel[c] = (s.Time, "sys_" + s.Name);
                    break;
                case SyscallExited x:
                    Close(c, 1, kernel[c], x.Time);
                    kernel[c] = null;
                    break;
                case ReturnToUserBegan b:
                    Close(c, 1, kernel[c], b.Time);
                    kernel[c] = (b.Time, "exit to user");
                    break;
                case ReturnedToUser r:
                    Close(c, 1, kernel[c], r.Time);
                    kernel[c] = null;
                    break;
                case InterruptTaken i:
                    irqs[c].Push((i.Time, i.Source.Text, i.Kind));
                    break;
                case HandlerReturned h when irqs[c].Count > 0:
                    var handler = irqs[c].Pop();
                    Close(c, 2, (handler.Since, handler.Label), h.Time);
                    break;
            }
        }

        for (var c = 0; c < nrCpus; c++)
        {
            Close(c, 0, task[c], to);
            Close(c, 1, kernel[c], to);
            while (irqs[c].Count > 0)
            {
                var open = irqs[c].Pop();
                Close(c, 2, (open.Since, open.Label), Math.Min(to, open.Since + timings.HandlerNs(open.Kind)));
            }
        }

        return new Timeline(from, to, cpus, [.. slices]);
    }
}
