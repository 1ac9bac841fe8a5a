using System.Collections.Immutable;
using System.Globalization;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// <c>tasks:</c> and the programs they run: each operation (compute, syscall, prctl, fork, loop, ...) becomes the
/// record the task actor walks, built with its constructor. Also reads the programs of periodic noise and of signal
/// handlers.
/// </summary>
internal sealed class ProgramReader(ReadContext context) : SectionReader(context)
{

    /// <summary>The names a raw <c>prctl</c>'s <c>option</c> may be given by (<c>include/uapi/linux/prctl.h</c>).</summary>
    private const string PrSetTaskIsolation = "PR_SET_TASK_ISOLATION";

    /// <summary>v13's get option, by name.</summary>
    private const string PrGetTaskIsolation = "PR_GET_TASK_ISOLATION";

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

    public ScenarioTask? ReadTask(YamlNode node, string what)
    {
        var f = Yaml.Fields(node, what, ScenarioLoader.Keys["task"]);
        if (f is null)
        {
            return null;
        }

        var name = Required(f, node, what, "name", v => Yaml.TaskName(v, $"{what}.name"));
        var cpus = Required(f, node, what, "cpus", v => CpusOf(v, $"{what}.cpus"));
        var policy = SchedPolicy.Normal;
        if (f.TryGetValue("policy", out var p) && Yaml.Scalar(p.Value, $"{what}.policy", "normal, fifo, rr or deadline") is { } ps
            && !ScenarioNames.TryParsePolicy(ps, out policy))
        {
            Yaml.Error(p.Value, $"{what}.policy: found '{YamlReader.Clip(ps)}', expected one of {string.Join(", ", ScenarioNames.Policies)}");
        }

        long start = 0;
        if (f.TryGetValue("start", out var st) && Yaml.Duration(st.Value, $"{what}.start", positive: false) is { } s)
        {
            start = s;
        }

        var program = f.TryGetValue("program", out var prog) ? Program(prog.Value, $"{what}.program") : [];
        if (name is not null)
        {
            Context.Declared.Add((name, f["name"].Value));
        }

        return name is null || cpus is null ? null : new ScenarioTask(name, cpus, policy, start, program);
    }

    public ImmutableArray<Operation> Program(YamlNode node, string what)
    {
        if (YamlReader.IsNull(node))
        {
            return [];
        }

        if (node is not YamlSequenceNode seq)
        {
            Yaml.Error(node, $"{what}: found {YamlReader.Shown(node)}, expected a list of operations ('- compute: 2ms', ...)");
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

    public Operation? Operation(YamlNode node, string what)
    {
        var tagged = Yaml.Tagged(node, what, ScenarioLoader.Keys["operation"]);
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
                    Yaml.Error(value ?? keyNode, $"{at}: needs a value{(BareOperations.Contains(op) ? string.Empty : " (see docs/scenarios.md)")}");
                    return null;
            }
        }

        switch (op)
        {
            case "compute":
                return Yaml.Duration(value, at, positive: true) is { } c ? new Compute(c) : null;
            case "sleep":
                return Yaml.Duration(value, at, positive: true) is { } sl ? new Sleep(sl) : null;
            case "touch":
                return Yaml.Unsigned(value, at) is { } addr ? new TouchPage(addr) : null;
            case "mmap":
                return Yaml.Unsigned(value, at, 1) is { } len ? new Mmap(len) : null;
            case "munmap":
                return Yaml.Unsigned(value, at) is { } ua ? new Munmap(ua) : null;
            case "mlock":
                return Yaml.Unsigned(value, at, 1) is { } ml ? new Mlock(ml) : null;
            case "exit":
                return Yaml.Integer(value, at, 0, 255) is { } code ? new Exit((int)code) : null;
            case "wait":
                Yaml.Error(value, $"{at}: takes no value, write '- wait'");
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
                Yaml.Error(keyNode, $"{at}: not an operation");
                return null;
        }
    }

    /// <summary><c>unaligned: 0x7f0000000003</c> or <c>unaligned: {address: 0x7f0000000003, pc: 0x10c48}</c>.</summary>
    private Operation? Unaligned(YamlNode value, string at)
    {
        if (value is not YamlMappingNode)
        {
            return Yaml.Unsigned(value, at) is { } a ? new UnalignedAccess(a, ScenarioLoader.UnalignedAccessDefaultPc) : null;
        }

        var f = Yaml.Fields(value, at, ScenarioLoader.Keys["unaligned"]);
        if (f is null)
        {
            return null;
        }

        var address = Required(f, value, at, "address", v => Yaml.Unsigned(v, $"{at}.address"));
        var pc = f.TryGetValue("pc", out var p) ? Yaml.Unsigned(p.Value, $"{at}.pc") : ScenarioLoader.UnalignedAccessDefaultPc;
        return address is { } ad && pc is { } ip ? new UnalignedAccess(ad, ip) : null;
    }

    private Operation? Syscall(YamlNode value, string at)
    {
        YamlNode which;
        long work = 2_000;
        if (value is YamlMappingNode)
        {
            var f = Yaml.Fields(value, at, ScenarioLoader.Keys["syscall"]);
            if (f is null)
            {
                return null;
            }

            if (f.ContainsKey("name") == f.ContainsKey("nr"))
            {
                Yaml.Error(value, $"{at}: give exactly one of 'name' and 'nr'");
                return null;
            }

            which = f.TryGetValue("name", out var n) ? n.Value : f["nr"].Value;
            if (f.TryGetValue("work", out var w))
            {
                if (Yaml.Duration(w.Value, $"{at}.work", positive: false) is not { } wn)
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

        var text = Yaml.Scalar(which, at, "a syscall name such as write, or its number");
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
                Yaml.Error(which, string.Create(CultureInfo.InvariantCulture, $"{at}: syscall number {number} is out of range, expected 0 to 4095"));
                return null;
            }

            nr = (int)number;
            name = Context.Syscalls.NameOf(nr);
        }
        else if (Context.Syscalls.Contains(text))
        {
            name = text;
        }
        else
        {
            Yaml.Error(which, $"{at}: unknown syscall '{YamlReader.Clip(text)}' for this arch{ScenarioNames.DidYouMean(text, Context.Syscalls.ByName.Keys)}; known: {string.Join(", ", Context.Syscalls.ByName.Keys.Order(StringComparer.Ordinal))}");
            return null;
        }

        if (name is not null && DedicatedSyscalls.TryGetValue(name, out var dedicated))
        {
            Yaml.Error(which, $"{at}: {name} has an operation of its own that does what the kernel does; use '{dedicated}' (a plain syscall only costs time)");
            return null;
        }

        // A number the table names runs as that call; an unlisted number is kept as a number (ENOSYS if unknown).
        return name is not null ? new Syscall(name, -1, work) : new Syscall(null, nr, work);
    }

    private Operation? Prctl(YamlNode value, string at)
    {
        if (value is YamlScalarNode)
        {
            var word = Yaml.Scalar(value, at, "enable, nosig, disable or get");
            switch (word)
            {
                case null:
                    return null;
                case "enable":
                    return new Prctl(PrctlOptions.SetTaskIsolation, IsolationFlags.EnableBit);
                case "nosig":
                    return new Prctl(PrctlOptions.SetTaskIsolation, IsolationFlags.EnableBit | IsolationFlags.NoSigBits);
                case "disable":
                    return new Prctl(PrctlOptions.SetTaskIsolation, 0);
                case "get":
                    return new Prctl(PrctlOptions.GetTaskIsolation, 0);
                default:
                    Yaml.Error(value, $"{at}: found '{YamlReader.Clip(word)}', expected enable, nosig, disable, get, or a mapping {{enable: true, signal: SIGUSR1}} or {{option: {PrctlOptions.SetTaskIsolation}, arg: 0x1}}");
                    return null;
            }
        }

        var f = Yaml.Fields(value, at, ScenarioLoader.Keys["prctl"]);
        if (f is null)
        {
            return null;
        }

        var raw = f.ContainsKey("option") || f.ContainsKey("arg");
        var flags = f.ContainsKey("enable") || f.ContainsKey("signal");
        if (raw && flags)
        {
            Yaml.Error(value, $"{at}: give either option and arg (a raw prctl) or enable and signal (PR_SET_TASK_ISOLATION flags), not both");
            return null;
        }

        if (raw)
        {
            if (!f.TryGetValue("option", out var o))
            {
                Yaml.Error(value, $"{at}: 'option' is missing");
                return null;
            }

            var os = Yaml.Scalar(o.Value, $"{at}.option", "PR_SET_TASK_ISOLATION, PR_GET_TASK_ISOLATION or a number");
            long? option = os switch
            {
                null => null,
                PrSetTaskIsolation or "PR_TASK_ISOLATION" => PrctlOptions.SetTaskIsolation,
                PrGetTaskIsolation => PrctlOptions.GetTaskIsolation,
                _ => Yaml.Integer(o.Value, $"{at}.option", 0, int.MaxValue),
            };
            ulong arg = 0;
            if (f.TryGetValue("arg", out var a))
            {
                if (Yaml.Unsigned(a.Value, $"{at}.arg") is not { } av)
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
            if (Yaml.Bool(e.Value, $"{at}.enable") is not { } ev)
            {
                return null;
            }

            enable = ev;
        }

        ulong word2 = enable ? IsolationFlags.EnableBit : 0;
        if (f.TryGetValue("signal", out var sg))
        {
            if (Yaml.SignalNumber(sg.Value, $"{at}.signal", 0) is not { } sig)
            {
                return null;
            }

            word2 |= IsolationFlags.UserSigBit | IsolationFlags.SetSig(sig);
        }

        return new Prctl(PrctlOptions.SetTaskIsolation, word2);
    }

    private Operation? Affinity(YamlNode value, string at)
    {
        if (value is not YamlMappingNode)
        {
            return CpusOf(value, at) is { } m ? new SetAffinity(m) : null;
        }

        var f = Yaml.Fields(value, at, ScenarioLoader.Keys["affinity"]);
        if (f is null)
        {
            return null;
        }

        var mask = Required(f, value, at, "cpus", v => CpusOf(v, $"{at}.cpus"));
        string? target = null;
        if (f.TryGetValue("task", out var t))
        {
            target = Yaml.TaskName(t.Value, $"{at}.task");
            if (target is null)
            {
                return null;
            }

            Context.Referenced.Add((target, t.Value));
        }

        return mask is null ? null : new SetAffinity(mask, target);
    }

    private Operation? PosixTimer(YamlNode value, string at)
    {
        var f = Yaml.Fields(value, at, ScenarioLoader.Keys["posix_timer"]);
        if (f is null)
        {
            return null;
        }

        var expires = Required(f, value, at, "expires", v => Yaml.Duration(v, $"{at}.expires", positive: true));
        var signal = f.TryGetValue("signal", out var s) ? Yaml.SignalNumber(s.Value, $"{at}.signal", 1) : Signal.SIGALRM;
        var perProcess = f.TryGetValue("per_process", out var pp) ? Yaml.Bool(pp.Value, $"{at}.per_process") : false;
        return expires is { } e && signal is { } sig && perProcess is { } per ? new ArmPosixTimer(e, sig, per) : null;
    }

    private Operation? Kill(YamlNode value, string at)
    {
        var f = Yaml.Fields(value, at, ScenarioLoader.Keys["kill"]);
        if (f is null)
        {
            return null;
        }

        var task = Required(f, value, at, "task", v => Yaml.TaskName(v, $"{at}.task"));
        var signal = Required(f, value, at, "signal", v => Yaml.SignalNumber(v, $"{at}.signal", 0));
        if (task is not null)
        {
            Context.Referenced.Add((task, f["task"].Value));
        }

        return task is not null && signal is { } sig ? new Kill(task, sig) : null;
    }

    private Operation? Sigaction(YamlNode value, string at)
    {
        var f = Yaml.Fields(value, at, ScenarioLoader.Keys["sigaction"]);
        if (f is null)
        {
            return null;
        }

        var signal = Required(f, value, at, "signal", v => Yaml.SignalNumber(v, $"{at}.signal", 1));
        if (signal is Signal.SIGKILL or Signal.SIGSTOP)
        {
            Yaml.Error(f["signal"].Value, $"{at}.signal: {Signal.Name(signal.Value)} cannot be caught (rt_sigaction returns EINVAL)");
            return null;
        }

        var handler = f.TryGetValue("handler", out var h) ? Program(h.Value, $"{at}.handler") : [];
        return signal is { } sig ? new Sigaction(sig, handler) : null;
    }

    private Operation? Spawn(YamlNode value, string at, bool thread)
    {
        var f = Yaml.Fields(value, at, ScenarioLoader.Keys["spawn"]);
        if (f is null)
        {
            return null;
        }

        var name = Required(f, value, at, "name", v => Yaml.TaskName(v, $"{at}.name"));
        var program = f.TryGetValue("program", out var p) ? Program(p.Value, $"{at}.program") : [];
        if (name is null)
        {
            return null;
        }

        Context.Declared.Add((name, f["name"].Value));
        return new Spawn(name, program, thread);
    }

    private Operation? Loop(YamlNode value, string at)
    {
        var f = Yaml.Fields(value, at, ScenarioLoader.Keys["loop"]);
        if (f is null)
        {
            return null;
        }

        var count = Required(f, value, at, "count", v =>
            Yaml.Scalar(v, $"{at}.count", "a number of passes or forever") is "forever" ? -1 : Yaml.Integer(v, $"{at}.count", 0, int.MaxValue));
        var body = Required(f, value, at, "body", v => (ImmutableArray<Operation>?)Program(v, $"{at}.body"));
        if (count is not { } n || body is not { } b)
        {
            return null;
        }

        if (!DoesSomething(b))
        {
            // An empty pass would spin the task's program walker forever without simulated time passing.
            Yaml.Error(f["body"].Value, $"{at}.body: found no operation that runs, expected at least one (a loop of empty loops never ends)");
            return null;
        }

        return new Loop((int)n, b);
    }

    private static bool DoesSomething(ImmutableArray<Operation> ops) =>
        ops.Any(o => o is not Loop l || (l.Count != 0 && DoesSomething(l.Body)));
}
