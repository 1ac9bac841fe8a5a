using System.Text.Json;
using System.Text.RegularExpressions;
using TaskIsolation.Host.Html;
using TaskIsolation.Reports;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// The HTML report of <c>run --html</c>, <c>replay --html</c> and the soak (docs/reports.md): markers linking to
/// chains, percentiles, the scenario's bound, quiet CPUs in one line, nice ticks; and the rtla habits <c>--cpus</c>,
/// <c>--stop-us</c> and <c>--trace-on-stop</c>.
/// </summary>
public sealed class HtmlReportTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"html-cli-{Guid.NewGuid():N}");

    public HtmlReportTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string P(string name) => Path.Combine(_root, name);

    [Fact]
    public void Run_html_marks_the_violation_links_it_to_its_chain_and_draws_its_window()
    {
        var html = P("r.html");
        var r = Taskisol.Run("run", Path.Combine(GoldenOutputTests.RepoRoot, "scenarios", "tlb-shootdown.yaml"), "--quiet", "--html", html);
        Assert.Equal(0, r.Exit);
        var page = File.ReadAllText(html);
        Assert.Contains("<a href=\"#finding-1\" class=\"marker\" data-kind=\"violation\">", page, StringComparison.Ordinal);
        Assert.Contains("<section class=\"finding\" id=\"finding-1\">", page, StringComparison.Ordinal);
        Assert.Contains("task sibling/102 on cpu 0: munmap", page, StringComparison.Ordinal);
        Assert.Matches("<svg class=\"timeline\"", page);
        Assert.Matches("class=\"slice lane-interrupt\"[^>]*><title>TLB shootdown IPI", page);
        Assert.Contains("Quiet (measured, no noise at all): cpus 1-2.", page, StringComparison.Ordinal);
        Assert.Contains(ReportHtml.NoiseDefinition, System.Net.WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.Contains("viewBox=\"0 0 900 ", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch("(src|href)=\"[^#]", page);
    }

    [Fact]
    public void The_scenario_s_noise_bound_is_a_threshold_and_a_tail_above_it_is_marked()
    {
        // selftest-11 bounds CPU 1's longest single noise at 500ns; a tighter copy of the default scenario's poller
        // bound at 1us makes CPU 3's start-up noise cross it.
        var file = P("bound.yaml");
        var text = File.ReadAllText(Path.Combine(GoldenOutputTests.RepoRoot, "src", "Scenarios", "BuiltIn", "default.yaml"));
        var at = text.IndexOf("expectations:", StringComparison.Ordinal);
        File.WriteAllText(file, text[..at] + "expectations:\n  - max_noise: {cpus: 3, at_most: 1us}\n");
        var html = P("b.html");
        var r = Taskisol.Run("run", file, "--duration", "1s", "--cpus", "3", "--html", html);
        Assert.Equal(1, r.Exit);
        var page = System.Net.WebUtility.HtmlDecode(File.ReadAllText(html));
        Assert.Contains("<g class=\"threshold\">", page, StringComparison.Ordinal);
        Assert.Contains("bound 1 µs", page, StringComparison.Ordinal);
        Assert.Contains("<td class=\"over\">", page, StringComparison.Ordinal);
        Assert.Contains("Not measured: cpus 0-2.", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.00038, new[] { 0, 0.0001, 0.0002, 0.0003, 0.0004 })]
    [InlineData(10.5, new[] { 0.0, 5, 10, 15 })]
    [InlineData(100, new[] { 0.0, 20, 40, 60, 80, 100 })]
    [InlineData(7, new[] { 0.0, 2, 4, 6, 8 })]
    public void Ticks_are_1_2_5_steps(double max, double[] ticks) => Assert.Equal(ticks, ReportHtml.Ticks(max));

    [Fact]
    public void Stop_us_stops_the_run_at_the_first_longer_single_noise_and_writes_the_trace_before_it()
    {
        var trace = P("stop.txt");
        var r = Taskisol.Run("run", "default", "--quiet", "--stop-us", "3", "--trace-on-stop", trace);
        Assert.Equal(1, r.Exit);
        Assert.Equal(string.Empty, r.Err);
        var stopped = Regex.Match(r.Out, @"stopped: a single noise of (\d+) ns on cpu (\d) \(from (\d+) ns to (\d+) ns\) is above --stop-us 3\n");
        Assert.True(stopped.Success, r.Out);
        Assert.True(long.Parse(stopped.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 3000);

        // The run ended there, not at the scenario's 10 s.
        Assert.Matches(@"simulated in", r.Out);
        Assert.DoesNotContain("10s simulated", r.Out, StringComparison.Ordinal);
        var lines = File.ReadAllLines(trace);
        Assert.Equal("# tracer: nop", lines[0]);
        Assert.Contains(lines, l => l.Contains("irq_handler_entry", StringComparison.Ordinal) || l.Contains("local_timer_entry", StringComparison.Ordinal) || l.Contains("sched_switch", StringComparison.Ordinal));

        // Without --stop-us nothing stops, and the answer is the expectations'.
        Assert.Equal(0, Taskisol.Run("run", "default", "--quiet", "--duration", "1s").Exit);
    }

    [Fact]
    public void Stop_us_on_one_cpu_watches_only_that_cpu()
    {
        // CPU 0 takes eth0's interrupts from the start; CPU 3 only its poller's start-up noise.
        var all = Taskisol.Run("run", "default", "--quiet", "--stop-us", "3");
        var iso = Taskisol.Run("run", "default", "--quiet", "--stop-us", "3", "--cpus", "3");
        Assert.Contains("on cpu 0 ", all.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("on cpu 0 ", iso.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_soak_stops_at_the_first_longer_single_noise_with_its_trace()
    {
        var dir = P("soak");
        var trace = P("soak-stop.txt");
        var r = Taskisol.Run("soak", "default", "--for", "20s", "--snapshot-every", "10s", "--stop-us", "3", "--trace-on-stop", trace, "--out", dir);
        Assert.Equal(1, r.Exit);
        Assert.Contains("soak ended: a single noise was above --stop-us", r.Out, StringComparison.Ordinal);
        Assert.Matches(@"stopped at a single noise of \d+ ns on cpu \d", r.Out);
        Assert.StartsWith("# tracer: nop\n", File.ReadAllText(trace), StringComparison.Ordinal);
        using var snapshot = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "snapshot.json")));
        Assert.True(snapshot.RootElement.GetProperty("stoppedAt").GetProperty("noiseNs").GetInt64() > 3000);
        Assert.Contains("data-kind=\"stop\"", File.ReadAllText(Path.Combine(dir, "latest", "report.html")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_soak_snapshot_holds_each_cpu_s_percentiles_and_its_hdr_histogram()
    {
        var dir = P("soak");
        Assert.Equal(0, Taskisol.Run("soak", "default", "--for", "3s", "--snapshot-every", "3s", "--out", dir).Exit);
        using var snapshot = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "snapshot.json")));
        var cpu0 = snapshot.RootElement.GetProperty("cpus")[0];
        var latency = cpu0.GetProperty("latency");
        var h = LatencyHistogram.Decode(Convert.FromBase64String(latency.GetProperty("hdrHistogram").GetString()!));
        Assert.Equal(cpu0.GetProperty("noises").GetInt64(), h.Count);
        Assert.Equal(h.AtPercentile(99.9), latency.GetProperty("p99.9Ns").GetInt64());
        Assert.Equal(h.MaxNs, latency.GetProperty("maxNs").GetInt64());
        Assert.True(h.Count > 0);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("1.5")]
    [InlineData("")]
    [InlineData("1e3")]
    [InlineData("99999999999999999999")]
    public void A_bad_stop_us_exits_2_with_one_line_and_writes_nothing(string value)
    {
        foreach (var args in new[] { new[] { "run", "default", "--stop-us", value, "--html", P("x.html") }, ["soak", "default", "--for", "1s", "--stop-us", value, "--out", P("soak")] })
        {
            var r = Taskisol.Run(args);
            Assert.Equal(2, r.Exit);
            Assert.Equal($"taskisol {args[0]}: --stop-us: '{value}' is not a whole number of microseconds above 0 (e.g. --stop-us 20)\n", r.Err);
            Assert.Empty(Directory.GetFileSystemEntries(_root));
        }
    }

    [Fact]
    public void Trace_on_stop_without_stop_us_exits_2()
    {
        var r = Taskisol.Run("run", "default", "--trace-on-stop", P("t.txt"));
        Assert.Equal(2, r.Exit);
        Assert.Equal("taskisol run: --trace-on-stop: needs --stop-us N (the trace is of the window before the noise that stops the run)\n", r.Err);
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    [Fact]
    public void Noise_cpus_is_an_alias_of_cpus()
    {
        var a = Taskisol.Run("run", "default", "--duration", "1s", "--cpus", "1-2");
        var b = Taskisol.Run("run", "default", "--duration", "1s", "--noise-cpus", "1-2");
        Assert.Equal((0, 0), (a.Exit, b.Exit));
        Assert.Equal(Regex.Replace(a.Out, @"in \d+\.\d+ s", string.Empty), Regex.Replace(b.Out, @"in \d+\.\d+ s", string.Empty));
        Assert.Contains("  0 not measured", a.Out, StringComparison.Ordinal);
    }
}
