using System.Collections.Immutable;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// <c>monitors:</c>: properties checked at every event (<see cref="NoInterruptMonitor"/>, <see cref="MaxSingleNoiseMonitor"/>,
/// <see cref="ReachesUserMonitor"/>), each a one-key mapping; moments and interrupt kinds are read as expectations
/// read them. Names are unique: a monitor without one is named by its kind.
/// </summary>
internal sealed class MonitorReader(ReadContext context, ExpectationReader expectations) : SectionReader(context)
{
    public ImmutableArray<ScenarioMonitor> ReadAll(YamlNode node)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        return ReadList(node, "monitors", (item, what) =>
        {
            var m = Read(item, what, out var nameNode);
            if (m is null)
            {
                return null;
            }

            if (names.TryGetValue(m.Name, out var first))
            {
                Yaml.Error(nameNode ?? item, $"{what}: monitor name '{YamlReader.Clip(m.Name)}' is already used by {first}: give each monitor its own 'name'");
                return null;
            }

            names[m.Name] = what;
            return m;
        });
    }

    private ScenarioMonitor? Read(YamlNode node, string what, out YamlNode? nameNode)
    {
        nameNode = null;
        var tagged = Yaml.Tagged(node, what, ScenarioLoader.Keys["monitor"]);
        if (tagged is not { } t)
        {
            return null;
        }

        var (kind, keyNode, value) = t;
        var at = $"{what}.{kind}";
        if (value is null || YamlReader.IsNull(value))
        {
            Yaml.Error(value ?? keyNode, $"{at}: needs a mapping (see docs/scenarios.md)");
            return null;
        }

        var f = Yaml.Fields(value, at, ScenarioLoader.Keys[kind]);
        if (f is null)
        {
            return null;
        }

        var before = Yaml.Errors.Count;
        var name = kind;
        if (f.TryGetValue("name", out var n))
        {
            nameNode = n.Value;
            var given = Yaml.Text(n.Value, $"{at}.name");
            if (given is not null && (string.IsNullOrWhiteSpace(given) || given.Any(char.IsControl) || given.Length > 64))
            {
                Yaml.Error(n.Value, $"{at}.name: '{YamlReader.Clip(given)}' is not a monitor name: 1 to 64 printable characters, not all blank");
            }
            else if (given is not null)
            {
                name = given.Trim();
            }
        }

        ScenarioMonitor? result = kind switch
        {
            NoInterruptMonitor.Key => NoInterrupt(f, value, at, name),
            MaxSingleNoiseMonitor.Key => Required(f, value, at, "at_most", v => Yaml.Duration(v, $"{at}.at_most", positive: false)) is { } most
                ? new MaxSingleNoiseMonitor(name, f.TryGetValue("cpus", out var c) ? CpusOf(c.Value, $"{at}.cpus") : null, most)
                : null,
            ReachesUserMonitor.Key => ReachesUser(f, value, at, name),
            _ => null,
        };
        return Yaml.Errors.Count == before ? result : null;
    }

    private NoInterruptMonitor? NoInterrupt(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what, string name)
    {
        var cpus = Required(f, at, what, "cpus", v => CpusOf(v, $"{what}.cpus"));
        var kind = expectations.OptKind(f, what);
        var from = Required(f, at, what, "from", v => expectations.Point(v, $"{what}.from"));
        var to = f.TryGetValue("to", out var t) ? expectations.Point(t.Value, $"{what}.to") : from is null ? null : new EventPoint(from.Task, PointKind.Exits, null, 1);
        return cpus is not null && from is not null && to is not null ? new NoInterruptMonitor(name, cpus, kind, from, to) : null;
    }

    private ReachesUserMonitor? ReachesUser(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what, string name)
    {
        var task = Required(f, at, what, "task", v => TaskRef(v, $"{what}.task"));
        var after = "prctl";
        if (f.TryGetValue("after", out var a))
        {
            var step = Yaml.Scalar(a.Value, $"{what}.after", "a step such as prctl, write or fork");
            if (step is null || step.Trim().Length == 0)
            {
                if (step is not null)
                {
                    Yaml.Error(a.Value, $"{what}.after: expected a step such as prctl, write or fork");
                }

                return null;
            }

            after = step.Trim();
        }

        var within = Required(f, at, what, "within", v => Yaml.Duration(v, $"{what}.within", positive: true));
        return task is not null && within is { } ns ? new ReachesUserMonitor(name, task, after, ns) : null;
    }
}
