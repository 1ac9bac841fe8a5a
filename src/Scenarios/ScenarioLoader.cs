using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Scenarios;

/// <summary>
/// Reads a scenario file (YAML, docs/scenarios.md) into a <see cref="Scenario"/>, validating all of it before
/// anything runs. Every problem is collected with its file, line and column; the one exception thrown, for any
/// input at all, is <see cref="ScenarioException"/>.
/// </summary>
public static class ScenarioLoader
{
    /// <summary>Files larger than this are refused: a scenario is a page or two of YAML.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>Deepest nesting of lists and mappings accepted (programs nest loops, forks and handlers).</summary>
    public const int MaxDepth = 64;

    /// <summary>The instruction address an <c>unaligned</c> step gets when the scenario names none (a user text address).</summary>
    public const ulong UnalignedAccessDefaultPc = 0x10000;

    private const string PrSetTaskIsolation = "PR_SET_TASK_ISOLATION";
    private const string PrGetTaskIsolation = "PR_GET_TASK_ISOLATION";

    /// <summary>The keys of every mapping of the format, by the name docs/scenario.schema.json gives its definition.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Keys { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        ["scenario"] = ["name", "description", "cpus", "arch", "config", "cmdline", "sysctl", "model", "duration", "tasks", "noise", "expectations"],
        ["model"] = ["variant", "residual_tick", .. SwitchKeys(), "bounded_wait", "liveness_bound", "timings"],
        ["timings"] = [.. TimingKeys()],
        ["sysctl"] = ["vm.stat_interval"],
        ["task"] = ["name", "cpus", "policy", "start", "program"],
        ["operation"] = ["compute", "syscall", "prctl", "affinity", "touch", "mmap", "munmap", "mlock", "posix_timer", "sleep", "kill", "sigaction", "fork", "thread", "wait", "exit", "loop", "unaligned"],
        ["syscall"] = ["name", "nr", "work"],
        ["prctl"] = ["option", "arg", "enable", "signal"],
        ["affinity"] = ["cpus", "task"],
        ["posix_timer"] = ["expires", "signal", "per_process"],
        ["kill"] = ["task", "signal"],
        ["sigaction"] = ["signal", "handler"],
        ["spawn"] = ["name", "program"],
        ["loop"] = ["count", "body"],
        ["unaligned"] = ["address", "pc"],
        ["noise"] = ["irq", "nmi", "periodic", "posix_timer"],
        ["irq"] = ["number", "name", "cpus", "period", "rate", "first"],
        ["nmi"] = ["cpus", "period", "rate", "first"],
        ["periodic"] = ["name", "cpus", "every", "start", "do"],
        ["posix_timer_noise"] = ["name", "cpus", "every", "expires", "signal", "per_process", "start"],
        ["expectation"] = ["no_violations", "violations", "interrupts", "killed", "exited", "prctl", "signals", "no_liveness_failures", "liveness_failure", "dmesg", "no_dmesg", "sysfs", "elapsed", "max_noise"],
        ["no_violations"] = ["cpus"],
        ["violations"] = ["cpus", "kind", "task", "count", "at_least", "at_most"],
        ["interrupts"] = ["cpus", "kind", "count", "at_least", "at_most"],
        ["killed"] = ["task", "signal", "reason"],
        ["exited"] = ["task", "code"],
        ["prctl_returns"] = ["task", "call", "returns"],
        ["signals"] = ["task", "signal", "count", "at_least", "at_most"],
        ["liveness_failure"] = ["task"],
        ["sysfs"] = ["file", "cpus"],
        ["elapsed"] = ["from", "to", "at_least", "at_most"],
        ["event_point"] = ["task", "starts", "ends", "exits", "call"],
        ["max_noise"] = ["cpus", "at_least", "at_most"],
    };

    /// <summary>Operations that may stand alone as a bare word (<c>- wait</c>), with their default argument.</summary>
    private static readonly string[] BareOperations = ["wait", "exit", "mmap", "munmap", "mlock"];

    /// <summary>Syscalls with an operation of their own: as a plain <c>syscall</c> they would only cost time.</summary>
    private static readonly Dictionary<string, string> DedicatedSyscalls = new(StringComparer.Ordinal)
    {
        ["prctl"] = "prctl",
        ["sched_setaffinity"] = "affinity",
        ["mmap"] = "mmap",
        ["munmap"] = "munmap",
        ["mlock"] = "mlock",
        ["nanosleep"] = "sleep",
        ["clock_nanosleep"] = "sleep",
        ["kill"] = "kill",
        ["rt_sigaction"] = "sigaction",
        ["rt_sigreturn"] = "sigaction (a handler ends with rt_sigreturn by itself)",
        ["clone"] = "thread",
        ["fork"] = "fork",
        ["vfork"] = "fork",
        ["wait4"] = "wait",
        ["timer_settime"] = "posix_timer",
        ["exit"] = "exit",
        ["exit_group"] = "exit",
    };

    /// <summary>Reads and validates the scenario in <paramref name="path"/>; its name defaults to the file name.</summary>
    /// <exception cref="ScenarioException">The file cannot be read, or the scenario is invalid.</exception>
    public static Scenario LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxBytes)
            {
                throw new ScenarioException([new ScenarioError(path, 1, 1, $"file is {info.Length} bytes, more than a scenario's limit of {MaxBytes}")]);
            }

            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            throw new ScenarioException([new ScenarioError(path, 1, 1, $"cannot read the file: {ex.Message}")]);
        }

        return Load(text, path, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Reads and validates a scenario from YAML text.</summary>
    /// <param name="text">The YAML.</param>
    /// <param name="file">The name errors give as the place (a path, or e.g. <c>builtin:default</c>).</param>
    /// <param name="defaultName">The scenario's name when the text gives none.</param>
    /// <exception cref="ScenarioException">Every problem found, each with its line and column.</exception>
    public static Scenario Load(string text, string file = "<scenario>", string? defaultName = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        var reader = new YamlReader(file);
        var root = Parse(text, reader);
        if (root is null || reader.Errors.Count > 0)
        {
            throw new ScenarioException(reader.Errors);
        }

        var scenario = new Builder(reader).Read(root, defaultName ?? "scenario");
        if (reader.Errors.Count > 0 || scenario is null)
        {
            throw new ScenarioException(reader.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column));
        }

        return scenario;
    }

    /// <summary>Whether <paramref name="text"/> is a valid scenario; the errors when not.</summary>
    public static bool TryLoad(string text, string file, out Scenario? scenario, out IReadOnlyList<ScenarioError> errors)
    {
        try
        {
            scenario = Load(text, file);
            errors = [];
            return true;
        }
        catch (ScenarioException ex)
        {
            scenario = null;
            errors = ex.Errors;
            return false;
        }
    }

    /// <summary>
    /// YAML to a node tree. A first pass over the parser's events (iterative, so no input can exhaust the stack)
    /// refuses deep nesting, aliases and several documents before the representation model, which recurses, is built.
    /// </summary>
    private static YamlNode? Parse(string text, YamlReader reader)
    {
        if (text.Length > MaxBytes)
        {
            reader.Error(1, 1, $"text is {text.Length} characters, more than a scenario's limit of {MaxBytes}");
            return null;
        }

        try
        {
            var parser = new Parser(new StringReader(text));
            var depth = 0;
            var documents = 0;
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case MappingStart or SequenceStart:
                        if (++depth > MaxDepth)
                        {
                            reader.Error((int)parser.Current.Start.Line, (int)parser.Current.Start.Column, $"nesting deeper than {MaxDepth} levels");
                            return null;
                        }

                        break;
                    case MappingEnd or SequenceEnd:
                        depth--;
                        break;
                    case AnchorAlias alias:
                        reader.Error((int)alias.Start.Line, (int)alias.Start.Column, $"found the alias '*{YamlReader.Clip(alias.Value.ToString())}', expected the value written out (scenarios take no YAML aliases)");
                        return null;
                    case DocumentStart { IsImplicit: false } when documents > 0:
                    case DocumentStart when documents > 0:
                        reader.Error((int)parser.Current.Start.Line, (int)parser.Current.Start.Column, "found a second YAML document, expected one scenario per file");
                        return null;
                    case DocumentStart:
                        documents++;
                        break;
                }
            }

            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || YamlReader.IsNull(stream.Documents[0].RootNode))
            {
                reader.Error(1, 1, "the file is empty, expected a scenario (a mapping with cpus, cmdline, tasks, ...)");
                return null;
            }

            return stream.Documents[0].RootNode;
        }
        catch (YamlException ex)
        {
            reader.Error((int)ex.Start.Line, (int)ex.Start.Column, $"YAML syntax: {OneLine(ex.Message)}");
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or OverflowException or InvalidCastException or NotSupportedException)
        {
            // YamlDotNet reports some malformed input (a duplicate key, an odd tag) with a plain .NET exception.
            reader.Error(1, 1, $"YAML: {OneLine(ex.Message)}");
            return null;
        }
    }

    private static string OneLine(string s) => YamlReader.Clip(s, 200);

    private static IEnumerable<string> SwitchKeys() =>
        typeof(ModelSwitches).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.PropertyType == typeof(bool))
            .Select(p => ScenarioNames.Snake(p.Name));

    private static IEnumerable<string> TimingKeys() =>
        typeof(ModelTimings).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.PropertyType == typeof(long) || p.PropertyType == typeof(int))
            .Select(TimingKey);

    /// <summary><c>IpiLatencyNs</c> → <c>ipi_latency</c> (a duration); <c>IpiJitterSteps</c> → <c>ipi_jitter_steps</c>.</summary>
    internal static string TimingKey(PropertyInfo p)
    {
        var snake = ScenarioNames.Snake(p.Name);
        return snake.EndsWith("_ns", StringComparison.Ordinal) ? snake[..^3] : snake;
    }

    /// <summary>Builds the scenario section by section, recording problems in the reader.</summary>
    private sealed class Builder(YamlReader r)
    {
        private int _nbits = CpuMask.MaxBits;
        private SyscallTable _syscalls = SyscallTable.X86_64;
        private readonly List<(string Name, YamlNode Node)> _declared = [];
        private readonly List<(string Name, YamlNode Node)> _referenced = [];
        private readonly Dictionary<long, long> _irqs = [];

        public Scenario? Read(YamlNode root, string defaultName)
        {
            var f = r.Fields(root, "scenario", Keys["scenario"]);
            if (f is null)
            {
                return null;
            }

            var s = new Scenario { Name = defaultName };
            var cpusKnown = true;
            if (f.TryGetValue("cpus", out var cpus))
            {
                if (r.Integer(cpus.Value, "cpus", 1, CpuMask.MaxBits) is { } n)
                {
                    s = s with { Cpus = (int)n };
                }
                else
                {
                    cpusKnown = false;
                }
            }

            // Without a valid CPU count, CPU lists are still checked for syntax, over the largest machine.
            _nbits = cpusKnown ? s.Cpus : CpuMask.MaxBits;
            if (f.TryGetValue("arch", out var arch) && r.Scalar(arch.Value, "arch", "x86_64, arm64 or tile") is { } a)
            {
                if (ArchNames.TryParse(a, out var parsed))
                {
                    s = s with { Arch = parsed };
                }
                else
                {
                    r.Error(arch.Value, $"arch: unknown architecture '{YamlReader.Clip(a)}'{ScenarioNames.DidYouMean(a, ArchNames.All)}, expected one of {string.Join(", ", ArchNames.All)}");
                }
            }

            _syscalls = ArchInfo.For(s.Arch).Syscalls;
            if (f.TryGetValue("name", out var name) && r.Text(name.Value, "name") is { } nm)
            {
                s = s with { Name = nm };
            }

            if (f.TryGetValue("description", out var description) && r.Text(description.Value, "description") is { } d)
            {
                s = s with { Description = d };
            }

            s = s with { Config = ReadConfig(f.GetValueOrDefault("config").Value, s.Arch, f.GetValueOrDefault("arch").Value ?? root) };
            if (f.TryGetValue("cmdline", out var cmdline))
            {
                // An empty command line is a real one (every parameter at its default).
                s = s with { Cmdline = YamlReader.IsNull(cmdline.Value) ? string.Empty : r.Text(cmdline.Value, "cmdline") ?? string.Empty };
            }

            if (f.TryGetValue("sysctl", out var sysctl))
            {
                s = s with { Sysctl = ReadSysctl(sysctl.Value) };
            }

            if (f.TryGetValue("model", out var model))
            {
                s = s with { Model = ReadModel(model.Value) };
            }

            if (f.TryGetValue("duration", out var duration) && r.Duration(duration.Value, "duration", positive: true) is { } dns)
            {
                s = s with { DurationNs = dns };
            }

            if (f.TryGetValue("tasks", out var tasks))
            {
                s = s with { Tasks = ReadList(tasks.Value, "tasks", ReadTask) };
            }

            if (f.TryGetValue("noise", out var noise))
            {
                s = s with { Noise = ReadList(noise.Value, "noise", ReadNoise) };
            }

            if (f.TryGetValue("expectations", out var expectations))
            {
                s = s with { Expectations = ReadList(expectations.Value, "expectations", ReadExpectation) };
            }

            CheckNames();
            if (r.Errors.Count == 0)
            {
                CheckBoots(s, f.GetValueOrDefault("cmdline").Value ?? root);
            }

            return s;
        }

        private void CheckNames()
        {
            var seen = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (name, node) in _declared)
            {
                if (seen.TryGetValue(name, out var first))
                {
                    r.Error(node, string.Create(CultureInfo.InvariantCulture, $"task name '{name}' is already used at line {first.Start.Line}: names must be unique (they are how kill, affinity and expectations find a task)"));
                }
                else
                {
                    seen[name] = node;
                }
            }

            foreach (var (name, node) in _referenced)
            {
                if (!seen.ContainsKey(name))
                {
                    r.Error(node, $"no task named '{name}'{ScenarioNames.DidYouMean(name, seen.Keys)}; tasks: {(seen.Count == 0 ? "none" : string.Join(", ", seen.Keys))}");
                }
            }
        }

        /// <summary>Boots the machine once: a command line or config the boot code rejects is an input error too.</summary>
        private void CheckBoots(Scenario s, YamlNode at)
        {
            try
            {
                BootedMachine.Boot(s.Cpus, s.Arch, s.Config, s.Cmdline, s.Sysctl);
            }
            catch (Exception ex) when (ex is ConfigException or ArgumentException or CpuListException)
            {
                r.Error(at, $"the machine does not boot: {ex.Message}");
            }
        }

        private ImmutableArray<T> ReadList<T>(YamlNode node, string what, Func<YamlNode, string, T?> item)
            where T : class
        {
            if (YamlReader.IsNull(node))
            {
                return [];
            }

            if (node is not YamlSequenceNode seq)
            {
                r.Error(node, $"{what}: found {YamlReader.Shown(node)}, expected a list ('- ' items)");
                return [];
            }

            var items = ImmutableArray.CreateBuilder<T>();
            for (var i = 0; i < seq.Children.Count; i++)
            {
                if (item(seq.Children[i], string.Create(CultureInfo.InvariantCulture, $"{what}[{i}]")) is { } t)
                {
                    items.Add(t);
                }
            }

            return items.ToImmutable();
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
                            var key = r.Scalar(k, "config", "a Kconfig option name");
                            var value = v is YamlScalarNode { Value: { } vv } ? vv : null;
                            if (value is null)
                            {
                                r.Error(v, $"config: found {YamlReader.Shown(v)} for {key}, expected y, n or a number");
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
                            if (r.Scalar(item, "config", "NAME=VALUE") is { } text)
                            {
                                assignments.Add((text, item));
                            }
                        }

                        break;
                    default:
                        r.Error(node, $"config: found {YamlReader.Shown(node)}, expected a mapping such as {{HZ: 250, TASK_ISOLATION_ALL: y}}");
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
                        r.Error(at, $"config: {ex.Message}");
                    }
                }
            }

            try
            {
                return config.Validate(arch);
            }
            catch (ConfigException ex)
            {
                r.Error(node ?? archNode, $"config: invalid combination: {ex.Message}");
                return config;
            }
        }

        private Sysctl ReadSysctl(YamlNode node)
        {
            var sysctl = Sysctl.Default;
            var f = r.Fields(node, "sysctl", Keys["sysctl"]);
            if (f is null)
            {
                return sysctl;
            }

            foreach (var (key, (_, value)) in f)
            {
                if (r.Scalar(value, $"sysctl {key}", "a value") is not { } v)
                {
                    continue;
                }

                try
                {
                    sysctl = sysctl.With($"{key}={v}");
                }
                catch (ConfigException ex)
                {
                    r.Error(value, $"sysctl: {ex.Message}");
                }
            }

            return sysctl;
        }

        private ScenarioModel ReadModel(YamlNode node)
        {
            var model = new ScenarioModel();
            var f = r.Fields(node, "model", Keys["model"]);
            if (f is null)
            {
                return model;
            }

            var switches = new ModelSwitches();
            foreach (var (key, (_, value)) in f)
            {
                switch (key)
                {
                    case "variant":
                        var variant = r.Scalar(value, "model.variant", "v13 or v16");
                        if (variant is "v13" or "V13")
                        {
                            model = model with { Variant = KernelVariant.V13 };
                        }
                        else if (variant is "v16" or "V16")
                        {
                            model = model with { Variant = KernelVariant.V16 };
                        }
                        else if (variant is not null)
                        {
                            r.Error(value, $"model.variant: found '{YamlReader.Clip(variant)}', expected v13 or v16");
                        }

                        break;
                    case "residual_tick":
                        var rt = r.Scalar(value, "model.residual_tick", "1hz or offloaded");
                        if (rt is "1hz" or "1Hz")
                        {
                            switches = switches with { ResidualTick = ResidualTick.OneHz };
                        }
                        else if (rt is "offloaded")
                        {
                            switches = switches with { ResidualTick = ResidualTick.Offloaded };
                        }
                        else if (rt is not null)
                        {
                            r.Error(value, $"model.residual_tick: found '{YamlReader.Clip(rt)}', expected 1hz (4.7) or offloaded (4.17+)");
                        }

                        break;
                    case "bounded_wait":
                        if (r.Duration(value, "model.bounded_wait", positive: true) is { } wait)
                        {
                            switches = switches with { BoundedWaitNs = wait };
                        }

                        break;
                    case "liveness_bound":
                        if (r.Duration(value, "model.liveness_bound", positive: true) is { } bound)
                        {
                            model = model with { LivenessBoundNs = bound };
                        }

                        break;
                    case "timings":
                        model = model with { Timings = ReadTimings(value) };
                        break;
                    default:
                        // A §9 mitigation switch: a bool property of ModelSwitches.
                        var property = typeof(ModelSwitches).GetProperties().First(p => ScenarioNames.Snake(p.Name) == key);
                        if (r.Bool(value, $"model.{key}") is { } on)
                        {
                            var copy = switches with { };
                            property.SetValue(copy, on);
                            switches = copy;
                        }

                        break;
                }
            }

            return model with { Switches = switches };
        }

        private ModelTimings ReadTimings(YamlNode node)
        {
            var timings = new ModelTimings();
            var f = r.Fields(node, "model.timings", Keys["timings"]);
            if (f is null)
            {
                return timings;
            }

            var copy = timings with { };
            foreach (var (key, (_, value)) in f)
            {
                var property = typeof(ModelTimings).GetProperties().First(p => TimingKey(p) == key);
                if (property.PropertyType == typeof(int))
                {
                    if (r.Integer(value, $"model.timings.{key}", 1, 1024) is { } steps)
                    {
                        property.SetValue(copy, (int)steps);
                    }
                }
                else if (r.Duration(value, $"model.timings.{key}", positive: false) is { } ns)
                {
                    if (ns > 60_000_000_000)
                    {
                        r.Error(value, $"model.timings.{key}: {Durations.Format(ns)} is longer than a minute, expected the cost of a kernel path");
                    }
                    else
                    {
                        property.SetValue(copy, ns);
                    }
                }
            }

            return copy;
        }

        private ScenarioTask? ReadTask(YamlNode node, string what)
        {
            var f = r.Fields(node, what, Keys["task"]);
            if (f is null)
            {
                return null;
            }

            var name = Required(f, node, what, "name", v => r.TaskName(v, $"{what}.name"));
            var cpus = Required(f, node, what, "cpus", v => CpusOf(v, $"{what}.cpus"));
            var policy = SchedPolicy.Normal;
            if (f.TryGetValue("policy", out var p) && r.Scalar(p.Value, $"{what}.policy", "normal, fifo, rr or deadline") is { } ps
                && !ScenarioNames.TryParsePolicy(ps, out policy))
            {
                r.Error(p.Value, $"{what}.policy: found '{YamlReader.Clip(ps)}', expected one of {string.Join(", ", ScenarioNames.Policies)}");
            }

            long start = 0;
            if (f.TryGetValue("start", out var st) && r.Duration(st.Value, $"{what}.start", positive: false) is { } s)
            {
                start = s;
            }

            var program = f.TryGetValue("program", out var prog) ? Program(prog.Value, $"{what}.program") : [];
            if (name is not null)
            {
                _declared.Add((name, f["name"].Value));
            }

            return name is null || cpus is null ? null : new ScenarioTask(name, cpus, policy, start, program);
        }

        private T? Required<T>(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what, string key, Func<YamlNode, T?> read)
        {
            if (f.TryGetValue(key, out var v))
            {
                return read(v.Value);
            }

            r.Error(at, $"{what}: '{key}' is missing");
            return default;
        }

        private CpuMask? CpusOf(YamlNode node, string what) => r.Cpus(node, what, _nbits);

        private ImmutableArray<Operation> Program(YamlNode node, string what)
        {
            if (YamlReader.IsNull(node))
            {
                return [];
            }

            if (node is not YamlSequenceNode seq)
            {
                r.Error(node, $"{what}: found {YamlReader.Shown(node)}, expected a list of operations ('- compute: 2ms', ...)");
                return [];
            }

            var ops = ImmutableArray.CreateBuilder<Operation>();
            for (var i = 0; i < seq.Children.Count; i++)
            {
                if (Operation(seq.Children[i], string.Create(CultureInfo.InvariantCulture, $"{what}[{i}]")) is { } op)
                {
                    ops.Add(op);
                }
            }

            return ops.ToImmutable();
        }

        private Operation? Operation(YamlNode node, string what)
        {
            var tagged = r.Tagged(node, what, Keys["operation"]);
            if (tagged is not { } t)
            {
                return null;
            }

            var (op, keyNode, value) = t;
            var at = $"{what}.{op}";
            if (value is null || YamlReader.IsNull(value))
            {
                switch (op)
                {
                    case "wait":
                        return new WaitChild();
                    case "exit":
                        return new Exit(0);
                    case "mmap":
                        return new Mmap(4096);
                    case "munmap":
                        return new Munmap(0x1000);
                    case "mlock":
                        return new Mlock(4096);
                    default:
                        r.Error(value ?? keyNode, $"{at}: needs a value{(BareOperations.Contains(op) ? string.Empty : " (see docs/scenarios.md)")}");
                        return null;
                }
            }

            switch (op)
            {
                case "compute":
                    return r.Duration(value, at, positive: true) is { } c ? new Compute(c) : null;
                case "sleep":
                    return r.Duration(value, at, positive: true) is { } sl ? new Sleep(sl) : null;
                case "touch":
                    return r.Unsigned(value, at) is { } addr ? new TouchPage(addr) : null;
                case "mmap":
                    return r.Unsigned(value, at, 1) is { } len ? new Mmap(len) : null;
                case "munmap":
                    return r.Unsigned(value, at) is { } ua ? new Munmap(ua) : null;
                case "mlock":
                    return r.Unsigned(value, at, 1) is { } ml ? new Mlock(ml) : null;
                case "exit":
                    return r.Integer(value, at, 0, 255) is { } code ? new Exit((int)code) : null;
                case "wait":
                    r.Error(value, $"{at}: takes no value, write '- wait'");
                    return null;
                case "syscall":
                    return Syscall(value, at);
                case "prctl":
                    return Prctl(value, at);
                case "affinity":
                    return Affinity(value, at);
                case "posix_timer":
                    return PosixTimer(value, at);
                case "kill":
                    return Kill(value, at);
                case "sigaction":
                    return Sigaction(value, at);
                case "fork" or "thread":
                    return Spawn(value, at, op == "thread");
                case "loop":
                    return Loop(value, at);
                case "unaligned":
                    return Unaligned(value, at);
                default:
                    r.Error(keyNode, $"{at}: not an operation");
                    return null;
            }
        }

        /// <summary><c>unaligned: 0x7f0000000003</c> or <c>unaligned: {address: 0x7f0000000003, pc: 0x10c48}</c>.</summary>
        private Operation? Unaligned(YamlNode value, string at)
        {
            if (value is not YamlMappingNode)
            {
                return r.Unsigned(value, at) is { } a ? new UnalignedAccess(a, UnalignedAccessDefaultPc) : null;
            }

            var f = r.Fields(value, at, Keys["unaligned"]);
            if (f is null)
            {
                return null;
            }

            var address = Required(f, value, at, "address", v => r.Unsigned(v, $"{at}.address"));
            var pc = f.TryGetValue("pc", out var p) ? r.Unsigned(p.Value, $"{at}.pc") : UnalignedAccessDefaultPc;
            return address is { } ad && pc is { } ip ? new UnalignedAccess(ad, ip) : null;
        }

        private Operation? Syscall(YamlNode value, string at)
        {
            YamlNode which;
            long work = 2_000;
            if (value is YamlMappingNode)
            {
                var f = r.Fields(value, at, Keys["syscall"]);
                if (f is null)
                {
                    return null;
                }

                if (f.ContainsKey("name") == f.ContainsKey("nr"))
                {
                    r.Error(value, $"{at}: give exactly one of 'name' and 'nr'");
                    return null;
                }

                which = f.TryGetValue("name", out var n) ? n.Value : f["nr"].Value;
                if (f.TryGetValue("work", out var w))
                {
                    if (r.Duration(w.Value, $"{at}.work", positive: false) is not { } wn)
                    {
                        return null;
                    }

                    work = wn;
                }
            }
            else
            {
                which = value;
            }

            var text = r.Scalar(which, at, "a syscall name such as write, or its number");
            if (text is null)
            {
                return null;
            }

            string? name;
            var nr = -1;
            if (YamlReader.TryParseInteger(text, out var number))
            {
                if (number is < 0 or > 4095)
                {
                    r.Error(which, string.Create(CultureInfo.InvariantCulture, $"{at}: syscall number {number} is out of range, expected 0 to 4095"));
                    return null;
                }

                nr = (int)number;
                name = _syscalls.NameOf(nr);
            }
            else if (_syscalls.Contains(text))
            {
                name = text;
            }
            else
            {
                r.Error(which, $"{at}: unknown syscall '{YamlReader.Clip(text)}' for this arch{ScenarioNames.DidYouMean(text, _syscalls.ByName.Keys)}; known: {string.Join(", ", _syscalls.ByName.Keys.Order(StringComparer.Ordinal))}");
                return null;
            }

            if (name is not null && DedicatedSyscalls.TryGetValue(name, out var dedicated))
            {
                r.Error(which, $"{at}: {name} has an operation of its own that does what the kernel does; use '{dedicated}' (a plain syscall only costs time)");
                return null;
            }

            // A number the table names runs as that call; an unlisted number is kept as a number (ENOSYS if unknown).
            return name is not null ? new Syscall(name, -1, work) : new Syscall(null, nr, work);
        }

        private Operation? Prctl(YamlNode value, string at)
        {
            if (value is YamlScalarNode)
            {
                var word = r.Scalar(value, at, "enable, nosig, disable or get");
                switch (word)
                {
                    case null:
                        return null;
                    case "enable":
                        return new Prctl(48, IsolationFlags.EnableBit);
                    case "nosig":
                        return new Prctl(48, IsolationFlags.EnableBit | IsolationFlags.NoSigBits);
                    case "disable":
                        return new Prctl(48, 0);
                    case "get":
                        return new Prctl(49, 0);
                    default:
                        r.Error(value, $"{at}: found '{YamlReader.Clip(word)}', expected enable, nosig, disable, get, or a mapping {{enable: true, signal: SIGUSR1}} or {{option: 48, arg: 0x1}}");
                        return null;
                }
            }

            var f = r.Fields(value, at, Keys["prctl"]);
            if (f is null)
            {
                return null;
            }

            var raw = f.ContainsKey("option") || f.ContainsKey("arg");
            var flags = f.ContainsKey("enable") || f.ContainsKey("signal");
            if (raw && flags)
            {
                r.Error(value, $"{at}: give either option and arg (a raw prctl) or enable and signal (PR_SET_TASK_ISOLATION flags), not both");
                return null;
            }

            if (raw)
            {
                if (!f.TryGetValue("option", out var o))
                {
                    r.Error(value, $"{at}: 'option' is missing");
                    return null;
                }

                var os = r.Scalar(o.Value, $"{at}.option", "PR_SET_TASK_ISOLATION, PR_GET_TASK_ISOLATION or a number");
                long? option = os switch
                {
                    null => null,
                    PrSetTaskIsolation or "PR_TASK_ISOLATION" => 48,
                    PrGetTaskIsolation => 49,
                    _ => r.Integer(o.Value, $"{at}.option", 0, int.MaxValue),
                };
                ulong arg = 0;
                if (f.TryGetValue("arg", out var a))
                {
                    if (r.Unsigned(a.Value, $"{at}.arg") is not { } av)
                    {
                        return null;
                    }

                    arg = av;
                }

                return option is { } opt ? new Prctl((int)opt, arg) : null;
            }

            var enable = true;
            if (f.TryGetValue("enable", out var e))
            {
                if (r.Bool(e.Value, $"{at}.enable") is not { } ev)
                {
                    return null;
                }

                enable = ev;
            }

            ulong word2 = enable ? IsolationFlags.EnableBit : 0;
            if (f.TryGetValue("signal", out var sg))
            {
                if (r.SignalNumber(sg.Value, $"{at}.signal", 0) is not { } sig)
                {
                    return null;
                }

                word2 |= IsolationFlags.UserSigBit | IsolationFlags.SetSig(sig);
            }

            return new Prctl(48, word2);
        }

        private Operation? Affinity(YamlNode value, string at)
        {
            if (value is not YamlMappingNode)
            {
                return CpusOf(value, at) is { } m ? new SetAffinity(m) : null;
            }

            var f = r.Fields(value, at, Keys["affinity"]);
            if (f is null)
            {
                return null;
            }

            var mask = Required(f, value, at, "cpus", v => CpusOf(v, $"{at}.cpus"));
            string? target = null;
            if (f.TryGetValue("task", out var t))
            {
                target = r.TaskName(t.Value, $"{at}.task");
                if (target is null)
                {
                    return null;
                }

                _referenced.Add((target, t.Value));
            }

            return mask is null ? null : new SetAffinity(mask, target);
        }

        private Operation? PosixTimer(YamlNode value, string at)
        {
            var f = r.Fields(value, at, Keys["posix_timer"]);
            if (f is null)
            {
                return null;
            }

            var expires = Required(f, value, at, "expires", v => r.Duration(v, $"{at}.expires", positive: true));
            var signal = f.TryGetValue("signal", out var s) ? r.SignalNumber(s.Value, $"{at}.signal", 1) : Signal.SIGALRM;
            var perProcess = f.TryGetValue("per_process", out var pp) ? r.Bool(pp.Value, $"{at}.per_process") : false;
            return expires is { } e && signal is { } sig && perProcess is { } per ? new ArmPosixTimer(e, sig, per) : null;
        }

        private Operation? Kill(YamlNode value, string at)
        {
            var f = r.Fields(value, at, Keys["kill"]);
            if (f is null)
            {
                return null;
            }

            var task = Required(f, value, at, "task", v => r.TaskName(v, $"{at}.task"));
            var signal = Required(f, value, at, "signal", v => r.SignalNumber(v, $"{at}.signal", 0));
            if (task is not null)
            {
                _referenced.Add((task, f["task"].Value));
            }

            return task is not null && signal is { } sig ? new Kill(task, sig) : null;
        }

        private Operation? Sigaction(YamlNode value, string at)
        {
            var f = r.Fields(value, at, Keys["sigaction"]);
            if (f is null)
            {
                return null;
            }

            var signal = Required(f, value, at, "signal", v => r.SignalNumber(v, $"{at}.signal", 1));
            if (signal is Signal.SIGKILL or Signal.SIGSTOP)
            {
                r.Error(f["signal"].Value, $"{at}.signal: {Signal.Name(signal.Value)} cannot be caught (rt_sigaction returns EINVAL)");
                return null;
            }

            var handler = f.TryGetValue("handler", out var h) ? Program(h.Value, $"{at}.handler") : [];
            return signal is { } sig ? new Sigaction(sig, handler) : null;
        }

        private Operation? Spawn(YamlNode value, string at, bool thread)
        {
            var f = r.Fields(value, at, Keys["spawn"]);
            if (f is null)
            {
                return null;
            }

            var name = Required(f, value, at, "name", v => r.TaskName(v, $"{at}.name"));
            var program = f.TryGetValue("program", out var p) ? Program(p.Value, $"{at}.program") : [];
            if (name is null)
            {
                return null;
            }

            _declared.Add((name, f["name"].Value));
            return new Spawn(name, program, thread);
        }

        private Operation? Loop(YamlNode value, string at)
        {
            var f = r.Fields(value, at, Keys["loop"]);
            if (f is null)
            {
                return null;
            }

            var count = Required(f, value, at, "count", v =>
                r.Scalar(v, $"{at}.count", "a number of passes or forever") is "forever" ? -1 : r.Integer(v, $"{at}.count", 0, int.MaxValue));
            var body = Required(f, value, at, "body", v => (ImmutableArray<Operation>?)Program(v, $"{at}.body"));
            if (count is not { } n || body is not { } b)
            {
                return null;
            }

            if (!DoesSomething(b))
            {
                // An empty pass would spin the task's program walker forever without simulated time passing.
                r.Error(f["body"].Value, $"{at}.body: found no operation that runs, expected at least one (a loop of empty loops never ends)");
                return null;
            }

            return new Loop((int)n, b);
        }

        private static bool DoesSomething(ImmutableArray<Operation> ops) =>
            ops.Any(o => o is not Loop l || (l.Count != 0 && DoesSomething(l.Body)));

        private NoiseSource? ReadNoise(YamlNode node, string what)
        {
            var tagged = r.Tagged(node, what, Keys["noise"]);
            if (tagged is not { } t)
            {
                return null;
            }

            var (kind, keyNode, value) = t;
            var at = $"{what}.{kind}";
            if (value is null)
            {
                r.Error(keyNode, $"{at}: needs a mapping (see docs/scenarios.md)");
                return null;
            }

            switch (kind)
            {
                case "irq":
                    {
                        var f = r.Fields(value, at, Keys["irq"]);
                        if (f is null)
                        {
                            return null;
                        }

                        var irq = Required(f, value, at, "number", v => r.Integer(v, $"{at}.number", 0, 4095));
                        if (irq is { } number && f.TryGetValue("number", out var numberNode))
                        {
                            if (_irqs.TryGetValue(number, out var line))
                            {
                                r.Error(numberNode.Value, string.Create(CultureInfo.InvariantCulture, $"{at}.number: irq {number} is already used at line {line}: one source per IRQ line"));
                            }
                            else
                            {
                                _irqs[number] = numberNode.Value.Start.Line;
                            }
                        }

                        var name = f.TryGetValue("name", out var nm) ? r.Text(nm.Value, $"{at}.name") : "device";
                        if (name is not null && (string.IsNullOrWhiteSpace(name) || name.Any(char.IsControl) || name.Length > 64))
                        {
                            r.Error(nm.Value, $"{at}.name: '{YamlReader.Clip(name)}' is not a handler name: 1 to 64 printable characters, not all blank");
                            name = null;
                        }
                        var cpus = f.TryGetValue("cpus", out var c) ? CpusOf(c.Value, $"{at}.cpus") : null;
                        var period = Period(f, value, at);
                        var first = f.TryGetValue("first", out var fi) ? r.Duration(fi.Value, $"{at}.first", positive: false) : 0;
                        if (f.ContainsKey("cpus") && cpus is null)
                        {
                            return null;
                        }

                        return irq is { } n && name is not null && period is { } p && first is { } fa ? new IrqNoise((int)n, name, cpus, p, fa) : null;
                    }

                case "nmi":
                    {
                        var f = r.Fields(value, at, Keys["nmi"]);
                        if (f is null)
                        {
                            return null;
                        }

                        var cpus = Required(f, value, at, "cpus", v => CpusOf(v, $"{at}.cpus"));
                        var period = Period(f, value, at);
                        var first = f.TryGetValue("first", out var fi) ? r.Duration(fi.Value, $"{at}.first", positive: false) : 0;
                        return cpus is not null && period is { } p && first is { } fa ? new NmiNoise(cpus, p, fa) : null;
                    }

                case "periodic":
                    {
                        var f = r.Fields(value, at, Keys["periodic"]);
                        if (f is null)
                        {
                            return null;
                        }

                        var name = Required(f, value, at, "name", v => r.TaskName(v, $"{at}.name"));
                        var cpus = Required(f, value, at, "cpus", v => CpusOf(v, $"{at}.cpus"));
                        var every = Required(f, value, at, "every", v => r.Duration(v, $"{at}.every", positive: true));
                        var start = f.TryGetValue("start", out var st) ? r.Duration(st.Value, $"{at}.start", positive: false) : 0;
                        var program = Required(f, value, at, "do", v => (ImmutableArray<Operation>?)(v is YamlSequenceNode ? Program(v, $"{at}.do") : Operation(v, $"{at}.do") is { } one ? [one] : []));
                        if (name is not null)
                        {
                            _declared.Add((name, f["name"].Value));
                        }

                        return name is not null && cpus is not null && every is { } e && start is { } s && program is { } prog
                            ? new PeriodicNoise(name, cpus, e, s, prog)
                            : null;
                    }

                default:
                    {
                        var f = r.Fields(value, at, Keys["posix_timer_noise"]);
                        if (f is null)
                        {
                            return null;
                        }

                        var name = Required(f, value, at, "name", v => r.TaskName(v, $"{at}.name"));
                        var cpus = Required(f, value, at, "cpus", v => CpusOf(v, $"{at}.cpus"));
                        var every = Required(f, value, at, "every", v => r.Duration(v, $"{at}.every", positive: true));
                        var expires = Required(f, value, at, "expires", v => r.Duration(v, $"{at}.expires", positive: true));
                        var signal = f.TryGetValue("signal", out var sg) ? r.SignalNumber(sg.Value, $"{at}.signal", 1) : Signal.SIGALRM;
                        if (signal is Signal.SIGKILL or Signal.SIGSTOP)
                        {
                            r.Error(sg.Value, $"{at}.signal: {Signal.Name(signal.Value)} cannot be caught, expected a signal the task can handle");
                            signal = null;
                        }

                        var perProcess = f.TryGetValue("per_process", out var pp) ? r.Bool(pp.Value, $"{at}.per_process") : false;
                        var start = f.TryGetValue("start", out var st) ? r.Duration(st.Value, $"{at}.start", positive: false) : 0;
                        if (name is not null)
                        {
                            _declared.Add((name, f["name"].Value));
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
                r.Error(at, $"{what}: give exactly one of 'period' (e.g. 1ms) and 'rate' (per second, e.g. 1000)");
                return null;
            }

            if (f.TryGetValue("period", out var p))
            {
                return r.Duration(p.Value, $"{what}.period", positive: true);
            }

            var rate = r.Integer(f["rate"].Value, $"{what}.rate", 1, 1_000_000_000);
            return rate is { } hz ? 1_000_000_000 / hz : null;
        }

        private Expectation? ReadExpectation(YamlNode node, string what)
        {
            var tagged = r.Tagged(node, what, Keys["expectation"]);
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
                        var f = r.Fields(value!, at, Keys["no_violations"]);
                        return f is null ? null : f.TryGetValue("cpus", out var c) ? (CpusOf(c.Value, $"{at}.cpus") is { } m ? new NoViolations(m) : null) : new NoViolations(null);
                    }

                    return CpusOf(value!, at) is { } mask ? new NoViolations(mask) : null;
                case "no_liveness_failures":
                    if (!empty)
                    {
                        r.Error(value, $"{at}: takes no value, write '- no_liveness_failures'");
                        return null;
                    }

                    return new NoLivenessFailures();
                case "liveness_failure":
                    if (empty)
                    {
                        return new LivenessFailure(null);
                    }

                    {
                        var f = r.Fields(value!, at, Keys["liveness_failure"]);
                        var task = f is not null && f.TryGetValue("task", out var tk) ? TaskRef(tk.Value, $"{at}.task") : null;
                        return f is null || (f.ContainsKey("task") && task is null) ? null : new LivenessFailure(task);
                    }

                case "dmesg" or "no_dmesg":
                    if (empty)
                    {
                        r.Error(value ?? keyNode, $"{at}: needs the text to look for");
                        return null;
                    }

                    return r.Text(value!, at) is { } text ? new DmesgLine(text, kind == "no_dmesg") : null;
            }

            if (empty)
            {
                r.Error(value ?? keyNode, $"{at}: needs a mapping (see docs/scenarios.md)");
                return null;
            }

            var fields = r.Fields(value!, at, Keys[kind == "prctl" ? "prctl_returns" : kind]);
            if (fields is null)
            {
                return null;
            }

            var before = r.Errors.Count;
            Expectation? result = kind switch
            {
                "violations" => new ViolationCount(OptCpus(fields, at), OptKind(fields, at), OptTask(fields, at), Count(fields, value!, at)),
                "interrupts" => new InterruptCount(OptCpus(fields, at), OptKind(fields, at), Count(fields, value!, at)),
                "killed" => Required(fields, value!, at, "task", v => TaskRef(v, $"{at}.task")) is { } kt
                    ? new Killed(kt, fields.TryGetValue("signal", out var ks) ? r.SignalNumber(ks.Value, $"{at}.signal", 1) : null, fields.TryGetValue("reason", out var kr) ? r.Text(kr.Value, $"{at}.reason") : null)
                    : null,
                "exited" => Required(fields, value!, at, "task", v => TaskRef(v, $"{at}.task")) is { } et
                    ? new Exited(et, fields.TryGetValue("code", out var ec) ? (int)(r.Integer(ec.Value, $"{at}.code", 0, 255) ?? 0) : 0)
                    : null,
                "prctl" => PrctlExpectation(fields, value!, at),
                "sysfs" => SysfsExpectation(fields, value!, at),
                "elapsed" => ElapsedExpectation(fields, value!, at),
                "max_noise" => new MaxNoise(OptCpus(fields, at), Range(fields, value!, at)),
                "signals" => Required(fields, value!, at, "task", v => TaskRef(v, $"{at}.task")) is { } st
                    ? new SignalCount(st, fields.TryGetValue("signal", out var ss) ? r.SignalNumber(ss.Value, $"{at}.signal", 1) : null, Count(fields, value!, at))
                    : null,
                _ => null,
            };
            return r.Errors.Count == before ? result : null;
        }

        private Expectation? PrctlExpectation(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
        {
            var task = Required(f, at, what, "task", v => TaskRef(v, $"{what}.task"));
            var call = f.TryGetValue("call", out var c) ? r.Integer(c.Value, $"{what}.call", 1, int.MaxValue) : 1;
            var returns = Required(f, at, what, "returns", v => ReturnValue(v, $"{what}.returns"));
            return task is not null && call is { } n && returns is { } ret ? new PrctlReturns(task, (int)n, ret) : null;
        }

        private SysfsReads? SysfsExpectation(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
        {
            var file = Required(f, at, what, "file", v => r.Scalar(v, $"{what}.file", "a file of /sys/devices/system/cpu"));
            if (file is not null && !SysfsReads.Files.Contains(file))
            {
                r.Error(f["file"].Value, $"{what}.file: unknown file '{YamlReader.Clip(file)}'{ScenarioNames.DidYouMean(file, SysfsReads.Files)}, expected one of {string.Join(", ", SysfsReads.Files)}");
                return null;
            }

            // The list it must read; "" is the empty set (the file reads a lone newline).
            var cpus = Required(f, at, what, "cpus", v => r.Cpus(v, $"{what}.cpus", _nbits, nonEmpty: false));
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
        private EventPoint? Point(YamlNode node, string what)
        {
            var f = r.Fields(node, what, Keys["event_point"]);
            if (f is null)
            {
                return null;
            }

            var task = Required(f, node, what, "task", v => TaskRef(v, $"{what}.task"));
            var given = new[] { "starts", "ends", "exits" }.Where(f.ContainsKey).ToList();
            if (given.Count != 1)
            {
                r.Error(node, $"{what}: give exactly one of 'starts: STEP', 'ends: STEP' or 'exits: true'{(given.Count == 0 ? string.Empty : ", not " + string.Join(" and ", given))}");
                return null;
            }

            var call = 1L;
            if (f.TryGetValue("call", out var c))
            {
                if (given[0] == "exits")
                {
                    r.Error(c.Key, $"{what}.call: a task exits once, 'call' goes with 'starts' or 'ends'");
                    return null;
                }

                call = r.Integer(c.Value, $"{what}.call", 1, int.MaxValue) ?? 0;
            }

            if (given[0] == "exits")
            {
                if (r.Bool(f["exits"].Value, $"{what}.exits") is not { } yes)
                {
                    return null;
                }

                if (!yes)
                {
                    r.Error(f["exits"].Value, $"{what}.exits: only 'exits: true' is a moment of the run");
                    return null;
                }

                return task is null ? null : new EventPoint(task, PointKind.Exits, null, 1);
            }

            var step = r.Scalar(f[given[0]].Value, $"{what}.{given[0]}", "a step such as fork, write or compute");
            if (step is not null && step.Trim().Length == 0)
            {
                r.Error(f[given[0]].Value, $"{what}.{given[0]}: expected a step such as fork, write or compute");
                step = null;
            }

            var kind = given[0] == "starts" ? PointKind.Starts : PointKind.Ends;
            return task is null || step is null || call < 1 ? null : new EventPoint(task, kind, step.Trim(), (int)call);
        }

        private DurationRange Range(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
        {
            var lo = f.TryGetValue("at_least", out var l) ? r.Duration(l.Value, $"{what}.at_least", positive: false) : null;
            var hi = f.TryGetValue("at_most", out var h) ? r.Duration(h.Value, $"{what}.at_most", positive: false) : null;
            if (!f.ContainsKey("at_least") && !f.ContainsKey("at_most"))
            {
                r.Error(at, $"{what}: give 'at_least' and/or 'at_most' (durations such as 400ms)");
            }
            else if (lo > hi)
            {
                r.Error(at, $"{what}: at_least {Durations.Format(lo!.Value)} is above at_most {Durations.Format(hi!.Value)}");
            }

            return new DurationRange(lo, hi);
        }

        /// <summary><c>0</c>, <c>3</c>, <c>-EINVAL</c>, <c>-22</c>.</summary>
        private long? ReturnValue(YamlNode node, string what)
        {
            var s = r.Scalar(node, what, "a return value such as 0 or -EINVAL");
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

            r.Error(node, $"{what}: found '{YamlReader.Clip(s)}', expected a number or -ERRNO such as -EINVAL or -EAGAIN");
            return null;
        }

        private string? TaskRef(YamlNode node, string what)
        {
            var name = r.TaskName(node, what);
            if (name is not null)
            {
                _referenced.Add((name, node));
            }

            return name;
        }

        private CpuMask? OptCpus(Dictionary<string, (YamlNode Key, YamlNode Value)> f, string at) =>
            f.TryGetValue("cpus", out var c) ? CpusOf(c.Value, $"{at}.cpus") : null;

        private string? OptTask(Dictionary<string, (YamlNode Key, YamlNode Value)> f, string at) =>
            f.TryGetValue("task", out var t) ? TaskRef(t.Value, $"{at}.task") : null;

        private InterruptKind? OptKind(Dictionary<string, (YamlNode Key, YamlNode Value)> f, string at)
        {
            if (!f.TryGetValue("kind", out var k) || r.Scalar(k.Value, $"{at}.kind", "an interrupt kind") is not { } s)
            {
                return null;
            }

            if (ScenarioNames.TryParseKind(s, out var kind))
            {
                return kind;
            }

            r.Error(k.Value, $"{at}.kind: unknown interrupt kind '{YamlReader.Clip(s)}'{ScenarioNames.DidYouMean(s, ScenarioNames.Kinds)}, expected one of {string.Join(", ", ScenarioNames.Kinds)}");
            return null;
        }

        private CountRange Count(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what)
        {
            if (f.TryGetValue("count", out var c))
            {
                if (f.ContainsKey("at_least") || f.ContainsKey("at_most"))
                {
                    r.Error(at, $"{what}: give 'count' (exactly) or 'at_least'/'at_most', not both");
                }

                var n = r.Integer(c.Value, $"{what}.count", 0, long.MaxValue);
                return new CountRange(n, n);
            }

            var lo = f.TryGetValue("at_least", out var l) ? r.Integer(l.Value, $"{what}.at_least", 0, long.MaxValue) : null;
            var hi = f.TryGetValue("at_most", out var h) ? r.Integer(h.Value, $"{what}.at_most", 0, long.MaxValue) : null;
            if (lo is null && hi is null && !f.ContainsKey("at_least") && !f.ContainsKey("at_most"))
            {
                // "violations: {cpus: 3}" means some: at least one.
                return CountRange.Some;
            }

            if (lo > hi)
            {
                r.Error(at, string.Create(CultureInfo.InvariantCulture, $"{what}: at_least {lo} is above at_most {hi}"));
            }

            return new CountRange(lo, hi);
        }
    }
}
