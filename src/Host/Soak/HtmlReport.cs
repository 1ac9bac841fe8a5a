using System.Globalization;
using System.Net;
using System.Text;
using TaskIsolation.Reports;
using TaskIsolation.Soak;

namespace TaskIsolation.Host.Soak;

/// <summary>
/// One self-contained HTML page for a soak: noise over time per CPU (one point per snapshot interval), the histogram
/// of single-noise durations per CPU, the noise table and the findings. Inline SVG and CSS only: no script, no
/// external resource, so it opens anywhere, offline, and can be mailed around.
/// </summary>
internal static class HtmlReport
{
    /// <summary>The file name it is written under, beside the snapshot files.</summary>
    public const string FileName = "report.html";

    private const int Width = 900;
    private const int Height = 280;
    private const int Left = 70;
    private const int Right = 20;
    private const int Top = 20;
    private const int Bottom = 40;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>The page for <paramref name="s"/>, from the scenario called <paramref name="scenario"/>.</summary>
    public static string Render(SoakSnapshot s, string scenario)
    {
        var cap = s.Capture;
        var b = new StringBuilder();
        b.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        b.Append(C, $"<title>taskisol soak: {E(scenario)}</title>\n");
        b.Append("<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#eee}pre{background:#f6f6f6;padding:8px;overflow:auto}svg text{font-size:11px;font-family:sans-serif}.chart{margin:1em 0}</style>\n");
        b.Append("</head>\n<body>\n");
        b.Append(C, $"<h1>Soak of {E(scenario)}</h1>\n");
        b.Append(C, $"<pre>{E(SoakFormats.Summary(s))}</pre>\n");

        b.Append("<h2>Noise over time</h2>\n");
        b.Append(C, $"<p>Noise per CPU as a percentage of its measured time in each interval of simulated time ({cap.Series.Length} intervals), as the noise table computes it (100 − % CPU Aval); a CPU not measured is not drawn.</p>\n");
        b.Append(NoiseOverTime(s));

        b.Append("<h2>Single-noise durations</h2>\n<p>Number of single noises per 1 us bucket (as <code>rtla osnoise hist</code>), log scale.</p>\n");
        for (var cpu = 0; cpu < cap.Histograms.Length; cpu++)
        {
            b.Append(cap.Cpus[cpu].Measured ? Histogram(cpu, cap.Histograms[cpu]) : string.Create(C, $"<h3>cpu {cpu}: {NoiseShare.NotMeasured}</h3>\n"));
        }

        b.Append("<h2>Noise table</h2>\n");
        b.Append(C, $"<pre>{E(SoakFormats.NoiseTable(s))}</pre>\n");
        b.Append("<h2>Findings</h2>\n");
        b.Append(C, $"<pre>{E(SoakFormats.Violations(s))}</pre>\n");
        b.Append("</body>\n</html>\n");
        return b.ToString();
    }

    private static string NoiseOverTime(SoakSnapshot s)
    {
        var cap = s.Capture;
        var b = new StringBuilder();
        b.Append(C, $"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height + 20 * ((cap.Cpus.Length + 5) / 6)}\" role=\"img\" aria-label=\"noise over time per CPU\">\n");
        var points = cap.Series;
        var maxX = points.IsEmpty ? 1.0 : points[^1].EndNs / 1e9;
        var maxY = 0.0;
        foreach (var p in points)
        {
            for (var cpu = 0; cpu < p.NoiseNs.Length; cpu++)
            {
                if (Percent(p, cpu) is { } pct)
                {
                    maxY = Math.Max(maxY, pct);
                }
            }
        }

        maxY = NiceCeiling(maxY);
        Axes(b, maxX, "simulated time (s)", maxY, "noise %", v => v.ToString("0.####", C));
        for (var cpu = 0; cpu < cap.Cpus.Length; cpu++)
        {
            var color = Palette[cpu % Palette.Length];
            var line = new StringBuilder();
            var drawn = 0;
            (double X, double Y) last = default;
            foreach (var p in points)
            {
                // Each interval is drawn at its end: the noise measured within it. An interval with nothing measured
                // (the warm-up) has no point.
                if (Percent(p, cpu) is { } pct)
                {
                    last = (X(p.EndNs / 1e9, maxX), Y(pct, maxY));
                    line.Append(C, $"{last.X:F1},{last.Y:F1} ");
                    drawn++;
                }
            }

            if (drawn == 1)
            {
                b.Append(C, $"<circle cx=\"{last.X:F1}\" cy=\"{last.Y:F1}\" r=\"3\" fill=\"{color}\"/>\n");
            }
            else if (drawn > 1)
            {
                b.Append(C, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{line.ToString().TrimEnd()}\"><title>cpu {cpu}</title></polyline>\n");
            }

            var lx = Left + (cpu % 6) * 130;
            var ly = Height + 5 + (cpu / 6) * 20;
            var label = cap.Cpus[cpu].Measured ? $"cpu {cpu}" : $"cpu {cpu} ({NoiseShare.NotMeasured})";
            b.Append(C, $"<rect x=\"{lx}\" y=\"{ly}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{lx + 16}\" y=\"{ly + 10}\">{E(label)}</text>\n");
        }

        b.Append("</svg>\n");
        return b.ToString();
    }

    /// <summary>The noise share of <paramref name="cpu"/> within the interval <paramref name="p"/>, by the one definition (<see cref="NoiseShare"/>), for the chart; null when nothing was measured.</summary>
    private static double? Percent(SeriesPoint p, int cpu) => p.Share(cpu).NoisePercent is { } pct ? (double)pct : null;

    private static string Histogram(int cpu, NoiseHistogram h)
    {
        var b = new StringBuilder();
        b.Append(C, $"<h3>cpu {cpu}: {h.Count} noises, max {h.MaxNs / 1000.0:0.###} us, {h.Overflow} of {h.Buckets} us or more</h3>\n");
        b.Append(C, $"<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" role=\"img\" aria-label=\"noise histogram of cpu {cpu}\">\n");

        // The x axis ends just past the longest bucket used (and one bar for "over"), so short noises stay visible.
        var used = 1;
        for (var us = 0; us < h.Buckets; us++)
        {
            if (h[us] > 0)
            {
                used = us + 1;
            }
        }

        var bars = used + (h.Overflow > 0 ? 1 : 0);
        var maxCount = h.Overflow;
        for (var us = 0; us < used; us++)
        {
            maxCount = Math.Max(maxCount, h[us]);
        }

        var maxLog = NiceCeiling(Math.Log10(maxCount + 1.0));
        Axes(b, bars, "single noise (us)", maxLog, "count (log scale)", v => Math.Pow(10, v).ToString("0", C));
        var w = (double)(Width - Left - Right) / bars;
        for (var i = 0; i < bars; i++)
        {
            var count = i < used ? h[i] : h.Overflow;
            if (count == 0)
            {
                continue;
            }

            var y = Y(Math.Log10(count + 1.0), maxLog);
            var label = i < used ? $"{i} us" : $">= {h.Buckets} us";
            b.Append(C, $"<rect x=\"{Left + (i * w):F1}\" y=\"{y:F1}\" width=\"{Math.Max(1, w - 1):F1}\" height=\"{Top + (Height - Top - Bottom) - y:F1}\" fill=\"{(i < used ? Palette[cpu % Palette.Length] : "#000")}\"><title>{label}: {count}</title></rect>\n");
        }

        b.Append("</svg>\n");
        return b.ToString();
    }

    private static void Axes(StringBuilder b, double maxX, string xLabel, double maxY, string yLabel, Func<double, string> yTick)
    {
        var bottom = Height - Bottom;
        b.Append(C, $"<line x1=\"{Left}\" y1=\"{bottom}\" x2=\"{Width - Right}\" y2=\"{bottom}\" stroke=\"#000\"/>\n");
        b.Append(C, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{bottom}\" stroke=\"#000\"/>\n");
        for (var i = 0; i <= 4; i++)
        {
            var v = maxY * i / 4;
            var y = Y(v, maxY);
            b.Append(C, $"<line x1=\"{Left - 4}\" y1=\"{y:F1}\" x2=\"{Width - Right}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{E(yTick(v))}</text>\n");
            var xv = maxX * i / 4;
            b.Append(C, $"<text x=\"{X(xv, maxX):F1}\" y=\"{bottom + 15}\" text-anchor=\"middle\">{xv:0.##}</text>\n");
        }

        b.Append(C, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 5}\" text-anchor=\"middle\">{E(xLabel)}</text>\n");
        b.Append(C, $"<text x=\"12\" y=\"{(Top + bottom) / 2}\" transform=\"rotate(-90 12 {(Top + bottom) / 2})\" text-anchor=\"middle\">{E(yLabel)}</text>\n");
    }

    private static double X(double v, double max) => Left + ((Width - Left - Right) * (max <= 0 ? 0 : v / max));

    private static double Y(double v, double max) => Height - Bottom - ((Height - Top - Bottom) * (max <= 0 ? 0 : v / max));

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="v"/>: tidy axis ends.</summary>
    private static double NiceCeiling(double v)
    {
        if (v <= 0)
        {
            return 1;
        }

        var p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var m in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (v <= m * p)
            {
                return m * p;
            }
        }

        return 10 * p;
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
