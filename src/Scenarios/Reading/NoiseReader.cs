using System.Collections.Immutable;
using System.Globalization;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Programs;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// <c>noise:</c>: device IRQs, NMIs, periodic housekeeping tasks and POSIX-timer tasks, each built with its record's
/// constructor; a periodic task's <c>do</c> is read by the <see cref="ProgramReader"/>.
/// </summary>
internal sealed class NoiseReader(ReadContext context, ProgramReader programs) : SectionReader(context)
{
    public NoiseSource? Read(YamlNode node, string what)
    {
        var tagged = Yaml.Tagged(node, what, ScenarioLoader.Keys["noise"]);
        if (tagged is not { } t)
        {
            return null;
        }

        var (kind, keyNode, value) = t;
        var at = $"{what}.{kind}";
        if (value is null)
        {
            Yaml.Error(keyNode, $"{at}: needs a mapping (see docs/scenarios.md)");
            return null;
        }

        switch (kind)
        {
            case "irq":
                {
                    var f = Yaml.Fields(value, at, ScenarioLoader.Keys["irq"]);
                    if (f is null)
                    {
                        return null;
                    }

                    var irq = Required(f, value, at, "number", v => Yaml.Integer(v, $"{at}.number", 0, 4095));
                    if (irq is { } number && f.TryGetValue("number", out var numberNode))
                    {
                        if (Context.Irqs.TryGetValue(number, out var line))
                        {
                            Yaml.Error(numberNode.Value, string.Create(CultureInfo.InvariantCulture, $"{at}.number: irq {number} is already used at line {line}: one source per IRQ line"));
                        }
                        else
                        {
                            Context.Irqs[number] = numberNode.Value.Start.Line;
                        }
                    }

                    var name = f.TryGetValue("name", out var nm) ? Yaml.Text(nm.Value, $"{at}.name") : "device";
                    if (name is not null && (string.IsNullOrWhiteSpace(name) || name.Any(char.IsControl) || name.Length > 64))
                    {
                        Yaml.Error(nm.Value, $"{at}.name: '{YamlReader.Clip(name)}' is not a handler name: 1 to 64 printable characters, not all blank");
                        name = null;
                    }
                    var cpus = f.TryGetValue("cpus", out var c) ? CpusOf(c.Value, $"{at}.cpus") : null;
                    var period = Period(f, value, at);
                    var first = f.TryGetValue("first", out var fi) ? Yaml.Duration(fi.Value, $"{at}.first", positive: false) : 0;
                    if (f.ContainsKey("cpus") && cpus is null)
                    {
                        return null;
                    }

                    return irq is { } n && name is not null && period is { } p && first is { } fa ? new IrqNoise((int)n, name, cpus, p, fa) : null;
                }

            case "nmi":
                {
                    var f = Yaml.Fields(value, at, ScenarioLoader.Keys["nmi"]);
                    if (f is null)
                    {
                        return null;
                    }

                    var cpus = Required(f, value, at, "cpus", v => CpusOf(v, $"{at}.cpus"));
                    var period = Period(f, value, at);
                    var first = f.TryGetValue("first", out var fi) ? Yaml.Duration(fi.Value, $"{at}.first", positive: false) : 0;
                    return cpus is not null && period is { } p && first is { } fa ? new NmiNoise(cpus, p, fa) : null;
                }

            case "periodic":
                {
                    var f = Yaml.Fields(value, at, ScenarioLoader.Keys["periodic"]);
                    if (f is null)
                    {
                        return null;
                    }

                    var name = Required(f, value, at, "name", v => Yaml.TaskName(v, $"{at}.name"));
                    var cpus = Required(f, value, at, "cpus", v => CpusOf(v, $"{at}.cpus"));
                    var every = Required(f, value, at, "every", v => Yaml.Duration(v, $"{at}.every", positive: true));
                    var start = f.TryGetValue("start", out var st) ? Yaml.Duration(st.Value, $"{at}.start", positive: false) : 0;
                    var program = Required(f, value, at, "do", v => (ImmutableArray<Operation>?)(v is YamlSequenceNode ? programs.Program(v, $"{at}.do") : programs.Operation(v, $"{at}.do") is { } one ? [one] : []));
                    if (name is not null)
                    {
                        Context.Declared.Add((name, f["name"].Value));
                    }

                    return name is not null && cpus is not null && every is { } e && start is { } s && program is { } prog
                        ? new PeriodicNoise(name, cpus, e, s, prog)
                        : null;
                }

            default:
                {
                    var f = Yaml.Fields(value, at, ScenarioLoader.Keys["posix_timer_noise"]);
                    if (f is null)
                    {
                        return null;
                    }

                    var name = Required(f, value, at, "name", v => Yaml.TaskName(v, $"{at}.name"));
                    var cpus = Required(f, value, at, "cpus", v => CpusOf(v, $"{at}.cpus"));
                    var every = Required(f, value, at, "every", v => Yaml.Duration(v, $"{at}.every", positive: true));
                    var expires = Required(f, value, at, "expires", v => Yaml.Duration(v, $"{at}.expires", positive: true));
                    var signal = f.TryGetValue("signal", out var sg) ? Yaml.SignalNumber(sg.Value, $"{at}.signal", 1) : Signal.SIGALRM;
                    if (signal is Signal.SIGKILL or Signal.SIGSTOP)
                    {
                        Yaml.Error(sg.Value, $"{at}.signal: {Signal.Name(signal.Value)} cannot be caught, expected a signal the task can handle");
                        signal = null;
                    }

                    var perProcess = f.TryGetValue("per_process", out var pp) ? Yaml.Bool(pp.Value, $"{at}.per_process") : false;
                    var start = f.TryGetValue("start", out var st) ? Yaml.Duration(st.Value, $"{at}.start", positive: false) : 0;
                    if (name is not null)
                    {
                        Context.Declared.Add((name, f["name"].Value));
                    }

                    return name is not null && cpus is not null && every is { } e && expires is { } x && signal is { } sig && perProcess is { } per && start is { } s
                        ? new PosixTimerNoise(name, cpus, e, x, sig, per, s)
                        : null;
                }
        }
    }

    /// <summary><c>period: 1ms</c> or <c>rate: 1000</c> (per second), exactly one of them.</summary>
    private long? Period(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
    {
        if (f.ContainsKey("period") == f.ContainsKey("rate"))
        {
            Yaml.Error(at, $"{what}: give exactly one of 'period' (e.g. 1ms) and 'rate' (per second, e.g. 1000)");
            return null;
        }

        if (f.TryGetValue("period", out var p))
        {
            return Yaml.Duration(p.Value, $"{what}.period", positive: true);
        }

        var rate = Yaml.Integer(f["rate"].Value, $"{what}.rate", 1, 1_000_000_000);
        return rate is { } hz ? 1_000_000_000 / hz : null;
    }
}
