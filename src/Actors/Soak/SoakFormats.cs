using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace TaskIsolation.Actors.Soak;

/// <summary>The text and JSON forms of a soak snapshot, in the layouts kernel engineers know (MODEL.md §11).</summary>
public static class SoakFormats
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary><c>d hh:mm:ss</c> of simulated time, as rtla prints its duration.</summary>
    public static string Duration(long ns)
    {
        var s = ns / 1_000_000_000;
        return string.Create(C, $"{s / 86_400,3} {s / 3600 % 24:00}:{s / 60 % 60:00}:{s % 60:00}");
    }

    /// <summary>The noise table in the layout of <c>rtla osnoise top</c>, times in microseconds.</summary>
    public static string NoiseTable(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var b = new StringBuilder();
        b.Append(Header(s));
        b.Append("                                          Operating System Noise\n");
        b.Append(C, $"duration: {Duration(s.Capture.NowNs)} | time is in us\n");
        b.Append("CPU Period       Runtime        Noise  % CPU Aval   Max Noise   Max Single          HW          NMI          IRQ      Softirq       Thread\n");
        foreach (var c in s.Capture.Cpus)
        {
            var runtime = s.Capture.NowNs;
            var aval = runtime > 0 ? 100.0 * (runtime - c.NoiseNs) / runtime : 100.0;
            b.Append(C, $"{c.Cpu,3} #{runtime / NoiseAccount.PeriodNs,-6} {runtime / 1000,12} {c.NoiseNs / 1000,12} {aval,11:F5} {c.MaxPeriodNoiseNs / 1000,11} {c.MaxSingleNs / 1000,12}");
            foreach (var k in Enum.GetValues<NoiseClass>())
            {
                b.Append(C, $" {c.Count(k),12}");
            }

            b.Append('\n');
        }

        return b.ToString();
    }

    /// <summary>The single-noise histograms in the layout of <c>rtla osnoise hist</c> (empty rows left out, as it does).</summary>
    public static string Histogram(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var cpus = s.Capture.Cpus;
        var b = new StringBuilder();
        b.Append(Header(s));
        b.Append("# RTLA osnoise histogram\n");
        b.Append("# Time unit is microseconds (us)\n");
        b.Append(C, $"# Duration: {Duration(s.Capture.NowNs)}\n");
        b.Append("Index");
        foreach (var c in cpus)
        {
            b.Append(C, $"   CPU-{c.Cpu:000}");
        }

        b.Append('\n');
        var entries = cpus.IsEmpty ? 0 : cpus[0].Histogram.Entries;
        for (var us = 0; us < entries; us++)
        {
            if (cpus.All(c => c.Histogram[us] == 0))
            {
                continue;
            }

            b.Append(C, $"{us,-5}");
            foreach (var c in cpus)
            {
                b.Append(C, $" {c.Histogram[us],9}");
            }

            b.Append('\n');
        }

        Row(b, "over:", cpus.Select(c => c.Histogram.Over));
        Row(b, "count:", cpus.Select(c => c.Histogram.Count));
        Row(b, "min:", cpus.Select(c => c.Histogram.MinNs / 1000));
        Row(b, "avg:", cpus.Select(c => c.Histogram.Count == 0 ? 0 : c.Histogram.SumNs / c.Histogram.Count / 1000));
        Row(b, "max:", cpus.Select(c => c.Histogram.MaxNs / 1000));
        return b.ToString();
    }

    /// <summary>Every violation and liveness failure kept, each with its causal chain, root first.</summary>
    public static string Violations(SoakSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var cap = s.Capture;
        var b = new StringBuilder();
        b.Append(Header(s));
        b.Append(C, $"violations: {cap.ViolationCount} ({cap.Violations.Length} kept in full)\n");
        b.Append(C, $"liveness failures: {cap.LivenessCount} ({cap.Liveness.Length} kept in full)\n");
        foreach (var (title, list) in new[] { ("violation", cap.Violations), ("liveness", cap.Liveness) })
        {
            var n = 0;
            foreach (var k in list)
            {
                n++;
                b.Append(C, $"\n{title} {n} at {Seconds(k.Finding.Time)} cpu {k.Finding.Cpu}: {k.Finding.What}\n");
                foreach (var l in k.Chain)
                {
                    b.Append(C, $"  [{Seconds(l.TimeNs)}] cpu {l.Cpu}: {l.What}\n");
                }
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
        b.Append(C, $"# the last {s.Capture.Recent.Length} of {s.Capture.RecentAdded} events\n");
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
        b.Append(C, $"violations {s.Capture.ViolationCount}, liveness failures {s.Capture.LivenessCount}\n");
        foreach (var c in s.Capture.Cpus)
        {
            var pct = s.Capture.NowNs > 0 ? 100.0 * c.NoiseNs / s.Capture.NowNs : 0;
            b.Append(C, $"cpu {c.Cpu}: noise {c.NoiseNs / 1000} us ({pct:F5}%), max single {c.MaxSingleNs / 1000} us, {c.Histogram.Count} noises\n");
        }

        return b.ToString();
    }

    /// <summary>Why a soak ended, in words.</summary>
    public static string EndText(SoakEnd end) => end switch
    {
        SoakEnd.Completed => "the simulated duration was reached",
        SoakEnd.WallLimit => "the wall-clock limit was reached",
        SoakEnd.StopRequested => "stopped on request",
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
            foreach (var c in cap.Cpus)
            {
                w.WriteStartObject();
                w.WriteNumber("cpu", c.Cpu);
                w.WriteNumber("runtimeNs", cap.NowNs);
                w.WriteNumber("noiseNs", c.NoiseNs);
                w.WriteNumber("maxNoiseNs", c.MaxPeriodNoiseNs);
                w.WriteNumber("maxSingleNs", c.MaxSingleNs);
                foreach (var k in Enum.GetValues<NoiseClass>())
                {
                    w.WriteNumber(k.ToString().ToLowerInvariant(), c.Count(k));
                }

                var h = c.Histogram;
                w.WriteStartObject("histogram");
                w.WriteNumber("bucketUs", 1);
                w.WriteNumber("entries", h.Entries);
                w.WriteNumber("count", h.Count);
                w.WriteNumber("over", h.Over);
                w.WriteNumber("minNs", h.MinNs);
                w.WriteNumber("maxNs", h.MaxNs);
                w.WriteNumber("sumNs", h.SumNs);
                w.WriteStartObject("buckets");
                for (var us = 0; us < h.Entries; us++)
                {
                    if (h[us] != 0)
                    {
                        w.WriteNumber(us.ToString(C), h[us]);
                    }
                }

                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            WriteFindings(w, "violations", cap.ViolationCount, cap.Violations);
            WriteFindings(w, "liveness", cap.LivenessCount, cap.Liveness);
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
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
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
        b.Append(C, $"{label,-5}");
        foreach (var v in values)
        {
            b.Append(C, $" {v,9}");
        }

        b.Append('\n');
    }
}
