using TaskIsolation.Host.Bench;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// docs/scaling.svg is the chart <see cref="ScalingChart"/> makes from docs/bench-scaling.json (the bench run
/// docs/performance.md shows); <c>TASKISOL_UPDATE_DOCS=1</c> redraws it.
/// </summary>
public class ScalingChartTests
{
    private static string Json => File.ReadAllText(Path.Combine(GoldenOutputTests.RepoRoot, "docs", "bench-scaling.json"));

    private static string SvgPath => Path.Combine(GoldenOutputTests.RepoRoot, "docs", "scaling.svg");

    [Fact]
    public void Docs_scaling_svg_is_drawn_from_docs_bench_scaling_json()
    {
        var svg = ScalingChart.Render(Json);
        if (Environment.GetEnvironmentVariable("TASKISOL_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(SvgPath, svg);
        }

        Assert.Equal(svg, File.ReadAllText(SvgPath));
    }

    [Fact]
    public void The_chart_has_a_point_per_machine_in_each_panel_and_labels_the_cpu_counts()
    {
        const string json = """
            {"date": "2026-12-03T01:00:00Z", "scaling": [
              {"cpus": 4, "deliveriesPerSimulatedSecondPerCpu": 1000, "compression": 500},
              {"cpus": 64, "deliveriesPerSimulatedSecondPerCpu": 520, "compression": 20},
              {"cpus": 16, "deliveriesPerSimulatedSecondPerCpu": 515, "compression": 90}
            ]}
            """;

        var svg = ScalingChart.Render(json);

        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", svg, StringComparison.Ordinal);
        Assert.Equal(6, svg.Split("<circle ").Length - 1);
        foreach (var label in new[] { ">4</text>", ">16</text>", ">64</text>", ">515</text>", ">90</text>" })
        {
            Assert.Contains(label, svg, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_report_without_a_scaling_curve_is_refused()
    {
        var ex = Assert.Throws<FormatException>(() => ScalingChart.Render("""{"figures": []}"""));
        Assert.Contains("no scaling curve", ex.Message, StringComparison.Ordinal);
    }
}
