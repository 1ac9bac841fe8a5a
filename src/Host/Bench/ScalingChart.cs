using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TaskIsolation.Host.Bench;

/// <summary>
/// The scaling curve of a bench report as a small SVG (docs/scaling.svg): deliveries per simulated second per CPU
/// (exact, the same in every run) and time compression (wall clock, varies with the load), against the CPU count on a
/// log scale. Made from the JSON (<c>bench --report</c>), so the chart is reproducible from the figures it shows.
/// </summary>
internal static class ScalingChart
{
    private const int PanelWidth = 330;
    private const int PanelHeight = 220;
    private const int Left = 62;
    private const int Top = 40;
    private const int PlotWidth = 250;
    private const int PlotHeight = 140;

    /// <summary>The chart of <paramref name="benchJson"/>'s <c>scaling</c> array.</summary>
    /// <exception cref="FormatException">The JSON has no scaling curve.</exception>
    public static string Render(string benchJson)
    {
        using var doc = JsonDocument.Parse(benchJson);
        if (!doc.RootElement.TryGetProperty("scaling", out var scaling) || scaling.GetArrayLength() == 0)
        {
            throw new FormatException("the bench report has no scaling curve (run taskisol bench, not an older version)");
        }

        var points = scaling.EnumerateArray()
            .Select(p => (Cpus: p.GetProperty("cpus").GetInt32(), PerCpu: p.GetProperty("deliveriesPerSimulatedSecondPerCpu").GetDouble(), Compression: p.GetProperty("compression").GetDouble()))
            .OrderBy(p => p.Cpus)
            .ToList();
        var date = doc.RootElement.TryGetProperty("date", out var d) ? d.GetString() : null;

        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{2 * PanelWidth}\" height=\"{PanelHeight + 24}\" viewBox=\"0 0 {2 * PanelWidth} {PanelHeight + 24}\" font-family=\"sans-serif\" font-size=\"11\">\n"));
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        Panel(svg, 0, "deliveries per simulated second, per CPU (exact)", points.Select(p => (p.Cpus, p.PerCpu)).ToList(), logY: false, "#1f77b4");
        Panel(svg, PanelWidth, "time compression, controlled (sim s / wall s)", points.Select(p => (p.Cpus, p.Compression)).ToList(), logY: true, "#d62728");
        svg.Append(Invariant($"<text x=\"8\" y=\"{PanelHeight + 16}\" fill=\"#555\">taskisol bench{(date is null ? string.Empty : ", " + Escape(date))}: 1/8 of the CPUs housekeeping (writer/mmap), the rest isolated NOSIG pollers, HZ=1000</text>\n"));
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, int x0, string title, List<(int Cpus, double Value)> points, bool logY, string colour)
    {
        var minCpus = Math.Log2(points[0].Cpus);
        var maxCpus = Math.Log2(points[^1].Cpus);
        var values = points.Select(p => p.Value).ToList();
        double lo, hi;
        if (logY)
        {
            lo = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(values.Min(), 1e-3))));
            hi = Math.Pow(10, Math.Ceiling(Math.Log10(Math.Max(values.Max(), lo * 10))));
        }
        else
        {
            lo = 0;
            hi = NiceCeiling(values.Max() * 1.1);
        }

        // Points are inset from the frame so that the end labels clear the axis labels.
        const int inset = 16;
        double X(int cpus) => x0 + Left + inset + (maxCpus == minCpus ? (PlotWidth / 2.0) - inset : (Math.Log2(cpus) - minCpus) / (maxCpus - minCpus) * (PlotWidth - (2 * inset)));
        double Y(double v) => Top + PlotHeight - ((logY ? (Math.Log10(Math.Max(v, lo)) - Math.Log10(lo)) / (Math.Log10(hi) - Math.Log10(lo)) : (v - lo) / (hi - lo)) * PlotHeight);

        svg.Append(Invariant($"<text x=\"{x0 + Left}\" y=\"20\" font-weight=\"bold\">{Escape(title)}</text>\n"));
        svg.Append(Invariant($"<rect x=\"{x0 + Left}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\" fill=\"none\" stroke=\"#999\"/>\n"));
        var ticks = logY
            ? Enumerable.Range(0, (int)Math.Round(Math.Log10(hi / lo)) + 1).Select(i => lo * Math.Pow(10, i)).ToList()
            : Enumerable.Range(0, 5).Select(i => lo + ((hi - lo) * i / 4)).ToList();
        foreach (var t in ticks)
        {
            svg.Append(Invariant($"<line x1=\"{x0 + Left}\" x2=\"{x0 + Left + PlotWidth}\" y1=\"{Y(t):0.#}\" y2=\"{Y(t):0.#}\" stroke=\"#eee\"/>\n"));
            svg.Append(Invariant($"<text x=\"{x0 + Left - 4}\" y=\"{Y(t) + 4:0.#}\" text-anchor=\"end\">{Label(t)}</text>\n"));
        }

        foreach (var (cpus, _) in points)
        {
            svg.Append(Invariant($"<text x=\"{X(cpus):0.#}\" y=\"{Top + PlotHeight + 14}\" text-anchor=\"middle\">{cpus:N0}</text>\n"));
        }

        svg.Append(Invariant($"<text x=\"{x0 + Left + (PlotWidth / 2)}\" y=\"{Top + PlotHeight + 30}\" text-anchor=\"middle\" fill=\"#555\">CPUs (log scale)</text>\n"));
        svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(' ', points.Select(p => Invariant($"{X(p.Cpus):0.#},{Y(p.Value):0.#}")))}\"/>\n"));
        foreach (var (cpus, value) in points)
        {
            svg.Append(Invariant($"<circle cx=\"{X(cpus):0.#}\" cy=\"{Y(value):0.#}\" r=\"3\" fill=\"{colour}\"/>\n"));
            svg.Append(Invariant($"<text x=\"{X(cpus):0.#}\" y=\"{Y(value) - 7:0.#}\" text-anchor=\"middle\" fill=\"{colour}\">{Label(value)}</text>\n"));
        }
    }

    /// <summary>1, 2 or 5 times a power of ten, at or above <paramref name="v"/>.</summary>
    private static double NiceCeiling(double v)
    {
        if (v <= 0)
        {
            return 1;
        }

        var p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        return new[] { 1, 2, 5, 10 }.Select(m => m * p).First(c => c >= v);
    }

    private static string Label(double v) => v switch
    {
        >= 100 => v.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => v.ToString("0.#", CultureInfo.InvariantCulture),
        _ => v.ToString("0.##", CultureInfo.InvariantCulture),
    };

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
