using System.Globalization;
using System.Net;
using System.Text;
using TaskIsolation.Reports;
using TaskIsolation.Soak;

namespace TaskIsolation.Host.Html;

/// <summary>
/// The HTML report of a run, a replay or a soak (docs/reports.md): one self-contained page (inline SVG and CSS, no
/// script, nothing fetched) that answers "how bad is the tail, and when?": noise over time per noisy CPU with each
/// finding as a marker linking to its chain, the percentiles of every CPU's single noises, their histogram on
/// log-scaled buckets with the scenario's bound as a threshold, and each finding with the timeline of its window.
/// Quiet CPUs take one line. Every chart scales to the window's width (a <c>viewBox</c>, width 100 %).
/// </summary>
internal static class ReportHtml
{
    /// <summary>What the page says noise % is: the one definition of <see cref="NoiseShare"/>.</summary>
    public const string NoiseDefinition =
        "Noise % is the share of a CPU's measured time (its runtime: from the warm-up's end) that its measuring workload was kept from the CPU, 100 − % CPU Aval as rtla osnoise computes it: "
        + "the chart takes it over each interval, the table over the whole measurement.";

    private const int Width = 900;
    private const int Left = 70;
    private const int Right = 20;
    private const int Top = 16;
    private const int Bottom = 40;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
    private static readonly string[] LaneColors = ["#8fb8de", "#f2b35b", "#d9534f"];
    private static readonly string[] LaneNames = ["task", "kernel", "interrupt"];

    /// <summary>The page.</summary>
    public static string Render(NoiseReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        b.Append(C, $"<title>taskisol: {E(r.Heading)}</title>\n");
        b.Append("<style>body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#eee}td.over{background:#fdd;font-weight:bold}pre{background:#f6f6f6;padding:8px;overflow:auto}svg{display:block;width:100%;height:auto}svg text{font-size:11px;font-family:sans-serif}.legend span{display:inline-block;margin-right:1.5em}.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}section.finding{border-top:1px solid #ddd;margin-top:1em}:target{background:#fff8dc}</style>\n");
        b.Append("</head>\n<body>\n");
        b.Append(C, $"<h1>{E(r.Heading)}</h1>\n<pre>{E(r.Summary)}</pre>\n");

        var noisy = r.Cpus.Where(c => c.Noise.Measured && c.Noise.NoiseNs > 0).ToList();
        var quiet = r.Cpus.Where(c => c.Noise.Measured && c.Noise.NoiseNs == 0).Select(c => c.Noise.Cpu).ToList();
        var unmeasured = r.Cpus.Where(c => !c.Noise.Measured).Select(c => c.Noise.Cpu).ToList();
        b.Append("<h2>Noise over time</h2>\n");
        b.Append(C, $"<p>{E(NoiseDefinition)} Markers (▼) are findings; each links to its chain below.</p>\n");
        b.Append(C, $"<p class=\"quiet\">{E(QuietLine(quiet, unmeasured))}</p>\n");
        if (noisy.Count > 0)
        {
            NoiseOverTime(b, r, noisy);
        }

        b.Append("<h2>Single noises: how bad is the tail</h2>\n");
        if (noisy.Count == 0)
        {
            b.Append("<p>No single noise on any measured CPU.</p>\n");
        }
        else
        {
            Percentiles(b, noisy);
            foreach (var c in noisy)
            {
                Histogram(b, c);
            }
        }

        b.Append(C, $"<h2>Findings ({r.Findings.Length})</h2>\n");
        if (r.Findings.IsEmpty)
        {
            b.Append("<p>None.</p>\n");
        }

        for (var i = 0; i < r.Findings.Length; i++)
        {
            Finding(b, r.Findings[i], i + 1);
        }

        b.Append("<h2>Noise table</h2>\n");
        b.Append(C, $"<pre>{E(r.NoiseTable)}</pre>\n");
        b.Append("</body>\n</html>\n");
        return b.ToString();
    }

    /// <summary><c>Quiet (measured, no noise): cpus 1-2. Not measured: cpu 0.</c></summary>
    public static string QuietLine(IReadOnlyList<int> quiet, IReadOnlyList<int> unmeasured)
    {
        var parts = new List<string>();
        if (quiet.Count > 0)
        {
            parts.Add($"Quiet (measured, no noise at all): {Cpus(quiet)}.");
        }

        if (unmeasured.Count > 0)
        {
            parts.Add($"Not measured: {Cpus(unmeasured)}.");
        }

        return parts.Count == 0 ? "Every measured CPU had noise." : string.Join(" ", parts);
    }

    private static string Cpus(IReadOnlyList<int> cpus)
    {
        var ranges = new List<string>();
        for (var i = 0; i < cpus.Count; i++)
        {
            var j = i;
            while (j + 1 < cpus.Count && cpus[j + 1] == cpus[j] + 1)
            {
                j++;
            }

            ranges.Add(j == i ? cpus[i].ToString(C) : string.Create(C, $"{cpus[i]}-{cpus[j]}"));
            i = j;
        }

        return (cpus.Count == 1 ? "cpu " : "cpus ") + string.Join(",", ranges);
    }

    private static void NoiseOverTime(StringBuilder b, NoiseReport r, List<ReportCpu> noisy)
    {
        const int height = 280;
        var x0 = r.StartNs;
        var x1 = Math.Max(r.EndNs, x0 + 1);
        var maxY = 0.0;
        var stats = new Dictionary<int, (double Min, double Mean, double Max)>();
        foreach (var c in noisy)
        {
            var values = r.Series.Select(p => Percent(p, c.Noise.Cpu)).OfType<double>().ToList();
            if (values.Count > 0)
            {
                stats[c.Noise.Cpu] = (values.Min(), values.Average(), values.Max());
                maxY = Math.Max(maxY, values.Max());
            }
        }

        var yTicks = Ticks(maxY);
        var yMax = yTicks[^1];
        var (unit, scale) = TimeUnit(x1 - x0);
        var xTicks = Ticks((x1 - x0) / scale);
        b.Append(C, $"<svg class=\"chart noise-over-time\" viewBox=\"0 0 {Width} {height}\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"noise over time per CPU\">\n");
        double X(long ns) => Left + ((Width - Left - Right) * (double)(ns - x0) / (x1 - x0));
        double Y(double v) => height - Bottom - ((height - Top - Bottom) * (yMax <= 0 ? 0 : v / yMax));
        foreach (var t in yTicks)
        {
            b.Append(C, $"<line x1=\"{Left - 4}\" y1=\"{Y(t):F1}\" x2=\"{Width - Right}\" y2=\"{Y(t):F1}\" stroke=\"#ddd\"/><text x=\"{Left - 6}\" y=\"{Y(t) + 4:F1}\" text-anchor=\"end\">{Number(t)}%</text>\n");
        }

        foreach (var t in xTicks.Where(t => t * scale <= x1 - x0 + 1e-9))
        {
            var x = X(x0 + (long)Math.Round(t * scale));
            b.Append(C, $"<line x1=\"{x:F1}\" y1=\"{height - Bottom}\" x2=\"{x:F1}\" y2=\"{height - Bottom + 4}\" stroke=\"#000\"/><text x=\"{x:F1}\" y=\"{height - Bottom + 16}\" text-anchor=\"middle\">{Number(t)}</text>\n");
        }

        Frame(b, height, $"simulated time ({unit})", "noise % per interval");
        foreach (var c in noisy)
        {
            var color = Palette[c.Noise.Cpu % Palette.Length];
            var points = new StringBuilder();
            foreach (var p in r.Series)
            {
                if (Percent(p, c.Noise.Cpu) is { } v)
                {
                    points.Append(C, $"{X(p.EndNs):F1},{Y(v):F1} ");
                }
            }

            b.Append(C, $"<polyline class=\"series\" data-cpu=\"{c.Noise.Cpu}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{points.ToString().TrimEnd()}\"><title>cpu {c.Noise.Cpu}</title></polyline>\n");
        }

        for (var i = 0; i < r.Findings.Length; i++)
        {
            var f = r.Findings[i];
            var x = X(Math.Clamp(f.TimeNs, x0, x1));
            var color = f.Kind == "stop" ? "#000" : "#c00";
            b.Append(C, $"<a href=\"#finding-{i + 1}\" class=\"marker\" data-kind=\"{E(f.Kind)}\"><line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{height - Bottom}\" stroke=\"{color}\" stroke-dasharray=\"3,3\"/><path d=\"M{x - 5:F1},{Top - 10} L{x + 5:F1},{Top - 10} L{x:F1},{Top} Z\" fill=\"{color}\"/><title>{i + 1}. {E(f.Kind)} at {E(Stamp(f.TimeNs))} on cpu {f.Cpu}: {E(f.Title)}</title></a>\n");
        }

        b.Append("</svg>\n<p class=\"legend\">");
        foreach (var c in noisy)
        {
            var s = stats.GetValueOrDefault(c.Noise.Cpu);
            b.Append(C, $"<span><i class=\"swatch\" style=\"background:{Palette[c.Noise.Cpu % Palette.Length]}\"></i>cpu {c.Noise.Cpu}: min {Percent(s.Min)}, mean {Percent(s.Mean)}, max {Percent(s.Max)} per interval</span>");
        }

        b.Append("</p>\n");
    }

    private static void Percentiles(StringBuilder b, List<ReportCpu> noisy)
    {
        b.Append("<p>Percentiles of each CPU's single noises (HdrHistogram, three significant digits); a cell above the scenario's bound (<code>max_noise: at_most</code>) is marked.</p>\n");
        b.Append("<table class=\"percentiles\"><tr><th>CPU</th><th>noises</th>");
        foreach (var p in LatencyHistogram.ReportedPercentiles)
        {
            b.Append(C, $"<th>p{p}</th>");
        }

        b.Append("<th>max</th><th>bound</th></tr>\n");
        foreach (var c in noisy)
        {
            b.Append(C, $"<tr><td>{c.Noise.Cpu}</td><td>{c.Histogram.Count}</td>");
            foreach (var p in LatencyHistogram.ReportedPercentiles)
            {
                Cell(b, c.Latency.AtPercentile(p), c.BoundNs);
            }

            Cell(b, c.Histogram.MaxNs, c.BoundNs);
            b.Append(C, $"<td>{(c.BoundNs is { } bound ? DurationText.Short(bound, "µs") : "none")}</td></tr>\n");
        }

        b.Append("</table>\n");
    }

    private static void Cell(StringBuilder b, long ns, long? bound) =>
        b.Append(C, $"<td{(ns > bound ? " class=\"over\"" : string.Empty)}>{DurationText.Short(ns, "µs")}</td>");

    private static void Histogram(StringBuilder b, ReportCpu c)
    {
        const int height = 220;
        var h = c.Histogram;
        var buckets = c.Latency.LogBuckets().ToList();
        if (buckets.Count == 0)
        {
            return;
        }

        // The bound gets a bucket of its own when it lies outside those used, so the threshold is always drawn.
        if (c.BoundNs is { } bound)
        {
            while (bound < buckets[0].FromNs)
            {
                var from = LatencyHistogram.LogFloor(buckets[0].FromNs - 1);
                buckets.Insert(0, (from, buckets[0].FromNs, 0));
            }

            while (bound >= buckets[^1].ToNs)
            {
                buckets.Add((buckets[^1].ToNs, LatencyHistogram.LogNext(buckets[^1].ToNs), 0));
            }
        }

        var mean = h.Count == 0 ? 0 : h.TotalNs / h.Count;
        b.Append(C, $"<h3>cpu {c.Noise.Cpu}: {E(c.Latency.Describe().Replace(" us", " µs", StringComparison.Ordinal))}</h3>\n");
        var maxCount = buckets.Max(x => x.Count);
        var decades = Math.Max(1, (int)Math.Ceiling(Math.Log10(maxCount + 1.0)));
        b.Append(C, $"<svg class=\"chart histogram\" data-cpu=\"{c.Noise.Cpu}\" viewBox=\"0 0 {Width} {height}\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"single-noise histogram of cpu {c.Noise.Cpu}\">\n");
        double Y(double count) => height - Bottom - ((height - Top - Bottom) * Math.Log10(count + 1.0) / decades);
        for (var d = 0; d <= decades; d++)
        {
            var v = Math.Pow(10, d);
            var y = Y(v - 1);
            b.Append(C, $"<line x1=\"{Left - 4}\" y1=\"{y:F1}\" x2=\"{Width - Right}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Number(v - (d == 0 ? 1 : 0))}</text>\n");
        }

        var w = (double)(Width - Left - Right) / buckets.Count;
        var color = Palette[c.Noise.Cpu % Palette.Length];
        var every = buckets.Count <= 15 ? 1 : 3;
        for (var i = 0; i < buckets.Count; i++)
        {
            var (from, to, count) = buckets[i];
            var x = Left + (i * w);
            if (i % every == 0 || (every > 1 && from.ToString(C)[0] == '1'))
            {
                b.Append(C, $"<text x=\"{x:F1}\" y=\"{height - Bottom + 16}\" text-anchor=\"middle\">{E(DurationText.Short(from, "µs"))}</text>\n");
            }

            if (count > 0)
            {
                var y = Y(count);
                b.Append(C, $"<rect class=\"bar\" x=\"{x + 1:F1}\" y=\"{y:F1}\" width=\"{Math.Max(1, w - 2):F1}\" height=\"{height - Bottom - y:F1}\" fill=\"{color}\"><title>{E(DurationText.Short(from, "µs"))} to {E(DurationText.Short(to, "µs"))}: {count}</title></rect>\n");
            }
        }

        if (c.BoundNs is { } limit)
        {
            var i = buckets.FindIndex(x => limit >= x.FromNs && limit < x.ToNs);
            var (from, to, _) = buckets[i];
            var x = Left + (w * (i + (Math.Log10(limit) - Math.Log10(from)) / (Math.Log10(to) - Math.Log10(from))));
            b.Append(C, $"<g class=\"threshold\"><line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{height - Bottom}\" stroke=\"#c00\" stroke-width=\"2\"/><text x=\"{x + 4:F1}\" y=\"{Top + 10}\" fill=\"#c00\">bound {E(DurationText.Short(limit, "µs"))}</text></g>\n");
        }

        Frame(b, height, "single noise (log-scaled buckets: 1, 2, 5 × 10ⁿ)", "count (log)");
        b.Append("</svg>\n");
        b.Append(C, $"<p class=\"legend\"><span><i class=\"swatch\" style=\"background:{color}\"></i>cpu {c.Noise.Cpu}: {h.Count} noises, min {E(DurationText.Short(h.MinNs, "µs"))}, mean {E(DurationText.Short(mean, "µs"))}, max {E(DurationText.Short(h.MaxNs, "µs"))}</span></p>\n");
    }

    private static void Finding(StringBuilder b, ReportFinding f, int n)
    {
        b.Append(C, $"<section class=\"finding\" id=\"finding-{n}\">\n<h3>{n}. {E(f.Kind)} at {E(Stamp(f.TimeNs))} on cpu {f.Cpu}</h3>\n<p>{E(f.Title)}</p>\n");
        if (!f.Chain.IsDefaultOrEmpty)
        {
            b.Append("<ol class=\"chain\">\n");
            foreach (var l in f.Chain)
            {
                b.Append(C, $"<li>{E(Stamp(l.TimeNs))} cpu {l.Cpu}: {E(l.What)}</li>\n");
            }

            b.Append("</ol>\n");
        }

        if (f.Window is { } t)
        {
            Timeline(b, t, f);
        }
        else
        {
            b.Append("<p>(The events of its window are no longer kept: a soak keeps only the most recent ones.)</p>\n");
        }

        b.Append("</section>\n");
    }

    private static void Timeline(StringBuilder b, Timeline t, ReportFinding f)
    {
        const int lane = 14;
        const int rowGap = 10;
        const int left = 110;
        var row = (3 * lane) + rowGap;
        var height = Top + (row * t.Cpus.Length) + Bottom;
        var span = Math.Max(1, t.ToNs - t.FromNs);
        double X(long ns) => left + ((Width - left - Right) * (double)(ns - t.FromNs) / span);
        b.Append(C, $"<svg class=\"timeline\" viewBox=\"0 0 {Width} {height}\" preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"timeline around finding\">\n");
        for (var i = 0; i < t.Cpus.Length; i++)
        {
            var y = Top + (i * row);
            b.Append(C, $"<text x=\"4\" y=\"{y + lane + 4}\">cpu {t.Cpus[i]}</text>\n");
            for (var l = 0; l < 3; l++)
            {
                b.Append(C, $"<text x=\"{left - 6}\" y=\"{y + (l * lane) + 11}\" text-anchor=\"end\" fill=\"#666\">{LaneNames[l]}</text>\n");
            }

            foreach (var s in t.Slices.Where(s => s.Cpu == t.Cpus[i]))
            {
                var x = X(s.StartNs);
                var w = Math.Max(1, X(s.EndNs) - x);
                b.Append(C, $"<rect class=\"slice lane-{LaneNames[s.Lane]}\" x=\"{x:F1}\" y=\"{y + (s.Lane * lane) + 1}\" width=\"{w:F1}\" height=\"{lane - 2}\" fill=\"{LaneColors[s.Lane]}\"><title>{E(s.Label)}: {E(Stamp(s.StartNs))} to {E(Stamp(s.EndNs))} ({E(DurationText.Short(s.EndNs - s.StartNs, "µs"))})</title></rect>\n");
                if (w > 60)
                {
                    b.Append(C, $"<text x=\"{x + 3:F1}\" y=\"{y + (s.Lane * lane) + 11}\" pointer-events=\"none\">{E(Clip(s.Label, (int)(w / 6)))}</text>\n");
                }
            }
        }

        // Ticks relative to the finding: "-100 µs … 0 … +20 µs".
        var (unit, scale) = TimeUnit(span);
        var before = (f.TimeNs - t.FromNs) / scale;
        var after = (t.ToNs - f.TimeNs) / scale;
        var step = Ticks(Math.Max(before, after))[1];
        for (var v = -Math.Floor(before / step) * step; v <= after + 1e-9; v += step)
        {
            var x = X(f.TimeNs + (long)Math.Round(v * scale));
            b.Append(C, $"<text x=\"{x:F1}\" y=\"{height - Bottom + 16}\" text-anchor=\"middle\">{(v > 0 ? "+" : string.Empty)}{Number(v)}</text>\n");
        }

        var fx = X(f.TimeNs);
        b.Append(C, $"<line class=\"marker\" x1=\"{fx:F1}\" y1=\"{Top - 6}\" x2=\"{fx:F1}\" y2=\"{height - Bottom}\" stroke=\"#c00\" stroke-width=\"1.5\"/>\n");
        b.Append(C, $"<text x=\"{(left + Width - Right) / 2}\" y=\"{height - 6}\" text-anchor=\"middle\">{unit} from the finding (at {E(Stamp(f.TimeNs))})</text>\n");
        b.Append("</svg>\n<p class=\"legend\">");
        for (var l = 0; l < 3; l++)
        {
            b.Append(C, $"<span><i class=\"swatch\" style=\"background:{LaneColors[l]}\"></i>{LaneNames[l]}</span>");
        }

        b.Append("</p>\n");
    }

    private static void Frame(StringBuilder b, int height, string xLabel, string yLabel)
    {
        var bottom = height - Bottom;
        b.Append(C, $"<line x1=\"{Left}\" y1=\"{bottom}\" x2=\"{Width - Right}\" y2=\"{bottom}\" stroke=\"#000\"/>\n");
        b.Append(C, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{bottom}\" stroke=\"#000\"/>\n");
        b.Append(C, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{height - 6}\" text-anchor=\"middle\">{E(xLabel)}</text>\n");
        b.Append(C, $"<text x=\"12\" y=\"{(Top + bottom) / 2}\" transform=\"rotate(-90 12 {(Top + bottom) / 2})\" text-anchor=\"middle\">{E(yLabel)}</text>\n");
    }

    /// <summary>Tick values from 0 past <paramref name="max"/> in steps of 1, 2 or 5 times a power of ten, four to ten of them.</summary>
    public static IReadOnlyList<double> Ticks(double max)
    {
        if (max <= 0 || double.IsNaN(max))
        {
            return [0, 1];
        }

        var raw = max / 5;
        var p = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var m = raw / p;
        var step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
        var ticks = new List<double>();
        for (var i = 0; ; i++)
        {
            // Multiplying (not adding) keeps 0.1 + 0.2 from drifting: each tick is step × i, rounded to the step's digits.
            var v = Math.Round(step * i, Digits(step));
            ticks.Add(v);
            if (v >= max - (step * 1e-9))
            {
                return ticks;
            }
        }
    }

    private static int Digits(double step) => Math.Max(0, -(int)Math.Floor(Math.Log10(step)));

    /// <summary>The unit a span of <paramref name="ns"/> reads best in, and its size in ns.</summary>
    private static (string Unit, double Scale) TimeUnit(long ns) => ns switch
    {
        >= 2_000_000_000 => ("s", 1e9),
        >= 2_000_000 => ("ms", 1e6),
        >= 2_000 => ("µs", 1e3),
        _ => ("ns", 1),
    };

    /// <summary>A tick value: no exponent, no trailing zeros.</summary>
    private static string Number(double v) => v.ToString("0.##########", C);

    private static string Percent(double v) => v.ToString(v == 0 ? "0" : v >= 1 ? "0.##" : "0.#####", C) + "%";

    private static double? Percent(SeriesPoint p, int cpu) => p.Share(cpu).NoisePercent is { } pct ? (double)pct : null;

    private static string Stamp(long ns) => string.Create(C, $"{ns / 1_000_000_000}.{ns % 1_000_000_000:D9} s");

    private static string Clip(string s, int chars) => s.Length <= chars ? s : s[..Math.Max(1, chars - 1)] + "…";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
