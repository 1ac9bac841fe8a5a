using TaskIsolation.Host.Html;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Scenarios;
using TaskIsolation.Soak;

namespace TaskIsolation.Host.Soak;

/// <summary>The soak's HTML report (<see cref="ReportHtml"/>, the same page <c>run --html</c> writes), beside its snapshot files.</summary>
internal static class HtmlReport
{
    /// <summary>The file name it is written under, beside the snapshot files.</summary>
    public const string FileName = "report.html";

    /// <summary>The page for <paramref name="s"/>, a soak of <paramref name="scenario"/> on a machine of <paramref name="nrCpus"/> CPUs.</summary>
    public static string Render(SoakSnapshot s, Scenario scenario, int nrCpus, ModelTimings timings) =>
        ReportHtml.Render(NoiseReports.Of(s, scenario, nrCpus, timings));
}
