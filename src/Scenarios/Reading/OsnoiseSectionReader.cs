using TaskIsolation.Reports;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// <c>osnoise:</c>: what the noise table measures, as <c>rtla osnoise</c>'s options say it (docs/reports.md): the CPUs
/// (<c>-c</c>), the period (<c>-p</c>) and a warm-up before anything is counted (<c>--warm-up</c>). It changes nothing
/// the machine does.
/// </summary>
internal sealed class OsnoiseSectionReader(ReadContext context) : SectionReader(context)
{
    public OsnoiseSettings Read(YamlNode node)
    {
        var settings = OsnoiseSettings.Default;
        var f = Yaml.Fields(node, "osnoise", ScenarioLoader.Keys["osnoise"]);
        if (f is null)
        {
            return settings;
        }

        if (f.TryGetValue("cpus", out var cpus) && CpusOf(cpus.Value, "osnoise.cpus") is { } mask)
        {
            settings = settings with { Cpus = mask };
        }

        if (f.TryGetValue("period", out var period) && Yaml.Duration(period.Value, "osnoise.period", positive: true) is { } ns)
        {
            settings = settings with { PeriodNs = ns };
        }

        if (f.TryGetValue("warm_up", out var warmUp) && Yaml.Duration(warmUp.Value, "osnoise.warm_up", positive: false) is { } w)
        {
            settings = settings with { WarmUpNs = w };
        }

        return settings;
    }
}
