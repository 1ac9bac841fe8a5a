using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using YamlDotNet.RepresentationModel;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// The machine: <c>name</c>, <c>description</c>, <c>cpus</c>, <c>arch</c>, <c>config</c>, <c>cmdline</c> and
/// <c>sysctl</c>, and the check that it boots. It sets what later sections check against: the CPU count that bounds
/// every CPU list and the arch's syscall table.
/// </summary>
internal sealed class MachineSectionReader(ReadContext context) : SectionReader(context)
{
    /// <summary>The machine's keys of the top-level mapping <paramref name="f"/>, over the defaults of <see cref="Scenario"/>.</summary>
    /// <param name="f">The top-level fields.</param>
    /// <param name="root">The top-level mapping, the place of errors about keys it lacks.</param>
    /// <param name="defaultName">The name when the file gives none.</param>
    public Scenario Read(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode root, string defaultName)
    {
        var s = new Scenario { Name = defaultName };
        var cpusKnown = true;
        if (f.TryGetValue("cpus", out var cpus))
        {
            if (Yaml.Integer(cpus.Value, "cpus", 1, CpuMask.MaxBits) is { } n)
            {
                s = s with { Cpus = (int)n };
            }
            else
            {
                cpusKnown = false;
            }
        }

        // Without a valid CPU count, CPU lists are still checked for syntax, over the largest machine.
        Context.NBits = cpusKnown ? s.Cpus : CpuMask.MaxBits;
        if (f.TryGetValue("arch", out var arch) && Yaml.Scalar(arch.Value, "arch", "x86_64, arm64 or tile") is { } a)
        {
            if (ArchNames.TryParse(a, out var parsed))
            {
                s = s with { Arch = parsed };
            }
            else
            {
                Yaml.Error(arch.Value, $"arch: unknown architecture '{YamlReader.Clip(a)}'{ScenarioNames.DidYouMean(a, ArchNames.All)}, expected one of {string.Join(", ", ArchNames.All)}");
            }
        }

        Context.Syscalls = ArchInfo.For(s.Arch).Syscalls;
        if (f.TryGetValue("name", out var name) && Yaml.Text(name.Value, "name") is { } nm)
        {
            s = s with { Name = nm };
        }

        if (f.TryGetValue("description", out var description) && Yaml.Text(description.Value, "description") is { } d)
        {
            s = s with { Description = d };
        }

        s = s with { Config = ReadConfig(f.GetValueOrDefault("config").Value, s.Arch, f.GetValueOrDefault("arch").Value ?? root) };
        if (f.TryGetValue("cmdline", out var cmdline))
        {
            // An empty command line is a real one (every parameter at its default).
            s = s with { Cmdline = YamlReader.IsNull(cmdline.Value) ? string.Empty : Yaml.Text(cmdline.Value, "cmdline") ?? string.Empty };
        }

        if (f.TryGetValue("sysctl", out var sysctl))
        {
            s = s with { Sysctl = ReadSysctl(sysctl.Value) };
        }

        return s;
    }

    private KernelConfig ReadConfig(YamlNode? node, MachineArch arch, YamlNode archNode)
    {
        var config = KernelConfig.Default;
        if (node is not null && !YamlReader.IsNull(node))
        {
            var assignments = new List<(string Text, YamlNode At)>();
            switch (node)
            {
                case YamlMappingNode map:
                    foreach (var (k, v) in map.Children)
                    {
                        var key = Yaml.Scalar(k, "config", "a Kconfig option name");
                        var value = v is YamlScalarNode { Value: { } vv } ? vv : null;
                        if (value is null)
                        {
                            Yaml.Error(v, $"config: found {YamlReader.Shown(v)} for {key}, expected y, n or a number");
                        }
                        else if (key is not null)
                        {
                            assignments.Add(($"{key}={(value is "true" ? "y" : value is "false" ? "n" : value)}", k));
                        }
                    }

                    break;
                case YamlSequenceNode seq:
                    foreach (var item in seq.Children)
                    {
                        if (Yaml.Scalar(item, "config", "NAME=VALUE") is { } text)
                        {
                            assignments.Add((text, item));
                        }
                    }

                    break;
                default:
                    Yaml.Error(node, $"config: found {YamlReader.Shown(node)}, expected a mapping such as {{HZ: 250, TASK_ISOLATION_ALL: y}}");
                    break;
            }

            foreach (var (text, at) in assignments)
            {
                try
                {
                    config = config.With(text);
                }
                catch (ConfigException ex)
                {
                    Yaml.Error(at, $"config: {ex.Message}");
                }
            }
        }

        try
        {
            return config.Validate(arch);
        }
        catch (ConfigException ex)
        {
            Yaml.Error(node ?? archNode, $"config: invalid combination: {ex.Message}");
            return config;
        }
    }

    private Sysctl ReadSysctl(YamlNode node)
    {
        var sysctl = Sysctl.Default;
        var f = Yaml.Fields(node, "sysctl", ScenarioLoader.Keys["sysctl"]);
        if (f is null)
        {
            return sysctl;
        }

        foreach (var (key, (_, value)) in f)
        {
            if (Yaml.Scalar(value, $"sysctl {key}", "a value") is not { } v)
            {
                continue;
            }

            try
            {
                sysctl = sysctl.With($"{key}={v}");
            }
            catch (ConfigException ex)
            {
                Yaml.Error(value, $"sysctl: {ex.Message}");
            }
        }

        return sysctl;
    }

    public void CheckBoots(Scenario s, YamlNode at)
    {
        try
        {
            ScenarioSession.Boot(s);
        }
        catch (Exception ex) when (ex is ConfigException or ArgumentException or CpuListException)
        {
            Yaml.Error(at, $"the machine does not boot: {ex.Message}");
        }
    }
}
