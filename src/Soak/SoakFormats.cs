using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using TaskIsolation.Machine.Events;
using TaskIsolation.Reports;

namespace TaskIsolation.Soak;

/// <summary>The text and JSON forms of a soak snapshot, in the layouts kernel engineers know (docs/model.md §11).</summary>
public static class SoakFormats
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary><c>d hh:mm:ss</c> of simulated time, as rtla prints its duration.</summary>
    public static string Duration(long ns)
    {
        var s = ns / 1_000_000_000;
        return string.Create(C, $"{s / 86_400,3} {s / 3600 % 24:00}:{s / 60 % 60:00}:{s % 60:00}");
    }

    /// <summary>The noise table of <c>rtla osnoise top</c> (<see cref="ReportText.NoiseTable"/>), every CPU listed (one not measured says so).</summary>
    public static string NoiseTable(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return Header(s) + ReportText.NoiseTable(s.Capture.Cpus.Select(CpuNoiseReport.From), s.Capture.NowNs, allCpus: true);
    }

    /// <summary>
    /// The single-noise histograms in the layout of <c>rtla osnoise hist</c>: a column per CPU measured (rtla has none
    /// for a CPU it does not run on), empty rows left out, as it does.
    /// </summary>
    public static string Histogram(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var measured = s.Capture.Cpus.Where(c => c.Measured).Select(c => c.Cpu).ToList();
        var hs = measured.Select(cpu => s.Capture.Histograms[cpu]).ToList();
        var b = new StringBuilder();
        b.Append(Header(s));
        b.Append("# RTLA osnoise histogram\n");
        b.Append("# Time unit is microseconds (us)\n");
        b.Append(C, $"# Duration: {Duration(s.Capture.NowNs)}\n");
        b.Append("Index ");
        foreach (var cpu in measured)
        {
            b.Append(C, $" {"CPU-" + cpu.ToString("000", C),9}");
        }

        b.Append('\n');
        var entries = hs.Count == 0 ? 0 : hs[0].Buckets;
        for (var us = 0; us < entries; us++)
        {
            if (hs.All(h => h[us] == 0))
            {
                continue;
            }

            b.Append(C, $"{us,-6}");
            foreach (var h in hs)
            {
                b.Append(C, $" {h[us],9}");
            }

            b.Append('\n');
        }

        Row(b, "over:", hs.Select(h => h.Overflow));
        Row(b, "count:", hs.Select(h => h.Count));
        Row(b, "min:", hs.Select(h => h.MinNs / 1000));
        Row(b, "avg:", hs.Select(h => h.Count == 0 ? 0 : h.TotalNs / h.Count / 1000));
        Row(b, "max:", hs.Select(h => h.MaxNs / 1000));
        return b.ToString();
    }

    /// <summary>Every violation and liveness failure kept, each with its causal chain, root first.</summary>
    public static string Violations(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var cap = s.Capture;
        var b = new StringBuilder();
        b.Append(Header(s));
        b.Append(C, $"# violations: {cap.ViolationCount} ({cap.Violations.Length} kept in full)\n");
        b.Append(C, $"# liveness failures: {cap.LivenessCount} ({cap.Liveness.Length} kept in full)\n");
        if (cap.NoProgress is { } stalled)
        {
            b.Append(C, $"# {stalled.What}\n");
        }

        foreach (var k in cap.Violations)
        {
            b.Append(ReportText.Violation(RunReportCollector.ToReport((ViolationDetected)k.Finding)));
        }

        foreach (var k in cap.Liveness)
        {
            var l = (LivenessViolated)k.Finding;
            b.Append(ReportText.Liveness(RunReportCollector.ToReport(l)));
            foreach (var link in k.Chain)
            {
                b.Append(C, $"    {ReportText.Stamp(link.TimeNs)} cpu {link.Cpu,-3} {link.What}\n");
            }
        }

        return b.ToString();
    }

    /// <summary>The last events kept by the ring, one trace line each.</summary>
    public static string Recent(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var b = new StringBuilder();
        b.Append(Header(s));
        b.Append(C, $"# the last {s.Capture.Recent.Length} of {s.Capture.Events} events\n");
        foreach (var e in s.Capture.Recent)
        {
            b.Append(e.ToTraceLine()).Append('\n');
        }

        return b.ToString();
    }

    /// <summary>A few lines for a person: how long, how fast, how noisy, what was found.</summary>
    public static string Summary(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var st = s.Status;
        var b = new StringBuilder();
        b.Append(C, $"soak {(s.Final ? "ended" : "running")}{(s.End is { } e ? ": " + EndText(e) : string.Empty)}\n");
        b.Append(C, $"simulated {Seconds(st.NowNs)} s of {Seconds(st.ForNs)} s in {st.Wall.TotalSeconds:F1} s wall ({st.SimPerWall:F2} sim s per wall s)\n");
        b.Append(C, $"events {s.Capture.Events} ({st.EventsPerSecond:F0}/s), deliveries {s.Deliveries}, decisions {s.Decisions}\n");
        b.Append(C, $"violations {s.Capture.ViolationCount}, liveness failures {s.Capture.LivenessCount}");
        if (s.Capture.MonitorFailureCount > 0)
        {
            // Only when a monitor failed: soaks without one read as before.
            b.Append(C, $", monitor failures {s.Capture.MonitorFailureCount}");
        }

        b.Append(!s.Final ? "\n" : Found(s) ? " (found: exit 1)\n" : " (nothing found: exit 0)\n");
        if (s.Capture.NoProgress is { } stalled)
        {
            b.Append(stalled.What).Append('\n');
        }

        var distinct = s.Distinct ?? (s.First is { } first ? [first] : []);
        for (var i = 0; i < distinct.Count; i++)
        {
            var f = distinct[i];
            b.Append(C, $"finding {i + 1} ({f.Count} time{(f.Count == 1 ? string.Empty : "s")}, first at {f.Info.TimeNs} ns on cpu {f.Info.Cpu}): {f.Info.Signature}\n");
        }

        if (s.Capture.Crossing is { } x)
        {
            b.Append(C, $"stopped at a single noise of {x.Ns} ns on cpu {x.Cpu}, from {x.StartNs} ns to {x.EndNs} ns\n");
        }

        foreach (var c in s.Capture.Cpus)
        {
            b.Append(c.Measured
                ? string.Create(C, $"cpu {c.Cpu}: runtime {c.RuntimeNs} ns, noise {c.NoiseNs} ns ({c.Share.AvailableText}% CPU available), max noise {c.MaxNoiseNs} ns, max single {c.MaxSingleNs} ns, {c.Noises} noises\n")
                : string.Create(C, $"cpu {c.Cpu}: {NoiseShare.NotMeasured}\n"));
        }

        return b.ToString();
    }

    /// <summary>
    /// Whether the soak found something: a violation, a liveness failure, a monitor failure, simulated time stopped (no
    /// progress), or a single noise above <c>--stop-us</c>. <c>taskisol soak</c> then exits 1, as
    /// <c>taskisol explore</c> does when it finds one.
    /// </summary>
    public static bool Found(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return s.Capture.ViolationCount + s.Capture.LivenessCount + s.Capture.MonitorFailureCount > 0 || s.Capture.NoProgress is not null || s.Capture.Crossing is not null;
    }

    /// <summary>Why a soak ended, in words.</summary>
    public static string EndText(SoakEnd end) => end switch
    {
        SoakEnd.Completed => "the simulated duration was reached",
        SoakEnd.WallLimit => "the wall-clock limit was reached",
        SoakEnd.StopRequested => "stopped on request",
        SoakEnd.NoiseAbove => "a single noise was above --stop-us",
        SoakEnd.NoProgress => "simulated time stopped (no progress at one instant)",
        _ => "nothing was left to run",
    };

    /// <summary>
    /// The snapshot as one JSON object: run state, per-CPU noise and histograms, event counts, findings with chains,
    /// and the noise-over-time series. What the text files say, for programs.
    /// </summary>
    public static string Json(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var cap = s.Capture;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteNumber("sequence", s.Sequence);
            w.WriteBoolean("final", s.Final);
            if (s.End is { } end)
            {
                w.WriteString("end", end.ToString());
            }

            w.WriteNumber("simulatedNs", cap.NowNs);
            w.WriteNumber("forNs", s.Status.ForNs);
            w.WriteNumber("wallMs", (long)s.Status.Wall.TotalMilliseconds);
            w.WriteNumber("events", cap.Events);
            w.WriteNumber("deliveries", s.Deliveries);
            w.WriteNumber("decisions", s.Decisions);
            w.WriteStartObject("eventsByType");
            foreach (var (type, n) in cap.EventsByType)
            {
                w.WriteNumber(type, n);
            }

            w.WriteEndObject();
            w.WriteStartArray("cpus");
            for (var i = 0; i < cap.Cpus.Length; i++)
            {
                var c = cap.Cpus[i];
                w.WriteStartObject();
                w.WriteNumber("cpu", c.Cpu);
                w.WriteBoolean("measured", c.Measured);
                w.WriteNumber("periods", c.Periods);
                w.WriteNumber("runtimeNs", c.RuntimeNs);
                w.WriteNumber("noiseNs", c.NoiseNs);
                if (c.Share.AvailablePercent is { } available)
                {
                    w.WriteNumber("cpuAvailablePercent", available);
                }
                else
                {
                    w.WriteNull("cpuAvailablePercent");
                }

                w.WriteNumber("maxNoiseNs", c.MaxNoiseNs);
                w.WriteNumber("maxSingleNs", c.MaxSingleNs);
                w.WriteNumber("hw", c.Hw);
                w.WriteNumber("nmi", c.Nmi);
                w.WriteNumber("irq", c.Irq);
                w.WriteNumber("softirq", c.Softirq);
                w.WriteNumber("thread", c.Thread);
                w.WriteNumber("noises", c.Noises);
                var h = cap.Histograms[i];
                w.WriteStartObject("histogram");
                w.WriteNumber("bucketUs", 1);
                w.WriteNumber("entries", h.Buckets);
                w.WriteNumber("count", h.Count);
                w.WriteNumber("over", h.Overflow);
                w.WriteNumber("minNs", h.MinNs);
                w.WriteNumber("maxNs", h.MaxNs);
                w.WriteNumber("totalNs", h.TotalNs);
                w.WriteStartObject("buckets");
                foreach (var (us, n) in h.NonEmpty())
                {
                    w.WriteNumber(us.ToString(C), n);
                }

                w.WriteEndObject();
                w.WriteEndObject();
                if (!cap.Latency.IsDefaultOrEmpty)
                {
                    WriteLatency(w, cap.Latency[i]);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (cap.Crossing is { } x)
            {
                w.WriteStartObject("stoppedAt");
                w.WriteNumber("cpu", x.Cpu);
                w.WriteNumber("startNs", x.StartNs);
                w.WriteNumber("endNs", x.EndNs);
                w.WriteNumber("noiseNs", x.Ns);
                w.WriteEndObject();
            }

            WriteFindings(w, "violations", cap.ViolationCount, cap.Violations);
            WriteFindings(w, "liveness", cap.LivenessCount, cap.Liveness);
            if (cap.NoProgress is { } stalled)
            {
                // Only when time stopped, so every other snapshot reads as before.
                w.WriteStartObject("noProgress");
                w.WriteNumber("timeNs", stalled.Time);
                w.WriteNumber("cpu", stalled.Cpu);
                w.WriteNumber("deliveries", stalled.Deliveries);
                w.WriteString("what", stalled.What);
                w.WriteStartArray("loop");
                foreach (var a in stalled.Loop)
                {
                    w.WriteStartObject();
                    w.WriteString("actor", a.Actor);
                    w.WriteStartArray("messages");
                    foreach (var m in a.Messages)
                    {
                        w.WriteStringValue(m);
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteStartArray("series");
            foreach (var p in cap.Series)
            {
                w.WriteStartObject();
                w.WriteNumber("startNs", p.StartNs);
                w.WriteNumber("endNs", p.EndNs);
                w.WriteStartArray("noiseNs");
                foreach (var n in p.NoiseNs)
                {
                    w.WriteNumberValue(n);
                }

                w.WriteEndArray();
                w.WriteStartArray("runtimeNs");
                foreach (var n in p.RuntimeNs)
                {
                    w.WriteNumberValue(n);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>
    /// <c>latency</c>: the percentiles of the CPU's single noises and the HdrHistogram itself, compressed (V2) and in
    /// base64, as HdrHistogram's tools read it; <see cref="LatencyHistogram.Decode"/> gives it back.
    /// </summary>
    private static void WriteLatency(Utf8JsonWriter w, LatencyHistogram h)
    {
        w.WriteStartObject("latency");
        w.WriteNumber("count", h.Count);
        foreach (var p in LatencyHistogram.ReportedPercentiles)
        {
            w.WriteNumber("p" + p.ToString(C) + "Ns", h.AtPercentile(p));
        }

        w.WriteNumber("maxNs", h.MaxNs);
        w.WriteString("hdrHistogram", Convert.ToBase64String(h.Encode()));
        w.WriteEndObject();
    }

    private static void WriteFindings(Utf8JsonWriter w, string name, long count, IEnumerable<KeptFinding> kept)
    {
        w.WriteStartObject(name);
        w.WriteNumber("count", count);
        w.WriteStartArray("kept");
        foreach (var k in kept)
        {
            w.WriteStartObject();
            w.WriteNumber("timeNs", k.Finding.Time);
            w.WriteNumber("cpu", k.Finding.Cpu);
            w.WriteString("what", k.Finding.What);
            w.WriteNumber("decisions", k.Decisions);
            w.WriteNumber("deliveries", k.Deliveries);
            w.WriteStartArray("chain");
            foreach (var l in k.Chain)
            {
                w.WriteStartObject();
                w.WriteNumber("timeNs", l.TimeNs);
                w.WriteNumber("cpu", l.Cpu);
                w.WriteString("what", l.What);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string Header(SoakSnapshot s) =>
        string.Create(C, $"# taskisol soak snapshot {s.Sequence}{(s.Final ? " (final)" : string.Empty)} at {Seconds(s.Capture.NowNs)} s simulated\n");

    private static string Seconds(long ns) => (ns / 1e9).ToString("0.000000", C);

    private static void Row(StringBuilder b, string label, IEnumerable<long> values)
    {
        b.Append(C, $"{label,-6}");
        foreach (var v in values)
        {
            b.Append(C, $" {v,9}");
        }

        b.Append('\n');
    }
}
