using System.Globalization;
using System.Net;
using System.Text.Json;
using TaskIsolation.Reports;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// The noise figures of one run, wherever they are shown: <c>run</c>'s table and JSON report, and a soak's table,
/// JSON report, snapshot, summary, progress line and HTML report agree (one definition of the percentages,
/// <see cref="NoiseShare"/>); and the CPUs measured are chosen with <c>--noise-cpus</c> or the scenario's
/// <c>osnoise.cpus</c>, bad lists refused with exit 2.
/// </summary>
public sealed class NoiseReportTests : IDisposable
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"noise-cli-{Guid.NewGuid():N}");

    public NoiseReportTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_table_the_json_the_soak_display_and_the_html_report_agree_on_one_run()
    {
        var report = P("r.json");
        var run = Taskisol.Run("run", "default", "--duration", "3s", "--cpus", "0,3", "--report", report);
        var dir = P("soak");
        var soak = Taskisol.Run("soak", "default", "--for", "3s", "--snapshot-every", "3s", "--cpus", "0,3", "--out", dir);
        Assert.Equal((0, 0), (run.Exit, soak.Exit));

        // The same run: run's JSON figures are the soak's.
        using var runJson = JsonDocument.Parse(File.ReadAllText(report));
        using var soakJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "noise.json")));
        var cpus = runJson.RootElement.GetProperty("cpus");
        Assert.Equal(cpus.GetRawText(), soakJson.RootElement.GetProperty("cpus").GetRawText());
        Assert.Equal("0,3", runJson.RootElement.GetProperty("osnoise").GetProperty("cpus").GetString());

        // The tables: run's and the soak's noise.txt, row for row.
        var table = File.ReadAllText(Path.Combine(dir, "latest", "noise.txt"));
        var rows = TableRows(table);
        Assert.Equal(rows, TableRows(run.Out));

        using var snapshot = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "latest", "snapshot.json")));
        var snapCpus = snapshot.RootElement.GetProperty("cpus");
        var summary = File.ReadAllText(Path.Combine(dir, "latest", "summary.txt"));
        var progress = soak.Out.Split('\n').Single(l => l.StartsWith("soak: ", StringComparison.Ordinal) && l.EndsWith("(final)", StringComparison.Ordinal));
        var series = snapshot.RootElement.GetProperty("series").EnumerateArray().Single();
        var html = WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(dir, "latest", "report.html")));
        foreach (var c in cpus.EnumerateArray())
        {
            var cpu = c.GetProperty("cpu").GetInt32();
            var measured = c.GetProperty("measured").GetBoolean();
            var runtime = c.GetProperty("runtime_ns").GetInt64();
            var noise = c.GetProperty("noise_ns").GetInt64();
            var share = new NoiseShare(runtime, noise);
            Assert.Equal(measured, cpu is 0 or 3);
            Assert.Equal(measured, share.Measured);

            // The JSON's percentage is the one definition's, to the digit.
            var available = c.GetProperty("cpu_available_percent");
            Assert.Equal(measured ? share.AvailableText : "null", available.GetRawText());

            // The table's row.
            long F(string name) => c.GetProperty(name).GetInt64();
            Assert.Equal(
                measured
                    ? $"{cpu,3} {"#" + F("periods"),-7} {runtime,16} {noise,16} {share.AvailableText,11} {F("max_noise_ns"),16} {F("max_single_ns"),16} {F("hw"),8} {F("nmi"),8} {F("irq"),8} {F("softirq"),8} {F("thread"),8}"
                    : $"{cpu,3} {NoiseShare.NotMeasured}",
                rows[cpu]);

            // The soak's snapshot.json.
            var s = snapCpus[cpu];
            Assert.Equal((measured, runtime, noise), (s.GetProperty("measured").GetBoolean(), s.GetProperty("runtimeNs").GetInt64(), s.GetProperty("noiseNs").GetInt64()));
            Assert.Equal(available.GetRawText(), s.GetProperty("cpuAvailablePercent").GetRawText());
            Assert.Equal(c.GetProperty("max_noise_ns").GetInt64(), s.GetProperty("maxNoiseNs").GetInt64());

            // The summary, the progress line (noise = 100 - % CPU Aval) and the series the HTML chart draws.
            Assert.Contains(measured ? $"cpu {cpu}: runtime {runtime} ns, noise {noise} ns ({share.AvailableText}% CPU available)" : $"cpu {cpu}: not measured\n", summary, StringComparison.Ordinal);
            Assert.Contains(measured ? $" cpu{cpu} {share.NoiseText}%" : $" cpu{cpu} not measured", progress, StringComparison.Ordinal);
            if (measured)
            {
                Assert.Equal((100m - decimal.Parse(share.AvailableText, C)).ToString(C), share.NoiseText);
            }

            var point = new NoiseShare(series.GetProperty("runtimeNs")[cpu].GetInt64(), series.GetProperty("noiseNs")[cpu].GetInt64());
            Assert.Equal(share, point);
            // The HTML report draws a series for a CPU with noise; the others share one line.
            if (measured && noise > 0)
            {
                Assert.Contains($"class=\"series\" data-cpu=\"{cpu}\"", html, StringComparison.Ordinal);
            }
        }

        Assert.Contains("Not measured: cpus 1-2.", html, StringComparison.Ordinal);

        // The histogram file has a column per CPU measured, as rtla osnoise hist has one per CPU it ran on.
        var index = File.ReadAllLines(Path.Combine(dir, "latest", "hist.txt")).Single(l => l.StartsWith("Index", StringComparison.Ordinal));
        Assert.Equal(["Index", "CPU-000", "CPU-003"], index.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        // The HTML report shows the same table and summary, character for character.
        Assert.Contains(table, html, StringComparison.Ordinal);
        Assert.Contains(summary, html, StringComparison.Ordinal);
    }

    [Fact]
    public void Noise_cpus_selects_what_run_measures_and_the_rest_says_not_measured()
    {
        var r = Taskisol.Run("run", "default", "--duration", "1s", "--noise-cpus", "1-2", "--report", P("r.json"));

        Assert.Equal(0, r.Exit);
        var rows = TableRows(r.Out);
        Assert.Equal(["  0 not measured", "  3 not measured"], new[] { rows[0], rows[3] });
        Assert.StartsWith("  1 #1 ", rows[1], StringComparison.Ordinal);
        Assert.StartsWith("  2 #1 ", rows[2], StringComparison.Ordinal);
        using var json = JsonDocument.Parse(File.ReadAllText(P("r.json")));
        Assert.Equal([false, true, true, false], json.RootElement.GetProperty("cpus").EnumerateArray().Select(c => c.GetProperty("measured").GetBoolean()));
    }

    [Fact]
    public void A_scenarios_osnoise_section_is_what_run_and_soak_measure_unless_the_command_line_says_otherwise()
    {
        var file = P("measure.yaml");
        File.WriteAllText(file, BuiltInText().Replace("expectations:", "osnoise:\n  cpus: 3\n  period: 100ms\nexpectations:", StringComparison.Ordinal));

        var scenario = TableRows(Taskisol.Run("run", file, "--duration", "1s").Out);
        Assert.Equal(["  0 not measured", "  1 not measured", "  2 not measured"], scenario.Take(3));
        Assert.StartsWith("  3 #10 ", scenario[3], StringComparison.Ordinal);

        var overridden = TableRows(Taskisol.Run("run", file, "--duration", "1s", "--noise-cpus", "0").Out);
        Assert.StartsWith("  0 #10 ", overridden[0], StringComparison.Ordinal);
        Assert.Equal("  3 not measured", overridden[3]);

        var dir = P("soak");
        Assert.Equal(0, Taskisol.Run("soak", file, "--for", "1s", "--snapshot-every", "1s", "--out", dir).Exit);
        Assert.StartsWith("  3 #10 ", TableRows(File.ReadAllText(Path.Combine(dir, "latest", "noise.txt")))[3], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0-4", "--cpus: invalid CPU list: ERANGE in region '0-4' at offset 0 of '0-4': CPU 4 is past the last CPU 3")]
    [InlineData("1-x", "--cpus: invalid CPU list: EINVAL in region '1-x' at offset 0 of '1-x':")]
    [InlineData("3-1", "--cpus: invalid CPU list: EINVAL in region '3-1' at offset 0 of '3-1':")]
    [InlineData("", "--cpus: '' names no CPU, expected at least one of 0-3")]
    [InlineData(",", "--cpus: ',' names no CPU, expected at least one of 0-3")]
    public void A_bad_cpu_list_exits_2_naming_the_option_and_writes_nothing(string list, string message)
    {
        var report = P("r.json");
        var run = Taskisol.Run("run", "default", "--noise-cpus", list, "--report", report);
        Assert.Equal(2, run.Exit);
        Assert.Equal("", run.Out);
        Assert.StartsWith("taskisol run: " + message, run.Err, StringComparison.Ordinal);
        Assert.Single(run.Err.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(report));

        var dir = P("soak");
        var soak = Taskisol.Run("soak", "default", "--for", "1s", "--noise-cpus", list, "--out", dir);
        Assert.Equal(2, soak.Exit);
        Assert.Equal("", soak.Out);
        Assert.StartsWith("taskisol soak: " + message, soak.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    private static string BuiltInText() => Scenarios.BuiltInScenarios.Text("default");

    /// <summary>The rows of the noise table in <paramref name="text"/>, by CPU (the lines after its header).</summary>
    private static List<string> TableRows(string text)
    {
        var lines = text.Split('\n');
        var header = Array.FindIndex(lines, l => l.StartsWith("CPU Period", StringComparison.Ordinal));
        Assert.True(header >= 0, "no noise table");
        return [.. lines.Skip(header + 1).TakeWhile(l => l.Length > 3 && char.IsDigit(l[2]))];
    }

    private string P(string name) => Path.Combine(_root, name);
}
