using PuppeteerSharp;
using Xunit.Abstractions;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// Each kind of HTML report (a run's, a replay's, a soak's) opened in a real browser: Debian's <c>chromium</c>,
/// headless, driven by PuppeteerSharp (which never downloads a browser here: it is pointed at the installed one).
/// The page must load with no script error and no console error, draw its series and markers, link every marker to
/// a finding on the page, and fit the window's width; a screenshot of each is kept under the test output directory.
/// .ci/run installs chromium; without it the test is skipped, saying so.
/// </summary>
public sealed class BrowserReportTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Where the browser is: <c>TASKISOL_CHROMIUM</c>, else Debian's package's path.</summary>
    private static readonly string Chromium = Environment.GetEnvironmentVariable("TASKISOL_CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium";

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"browser-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [SkippableFact]
    public async Task Every_kind_of_report_opens_in_chromium_without_errors_with_its_series_and_markers()
    {
        Skip.IfNot(File.Exists(Chromium), $"chromium is not installed at {Chromium} (apt-get install -y chromium; .ci/run installs it)");
        Directory.CreateDirectory(_root);

        // A soak that finds violations (with a reproducer), its replay, and a run: one report of each kind.
        var soak = Path.Combine(_root, "soak");
        Assert.Equal(1, Taskisol.Run("soak", "residual-tick", "--for", "4s", "--snapshot-every", "4s", "--seed", "5", "--out", soak).Exit);
        var replay = Path.Combine(_root, "replay.html");
        Assert.Equal(0, Taskisol.Run("replay", Path.Combine(soak, "latest", "reproducer.json"), "--html", replay).Exit);
        var run = Path.Combine(_root, "run.html");
        Assert.Equal(0, Taskisol.Run("run", Path.Combine(GoldenOutputTests.RepoRoot, "scenarios", "tlb-shootdown.yaml"), "--quiet", "--html", run).Exit);

        var artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts", "reports");
        Directory.CreateDirectory(artifacts);
        var options = new LaunchOptions
        {
            Headless = true,
            ExecutablePath = Chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            Timeout = 20_000,
        };
        await using var browser = await Puppeteer.LaunchAsync(options);
        foreach (var (kind, path) in new[] { ("soak", Path.Combine(soak, "latest", "report.html")), ("replay", replay), ("run", run) })
        {
            await using var page = await browser.NewPageAsync();
            var errors = new List<string>();
            page.Console += (_, e) =>
            {
                if (e.Message.Type == ConsoleType.Error)
                {
                    errors.Add("console: " + e.Message.Text);
                }
            };
            page.PageError += (_, e) => errors.Add("page: " + e.Message);
            page.RequestFailed += (_, e) => errors.Add("request: " + e.Request.Url);
            await page.SetViewportAsync(new ViewPortOptions { Width = 1000, Height = 800 });
            var response = await page.GoToAsync(new Uri(path).AbsoluteUri, WaitUntilNavigation.Load);
            Assert.True(response is null || response.Ok, $"{kind}: {path} did not load");

            Assert.True(await page.EvaluateExpressionAsync<int>("document.querySelectorAll('svg polyline.series').length") >= 1, $"{kind}: no series drawn");
            Assert.True(await page.EvaluateExpressionAsync<int>("document.querySelectorAll('svg rect.bar').length") >= 1, $"{kind}: no histogram bar");
            Assert.True(await page.EvaluateExpressionAsync<int>("document.querySelectorAll('svg a.marker').length") >= 1, $"{kind}: no finding marker");
            Assert.True(await page.EvaluateExpressionAsync<int>("document.querySelectorAll('svg.timeline rect.slice').length") >= 1, $"{kind}: no timeline slice");
            Assert.True(await page.EvaluateExpressionAsync<bool>("[...document.querySelectorAll('svg a.marker')].every(a => document.getElementById(a.getAttribute('href').slice(1)) !== null)"), $"{kind}: a marker links to no finding");
            Assert.True(await page.EvaluateExpressionAsync<bool>("[...document.querySelectorAll('svg')].every(s => s.getBoundingClientRect().width <= document.documentElement.clientWidth + 1)"), $"{kind}: a chart is wider than the window");
            Assert.True(await page.EvaluateExpressionAsync<bool>("document.querySelector('svg.noise-over-time').getBoundingClientRect().width > 500"), $"{kind}: the chart does not use the window's width");

            var png = Path.Combine(artifacts, $"report-{kind}.png");
            await page.ScreenshotAsync(png, new ScreenshotOptions { FullPage = true });
            Assert.True(new FileInfo(png).Length > 0);
            output.WriteLine($"{kind} report screenshot: {png}");
            Assert.Empty(errors);
        }
    }
}
