using System.Collections.Immutable;
using System.Globalization;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Programs;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// <c>expectations:</c>: what a run must show (violations, interrupts, kills, exits, prctl results, signals,
/// liveness, dmesg lines, sysfs files, elapsed times, noise), each built with its record's constructor.
/// </summary>
internal sealed class ExpectationReader(ReadContext context) : SectionReader(context)
{
    public Expectation? Read(YamlNode node, string what)
    {
        var tagged = Yaml.Tagged(node, what, ScenarioLoader.Keys["expectation"]);
        if (tagged is not { } t)
        {
            return null;
        }

        var (kind, keyNode, value) = t;
        var at = $"{what}.{kind}";
        var empty = value is null || YamlReader.IsNull(value);
        switch (kind)
        {
            case "no_violations":
                if (empty)
                {
                    return new NoViolations(null);
                }

                if (value is YamlMappingNode)
                {
                    var f = Yaml.Fields(value!, at, ScenarioLoader.Keys["no_violations"]);
                    return f is null ? null : f.TryGetValue("cpus", out var c) ? (CpusOf(c.Value, $"{at}.cpus") is { } m ? new NoViolations(m) : null) : new NoViolations(null);
                }

                return CpusOf(value!, at) is { } mask ? new NoViolations(mask) : null;
            case "no_liveness_failures":
                if (!empty)
                {
                    Yaml.Error(value, $"{at}: takes no value, write '- no_liveness_failures'");
                    return null;
                }

                return new NoLivenessFailures();
            case "liveness_failure":
                if (empty)
                {
                    return new LivenessFailure(null);
                }

                {
                    var f = Yaml.Fields(value!, at, ScenarioLoader.Keys["liveness_failure"]);
                    var task = f is not null && f.TryGetValue("task", out var tk) ? TaskRef(tk.Value, $"{at}.task") : null;
                    return f is null || (f.ContainsKey("task") && task is null) ? null : new LivenessFailure(task);
                }

            case "dmesg" or "no_dmesg":
                if (empty)
                {
                    Yaml.Error(value ?? keyNode, $"{at}: needs the text to look for");
                    return null;
                }

                return Yaml.Text(value!, at) is { } text ? new DmesgLine(text, kind == "no_dmesg") : null;
            case "one_of":
                return OneOfExpectation(value ?? keyNode, empty, at);
        }

        if (empty)
        {
            Yaml.Error(value ?? keyNode, $"{at}: needs a mapping (see docs/scenarios.md)");
            return null;
        }

        var fields = Yaml.Fields(value!, at, ScenarioLoader.Keys[kind == "prctl" ? "prctl_returns" : kind]);
        if (fields is null)
        {
            return null;
        }

        var before = Yaml.Errors.Count;
        Expectation? result = kind switch
        {
            "violations" => new ViolationCount(OptCpus(fields, at), OptKind(fields, at), OptTask(fields, at), Count(fields, value!, at)),
            "interrupts" => new InterruptCount(OptCpus(fields, at), OptKind(fields, at), Count(fields, value!, at)),
            "killed" => Required(fields, value!, at, "task", v => TaskRef(v, $"{at}.task")) is { } kt
                ? new Killed(kt, fields.TryGetValue("signal", out var ks) ? Yaml.SignalNumber(ks.Value, $"{at}.signal", 1) : null, fields.TryGetValue("reason", out var kr) ? Yaml.Text(kr.Value, $"{at}.reason") : null)
                : null,
            "exited" => Required(fields, value!, at, "task", v => TaskRef(v, $"{at}.task")) is { } et
                ? new Exited(et, fields.TryGetValue("code", out var ec) ? (int)(Yaml.Integer(ec.Value, $"{at}.code", 0, 255) ?? 0) : 0)
                : null,
            "prctl" => PrctlExpectation(fields, value!, at),
            "sysfs" => SysfsExpectation(fields, value!, at),
            "elapsed" => ElapsedExpectation(fields, value!, at),
            "max_noise" => new MaxNoise(OptCpus(fields, at), Range(fields, value!, at)),
            "signals" => Required(fields, value!, at, "task", v => TaskRef(v, $"{at}.task")) is { } st
                ? new SignalCount(st, fields.TryGetValue("signal", out var ss) ? Yaml.SignalNumber(ss.Value, $"{at}.signal", 1) : null, Count(fields, value!, at))
                : null,
            _ => null,
        };
        return Yaml.Errors.Count == before ? result : null;
    }

    /// <summary>
    /// <c>one_of: {NAME: [expectation, …], NAME: […]}</c>: the outcomes of a race, at least two, each a name and a
    /// non-empty list of expectations (any form, <c>one_of</c> too).
    /// </summary>
    private OneOf? OneOfExpectation(YamlNode node, bool empty, string what)
    {
        const string Form = "a mapping of two or more outcomes, each a name and a list of expectations (see docs/scenarios.md)";
        if (empty || node is not YamlMappingNode map)
        {
            Yaml.Error(node, $"{what}: found {(empty ? "nothing" : YamlReader.Shown(node))}, expected {Form}");
            return null;
        }

        var before = Yaml.Errors.Count;
        var outcomes = ImmutableArray.CreateBuilder<Outcome>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            var name = k is YamlScalarNode { Value: { } s } && !YamlReader.IsNull(k) ? s.Trim() : null;
            if (string.IsNullOrEmpty(name))
            {
                Yaml.Error(k, $"{what}: found {YamlReader.Shown(k)} as an outcome's name, expected words that say what happens");
                continue;
            }

            if (!names.Add(name))
            {
                Yaml.Error(k, $"{what}: outcome '{YamlReader.Clip(name)}' given twice");
                continue;
            }

            var at = $"{what}.{YamlReader.Clip(name, 30)}";
            if (YamlReader.IsNull(v) || v is YamlSequenceNode { Children.Count: 0 })
            {
                Yaml.Error(v, $"{at}: an outcome needs at least one expectation ('- ' items)");
                continue;
            }

            var list = ReadList(v, at, Read);
            outcomes.Add(new Outcome(name, list));
        }

        if (map.Children.Count < 2)
        {
            Yaml.Error(node, $"{what}: found {map.Children.Count} outcome(s), expected two or more (a single outcome is a list of plain expectations)");
        }

        return Yaml.Errors.Count == before ? new OneOf(outcomes.ToImmutable()) : null;
    }

    private Expectation? PrctlExpectation(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
    {
        var task = Required(f, at, what, "task", v => TaskRef(v, $"{what}.task"));
        var call = f.TryGetValue("call", out var c) ? Yaml.Integer(c.Value, $"{what}.call", 1, int.MaxValue) : 1;
        var returns = Required(f, at, what, "returns", v => ReturnValue(v, $"{what}.returns"));
        return task is not null && call is { } n && returns is { } ret ? new PrctlReturns(task, (int)n, ret) : null;
    }

    private SysfsReads? SysfsExpectation(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
    {
        var file = Required(f, at, what, "file", v => Yaml.Scalar(v, $"{what}.file", "a file of /sys/devices/system/cpu"));
        if (file is not null && !SysfsReads.Files.Contains(file))
        {
            Yaml.Error(f["file"].Value, $"{what}.file: unknown file '{YamlReader.Clip(file)}'{ScenarioNames.DidYouMean(file, SysfsReads.Files)}, expected one of {string.Join(", ", SysfsReads.Files)}");
            return null;
        }

        // The list it must read; "" is the empty set (the file reads a lone newline).
        var cpus = Required(f, at, what, "cpus", v => Yaml.Cpus(v, $"{what}.cpus", Context.NBits, nonEmpty: false));
        return file is not null && cpus is not null ? new SysfsReads(file, cpus) : null;
    }

    private Elapsed? ElapsedExpectation(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
    {
        var from = Required(f, at, what, "from", v => Point(v, $"{what}.from"));
        var to = Required(f, at, what, "to", v => Point(v, $"{what}.to"));
        var range = Range(f, at, what);
        return from is not null && to is not null ? new Elapsed(from, to, range) : null;
    }

    /// <summary><c>{task: parent, starts: fork}</c>, <c>{task: parent, ends: write, call: 2}</c>, <c>{task: child, exits: true}</c>.</summary>
    internal EventPoint? Point(YamlNode node, string what)
    {
        var f = Yaml.Fields(node, what, ScenarioLoader.Keys["event_point"]);
        if (f is null)
        {
            return null;
        }

        var task = Required(f, node, what, "task", v => TaskRef(v, $"{what}.task"));
        var given = new[] { "starts", "ends", "exits" }.Where(f.ContainsKey).ToList();
        if (given.Count != 1)
        {
            Yaml.Error(node, $"{what}: give exactly one of 'starts: STEP', 'ends: STEP' or 'exits: true'{(given.Count == 0 ? string.Empty : ", not " + string.Join(" and ", given))}");
            return null;
        }

        var call = 1L;
        if (f.TryGetValue("call", out var c))
        {
            if (given[0] == "exits")
            {
                Yaml.Error(c.Key, $"{what}.call: a task exits once, 'call' goes with 'starts' or 'ends'");
                return null;
            }

            call = Yaml.Integer(c.Value, $"{what}.call", 1, int.MaxValue) ?? 0;
        }

        if (given[0] == "exits")
        {
            if (Yaml.Bool(f["exits"].Value, $"{what}.exits") is not { } yes)
            {
                return null;
            }

            if (!yes)
            {
                Yaml.Error(f["exits"].Value, $"{what}.exits: only 'exits: true' is a moment of the run");
                return null;
            }

            return task is null ? null : new EventPoint(task, PointKind.Exits, null, 1);
        }

        var step = Yaml.Scalar(f[given[0]].Value, $"{what}.{given[0]}", "a step such as fork, write or compute");
        if (step is not null && step.Trim().Length == 0)
        {
            Yaml.Error(f[given[0]].Value, $"{what}.{given[0]}: expected a step such as fork, write or compute");
            step = null;
        }

        var kind = given[0] == "starts" ? PointKind.Starts : PointKind.Ends;
        return task is null || step is null || call < 1 ? null : new EventPoint(task, kind, step.Trim(), (int)call);
    }

    private DurationRange Range(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
    {
        var lo = f.TryGetValue("at_least", out var l) ? Yaml.Duration(l.Value, $"{what}.at_least", positive: false) : null;
        var hi = f.TryGetValue("at_most", out var h) ? Yaml.Duration(h.Value, $"{what}.at_most", positive: false) : null;
        if (!f.ContainsKey("at_least") && !f.ContainsKey("at_most"))
        {
            Yaml.Error(at, $"{what}: give 'at_least' and/or 'at_most' (durations such as 400ms)");
        }
        else if (lo > hi)
        {
            Yaml.Error(at, $"{what}: at_least {Durations.Format(lo!.Value)} is above at_most {Durations.Format(hi!.Value)}");
        }

        return new DurationRange(lo, hi);
    }

    /// <summary><c>0</c>, <c>3</c>, <c>-EINVAL</c>, <c>-22</c>.</summary>
    private long? ReturnValue(YamlNode node, string what)
    {
        var s = Yaml.Scalar(node, what, "a return value such as 0 or -EINVAL");
        if (s is null)
        {
            return null;
        }

        if (YamlReader.TryParseInteger(s, out var v))
        {
            return v;
        }

        if (s.StartsWith('-') && Errno.TryParse(s[1..], out var errno))
        {
            return -errno;
        }

        Yaml.Error(node, $"{what}: found '{YamlReader.Clip(s)}', expected a number or -ERRNO such as -EINVAL or -EAGAIN");
        return null;
    }

    private CpuMask? OptCpus(Dictionary<string, (YamlNode Key, YamlNode Value)> f, string at) =>
        f.TryGetValue("cpus", out var c) ? CpusOf(c.Value, $"{at}.cpus") : null;

    private string? OptTask(Dictionary<string, (YamlNode Key, YamlNode Value)> f, string at) =>
        f.TryGetValue("task", out var t) ? TaskRef(t.Value, $"{at}.task") : null;

    internal InterruptKind? OptKind(Dictionary<string, (YamlNode Key, YamlNode Value)> f, string at)
    {
        if (!f.TryGetValue("kind", out var k) || Yaml.Scalar(k.Value, $"{at}.kind", "an interrupt kind") is not { } s)
        {
            return null;
        }

        if (ScenarioNames.TryParseKind(s, out var kind))
        {
            return kind;
        }

        Yaml.Error(k.Value, $"{at}.kind: unknown interrupt kind '{YamlReader.Clip(s)}'{ScenarioNames.DidYouMean(s, ScenarioNames.Kinds)}, expected one of {string.Join(", ", ScenarioNames.Kinds)}");
        return null;
    }

    private CountRange Count(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
    {
        if (f.TryGetValue("count", out var c))
        {
            if (f.ContainsKey("at_least") || f.ContainsKey("at_most"))
            {
                Yaml.Error(at, $"{what}: give 'count' (exactly) or 'at_least'/'at_most', not both");
            }

            var n = Yaml.Integer(c.Value, $"{what}.count", 0, long.MaxValue);
            return new CountRange(n, n);
        }

        var lo = f.TryGetValue("at_least", out var l) ? Yaml.Integer(l.Value, $"{what}.at_least", 0, long.MaxValue) : null;
        var hi = f.TryGetValue("at_most", out var h) ? Yaml.Integer(h.Value, $"{what}.at_most", 0, long.MaxValue) : null;
        if (lo is null && hi is null && !f.ContainsKey("at_least") && !f.ContainsKey("at_most"))
        {
            // "violations: {cpus: 3}" means some: at least one.
            return CountRange.Some;
        }

        if (lo > hi)
        {
            Yaml.Error(at, string.Create(CultureInfo.InvariantCulture, $"{what}: at_least {lo} is above at_most {hi}"));
        }

        return new CountRange(lo, hi);
    }
}
