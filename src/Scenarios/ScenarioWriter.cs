using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using Sig = TaskIsolation.Machine.Abi.Signal;

namespace TaskIsolation.Scenarios;

/// <summary>
/// Writes a <see cref="Scenario"/> as canonical YAML that <see cref="ScenarioLoader"/> reads back equal: every
/// setting spelled out (defaults too, so a reproducer means the same thing after the defaults change), one layout,
/// block style only. The minimizer of exploration writes its shrunk scenarios with it.
/// </summary>
public static partial class ScenarioWriter
{
    private static readonly string[] Reserved = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"];

    /// <summary>The canonical text.</summary>
    public static string Write(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var w = new Emitter();
        var s = scenario;
        w.Line(0, $"name: {Str(s.Name)}");
        if (s.Description.Length > 0)
        {
            w.Line(0, $"description: {Str(s.Description)}");
        }

        w.Line(0, string.Create(CultureInfo.InvariantCulture, $"cpus: {s.Cpus}"));
        w.Line(0, $"arch: {ArchNames.Name(s.Arch)}");
        w.Line(0, "config:");
        w.Line(1, $"NO_HZ_FULL: {Yn(s.Config.NoHzFull)}");
        w.Line(1, $"TASK_ISOLATION: {Yn(s.Config.TaskIsolation)}");
        w.Line(1, $"TASK_ISOLATION_ALL: {Yn(s.Config.TaskIsolationAll)}");
        w.Line(1, string.Create(CultureInfo.InvariantCulture, $"HZ: {s.Config.Hz}"));
        if (!s.Config.RcuNocbCpu)
        {
            // Only when off (possible only without NO_HZ_FULL): the canonical text, and so every hash, stays as it was.
            w.Line(1, "RCU_NOCB_CPU: n");
        }
        w.Line(0, $"cmdline: {Quoted(s.Cmdline)}");
        w.Line(0, "sysctl:");
        w.Line(1, string.Create(CultureInfo.InvariantCulture, $"vm.stat_interval: {s.Sysctl.VmStatIntervalSeconds}"));
        WriteModel(w, s.Model);
        w.Line(0, $"duration: {Durations.Format(s.DurationNs)}");
        WriteList(w, "tasks", s.Tasks, WriteTask);
        WriteList(w, "noise", s.Noise, WriteNoise);
        WriteOsnoise(w, s.Osnoise);
        if (!s.Monitors.IsEmpty)
        {
            // Only when there are some: the canonical text, and so every hash, of a scenario without stays as it was.
            WriteList(w, "monitors", s.Monitors, WriteMonitor);
        }

        WriteList(w, "expectations", s.Expectations, WriteExpectation);
        return w.ToString();
    }

    /// <summary>SHA-256 of the canonical text (UTF-8), lower-case hex.</summary>
    public static string Hash(Scenario scenario) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Write(scenario))));

    /// <summary>Writes the canonical text to <paramref name="path"/> atomically: a temporary file, then a rename.</summary>
    public static void WriteFile(Scenario scenario, string path) => Reports.AtomicFile.WriteAllText(path, Write(scenario));

    /// <summary>
    /// The <c>osnoise</c> section, only when it is not the default: it changes no machine behaviour, and leaving the
    /// default out keeps the canonical text, and so every hash, of scenarios that do not set it as it was.
    /// </summary>
    private static void WriteOsnoise(Emitter w, OsnoiseSettings o)
    {
        if (o == OsnoiseSettings.Default)
        {
            return;
        }

        w.Line(0, "osnoise:");
        if (o.Cpus is { } cpus)
        {
            w.Line(1, $"cpus: {Cpus(cpus)}");
        }

        w.Line(1, $"period: {Durations.Format(o.PeriodNs)}");
        w.Line(1, $"warm_up: {Durations.Format(o.WarmUpNs)}");
    }

    private static void WriteModel(Emitter w, ScenarioModel m)
    {
        w.Line(0, "model:");
        w.Line(1, $"variant: {(m.Variant == KernelVariant.V16 ? "v16" : "v13")}");
        w.Line(1, $"residual_tick: {(m.Switches.ResidualTick == ResidualTick.Offloaded ? "offloaded" : "1hz")}");
        foreach (var s in ModelKeys.Switches)
        {
            w.Line(1, $"{s.Key}: {(s.Get(m.Switches) ? "true" : "false")}");
        }

        if (m.Switches.BoundedWaitNs > 0)
        {
            w.Line(1, $"bounded_wait: {Durations.Format(m.Switches.BoundedWaitNs)}");
        }

        w.Line(1, $"liveness_bound: {Durations.Format(m.LivenessBoundNs)}");
        if (m.MaxInstantDeliveries != TaskIsolation.Simulation.Simulation.DefaultMaxInstantDeliveries)
        {
            // Written only when set, so the canonical text (and hash) of every scenario that leaves it alone is unchanged.
            w.Line(1, string.Create(CultureInfo.InvariantCulture, $"max_instant_deliveries: {m.MaxInstantDeliveries}"));
        }

        w.Line(1, "timings:");
        foreach (var k in ModelKeys.Timings)
        {
            var value = k.Get(m.Timings);
            w.Line(2, k.IsCount ? string.Create(CultureInfo.InvariantCulture, $"{k.Key}: {value}") : $"{k.Key}: {Durations.Format(value)}");
        }
    }

    private static void WriteList<T>(Emitter w, string key, ImmutableArray<T> items, Action<Emitter, int, T> write)
    {
        if (items.IsEmpty)
        {
            w.Line(0, $"{key}: []");
            return;
        }

        w.Line(0, $"{key}:");
        foreach (var item in items)
        {
            write(w, 1, item);
        }
    }

    private static void WriteTask(Emitter w, int d, ScenarioTask t)
    {
        w.Item(d, $"name: {Str(t.Name)}");
        w.Line(d + 1, $"cpus: {Cpus(t.Affinity)}");
        w.Line(d + 1, $"policy: {ScenarioNames.PolicyName(t.Policy)}");
        w.Line(d + 1, $"start: {Durations.Format(t.StartNs)}");
        WriteProgram(w, d + 1, "program", t.Program);
    }

    private static void WriteProgram(Emitter w, int d, string key, ImmutableArray<Operation> program)
    {
        if (program.IsEmpty)
        {
            w.Line(d, $"{key}: []");
            return;
        }

        w.Line(d, $"{key}:");
        foreach (var op in program)
        {
            WriteOperation(w, d + 1, op);
        }
    }

    private static void WriteOperation(Emitter w, int d, Operation op)
    {
        var c = CultureInfo.InvariantCulture;
        switch (op)
        {
            case Compute x:
                w.Item(d, $"compute: {Durations.Format(x.Ns)}");
                break;
            case Sleep x:
                w.Item(d, $"sleep: {Durations.Format(x.Ns)}");
                break;
            case Syscall x:
                var which = x.Name ?? x.Nr.ToString(c);
                if (x.WorkNs == 2_000)
                {
                    w.Item(d, $"syscall: {Str(which)}");
                }
                else
                {
                    w.Item(d, "syscall:");
                    w.Line(d + 2, x.Name is null ? $"nr: {which}" : $"name: {Str(which)}");
                    w.Line(d + 2, $"work: {Durations.Format(x.WorkNs)}");
                }

                break;
            case Prctl x:
                WritePrctl(w, d, x);
                break;
            case SetAffinity x when x.Target is null:
                w.Item(d, $"affinity: {Cpus(x.Mask)}");
                break;
            case SetAffinity x:
                w.Item(d, "affinity:");
                w.Line(d + 2, $"cpus: {Cpus(x.Mask)}");
                w.Line(d + 2, $"task: {Str(x.Target!)}");
                break;
            case TouchPage x:
                w.Item(d, string.Create(c, $"touch: 0x{x.Address:x}"));
                break;
            case UnalignedAccess x:
                w.Item(d, "unaligned:");
                w.Line(d + 2, string.Create(c, $"address: 0x{x.Address:x}"));
                w.Line(d + 2, string.Create(c, $"pc: 0x{x.Pc:x}"));
                break;
            case Mmap x:
                w.Item(d, string.Create(c, $"mmap: {x.Length}"));
                break;
            case Munmap x:
                w.Item(d, string.Create(c, $"munmap: 0x{x.Address:x}"));
                break;
            case Mlock x:
                w.Item(d, string.Create(c, $"mlock: {x.Length}"));
                break;
            case ArmPosixTimer x:
                w.Item(d, "posix_timer:");
                w.Line(d + 2, $"expires: {Durations.Format(x.Ns)}");
                w.Line(d + 2, $"signal: {Sig.Name(x.Signal)}");
                w.Line(d + 2, $"per_process: {(x.PerProcess ? "true" : "false")}");
                break;
            case Kill x:
                w.Item(d, "kill:");
                w.Line(d + 2, $"task: {Str(x.Target)}");
                w.Line(d + 2, $"signal: {Sig.Name(x.Signal)}");
                break;
            case Sigaction x:
                w.Item(d, "sigaction:");
                w.Line(d + 2, $"signal: {Sig.Name(x.Signal)}");
                WriteProgram(w, d + 2, "handler", x.Handler);
                break;
            case Spawn x:
                w.Item(d, x.Thread ? "thread:" : "fork:");
                w.Line(d + 2, $"name: {Str(x.Comm)}");
                WriteProgram(w, d + 2, "program", x.Program);
                break;
            case WaitChild:
                w.Item(d, "wait");
                break;
            case Exit x:
                w.Item(d, string.Create(c, $"exit: {x.Code}"));
                break;
            case Loop x:
                w.Item(d, "loop:");
                w.Line(d + 2, x.Count < 0 ? "count: forever" : string.Create(c, $"count: {x.Count}"));
                WriteProgram(w, d + 2, "body", x.Body);
                break;
            default:
                throw new ArgumentException($"operation {op.Describe()} has no scenario form", nameof(op));
        }
    }

    private static void WritePrctl(Emitter w, int d, Prctl p)
    {
        var word = p.Arg;
        var flags = new IsolationFlags((uint)(word & uint.MaxValue));
        var onlyFlagBits = word == (word & (IsolationFlags.EnableBit | IsolationFlags.UserSigBit | IsolationFlags.SetSig(0x7f)));
        switch (p.Option)
        {
            case PrctlOptions.SetTaskIsolation when word == IsolationFlags.EnableBit:
                w.Item(d, "prctl: enable");
                return;
            case PrctlOptions.SetTaskIsolation when word == (IsolationFlags.EnableBit | IsolationFlags.NoSigBits):
                w.Item(d, "prctl: nosig");
                return;
            case PrctlOptions.SetTaskIsolation when word == 0:
                w.Item(d, "prctl: disable");
                return;
            case PrctlOptions.GetTaskIsolation when word == 0:
                w.Item(d, "prctl: get");
                return;
            case PrctlOptions.SetTaskIsolation when onlyFlagBits && flags.UserSig:
                w.Item(d, "prctl:");
                w.Line(d + 2, $"enable: {(flags.Enable ? "true" : "false")}");
                w.Line(d + 2, $"signal: {Sig.Name(flags.SignalField)}");
                return;
            default:
                w.Item(d, "prctl:");
                w.Line(d + 2, string.Create(CultureInfo.InvariantCulture, $"option: {p.Option}"));
                w.Line(d + 2, string.Create(CultureInfo.InvariantCulture, $"arg: 0x{p.Arg:x}"));
                return;
        }
    }

    private static void WriteNoise(Emitter w, int d, NoiseSource n)
    {
        switch (n)
        {
            case IrqNoise x:
                w.Item(d, "irq:");
                w.Line(d + 2, string.Create(CultureInfo.InvariantCulture, $"number: {x.Irq}"));
                w.Line(d + 2, $"name: {Str(x.Name)}");
                if (x.Affinity is not null)
                {
                    w.Line(d + 2, $"cpus: {Cpus(x.Affinity)}");
                }

                w.Line(d + 2, $"period: {Durations.Format(x.PeriodNs)}");
                w.Line(d + 2, $"first: {Durations.Format(x.FirstAtNs)}");
                break;
            case NmiNoise x:
                w.Item(d, "nmi:");
                w.Line(d + 2, $"cpus: {Cpus(x.Cpus)}");
                w.Line(d + 2, $"period: {Durations.Format(x.PeriodNs)}");
                w.Line(d + 2, $"first: {Durations.Format(x.FirstAtNs)}");
                break;
            case PeriodicNoise x:
                w.Item(d, "periodic:");
                w.Line(d + 2, $"name: {Str(x.Name)}");
                w.Line(d + 2, $"cpus: {Cpus(x.Cpus)}");
                w.Line(d + 2, $"every: {Durations.Format(x.EveryNs)}");
                w.Line(d + 2, $"start: {Durations.Format(x.StartNs)}");
                WriteProgram(w, d + 2, "do", x.Program);
                break;
            case PosixTimerNoise x:
                w.Item(d, "posix_timer:");
                w.Line(d + 2, $"name: {Str(x.Name)}");
                w.Line(d + 2, $"cpus: {Cpus(x.Cpus)}");
                w.Line(d + 2, $"every: {Durations.Format(x.EveryNs)}");
                w.Line(d + 2, $"expires: {Durations.Format(x.ExpiresNs)}");
                w.Line(d + 2, $"signal: {Sig.Name(x.Signal)}");
                w.Line(d + 2, $"per_process: {(x.PerProcess ? "true" : "false")}");
                w.Line(d + 2, $"start: {Durations.Format(x.StartNs)}");
                break;
            default:
                throw new ArgumentException($"noise {n.Describe()} has no scenario form", nameof(n));
        }
    }

    private static void WriteExpectation(Emitter w, int d, Expectation e)
    {
        var c = CultureInfo.InvariantCulture;
        switch (e)
        {
            case NoViolations { Cpus: null }:
                w.Item(d, "no_violations");
                break;
            case NoViolations x:
                w.Item(d, $"no_violations: {Cpus(x.Cpus!)}");
                break;
            case ViolationCount x:
                w.Item(d, "violations:");
                OptCpus(w, d + 2, x.Cpus);
                OptKind(w, d + 2, x.Kind);
                if (x.Task is not null)
                {
                    w.Line(d + 2, $"task: {Str(x.Task)}");
                }

                Count(w, d + 2, x.Count);
                break;
            case InterruptCount x:
                w.Item(d, "interrupts:");
                OptCpus(w, d + 2, x.Cpus);
                OptKind(w, d + 2, x.Kind);
                Count(w, d + 2, x.Count);
                break;
            case Killed x:
                w.Item(d, "killed:");
                w.Line(d + 2, $"task: {Str(x.Task)}");
                if (x.Signal is { } ks)
                {
                    w.Line(d + 2, $"signal: {Sig.Name(ks)}");
                }

                if (x.Reason is not null)
                {
                    w.Line(d + 2, $"reason: {Quoted(x.Reason)}");
                }

                break;
            case Exited x:
                w.Item(d, "exited:");
                w.Line(d + 2, $"task: {Str(x.Task)}");
                w.Line(d + 2, string.Create(c, $"code: {x.Code}"));
                break;
            case PrctlReturns x:
                w.Item(d, "prctl:");
                w.Line(d + 2, $"task: {Str(x.Task)}");
                w.Line(d + 2, string.Create(c, $"call: {x.Call}"));
                w.Line(d + 2, $"returns: {Errno.FormatReturn(x.Returns)}");
                break;
            case SignalCount x:
                w.Item(d, "signals:");
                w.Line(d + 2, $"task: {Str(x.Task)}");
                if (x.Signal is { } ss)
                {
                    w.Line(d + 2, $"signal: {Sig.Name(ss)}");
                }

                Count(w, d + 2, x.Count);
                break;
            case NoLivenessFailures:
                w.Item(d, "no_liveness_failures");
                break;
            case LivenessFailure { Task: null }:
                w.Item(d, "liveness_failure");
                break;
            case LivenessFailure x:
                w.Item(d, "liveness_failure:");
                w.Line(d + 2, $"task: {Str(x.Task!)}");
                break;
            case DmesgLine x:
                w.Item(d, $"{(x.Absent ? "no_dmesg" : "dmesg")}: {Quoted(x.Text)}");
                break;
            case SysfsReads x:
                w.Item(d, "sysfs:");
                w.Line(d + 2, $"file: {Str(x.File)}");
                w.Line(d + 2, $"cpus: {Cpus(x.Cpus)}");
                break;
            case Elapsed x:
                w.Item(d, "elapsed:");
                WritePoint(w, d + 2, "from", x.From);
                WritePoint(w, d + 2, "to", x.To);
                Range(w, d + 2, x.Range);
                break;
            case MaxNoise x:
                w.Item(d, "max_noise:");
                OptCpus(w, d + 2, x.Cpus);
                Range(w, d + 2, x.Range);
                break;
            case OneOf x:
                w.Item(d, "one_of:");
                foreach (var o in x.Outcomes)
                {
                    w.Line(d + 2, $"{Quoted(o.Name)}:");
                    foreach (var inner in o.Expectations)
                    {
                        WriteExpectation(w, d + 3, inner);
                    }
                }

                break;
            default:
                throw new ArgumentException($"expectation {e.Describe()} has no scenario form", nameof(e));
        }
    }

    private static void WriteMonitor(Emitter w, int d, ScenarioMonitor m)
    {
        w.Item(d, m.Kind + ":");
        w.Line(d + 2, $"name: {Str(m.Name)}");
        switch (m)
        {
            case NoInterruptMonitor x:
                w.Line(d + 2, $"cpus: {Cpus(x.Cpus)}");
                OptKind(w, d + 2, x.Interrupt);
                WritePoint(w, d + 2, "from", x.From);
                WritePoint(w, d + 2, "to", x.To);
                break;
            case MaxSingleNoiseMonitor x:
                OptCpus(w, d + 2, x.Cpus);
                w.Line(d + 2, $"at_most: {Durations.Format(x.AtMostNs)}");
                break;
            case ReachesUserMonitor x:
                w.Line(d + 2, $"task: {Str(x.Task)}");
                w.Line(d + 2, $"after: {Str(x.After)}");
                w.Line(d + 2, $"within: {Durations.Format(x.WithinNs)}");
                break;
            default:
                throw new ArgumentException($"monitor {m.Describe()} has no scenario form", nameof(m));
        }
    }

    private static void WritePoint(Emitter w, int d, string key, EventPoint p)
    {
        w.Line(d, key + ":");
        w.Line(d + 1, $"task: {Str(p.Task)}");
        switch (p.Kind)
        {
            case PointKind.Exits:
                w.Line(d + 1, "exits: true");
                return;
            default:
                w.Line(d + 1, $"{(p.Kind == PointKind.Starts ? "starts" : "ends")}: {Str(p.Step!)}");
                w.Line(d + 1, string.Create(CultureInfo.InvariantCulture, $"call: {p.Occurrence}"));
                return;
        }
    }

    private static void Range(Emitter w, int d, DurationRange range)
    {
        if (range.AtLeastNs is { } lo)
        {
            w.Line(d, $"at_least: {Durations.Format(lo)}");
        }

        if (range.AtMostNs is { } hi)
        {
            w.Line(d, $"at_most: {Durations.Format(hi)}");
        }
    }

    private static void OptCpus(Emitter w, int d, CpuMask? cpus)
    {
        if (cpus is not null)
        {
            w.Line(d, $"cpus: {Cpus(cpus)}");
        }
    }

    private static void OptKind(Emitter w, int d, InterruptKind? kind)
    {
        if (kind is { } k)
        {
            w.Line(d, $"kind: {ScenarioNames.KindName(k)}");
        }
    }

    private static void Count(Emitter w, int d, CountRange count)
    {
        var c = CultureInfo.InvariantCulture;
        if (count.AtLeast is { } lo && count.AtMost == lo)
        {
            w.Line(d, string.Create(c, $"count: {lo}"));
            return;
        }

        // A range with no bound at all is written as "at_least: 0": without either key the loader reads "some".
        w.Line(d, string.Create(c, $"at_least: {count.AtLeast ?? 0}"));
        if (count.AtMost is { } hi)
        {
            w.Line(d, string.Create(c, $"at_most: {hi}"));
        }
    }

    private static string Yn(bool on) => on ? "y" : "n";

    private static string Cpus(CpuMask mask)
    {
        var list = mask.ToList();
        return PlainCpuList().IsMatch(list) ? list : Quoted(list);
    }

    /// <summary>A word as a plain scalar when YAML reads it back as the same string, else double-quoted.</summary>
    private static string Str(string s) =>
        PlainWord().IsMatch(s) && !Reserved.Contains(s, StringComparer.OrdinalIgnoreCase) ? s : Quoted(s);

    /// <summary>A YAML double-quoted scalar: every character that is not printable ASCII-or-Unicode is escaped.</summary>
    private static string Quoted(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var ch in s)
        {
            switch (ch)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case < ' ' or (>= '\x7f' and <= '\xa0') or '\u2028' or '\u2029' or '\ufeff' or '\ufffe' or '\uffff':
                    sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)ch:x4}");
                    break;
                default:
                    sb.Append(ch);
                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.+-]*\z")]
    private static partial Regex PlainWord();

    [GeneratedRegex(@"^[0-9][0-9-]*\z")]
    private static partial Regex PlainCpuList();

    /// <summary>Indented lines with "\n" ends.</summary>
    private sealed class Emitter
    {
        private readonly StringBuilder _sb = new();

        public void Line(int depth, string text) => _sb.Append(' ', depth * 2).Append(text).Append('\n');

        /// <summary>A list item at <paramref name="depth"/>: <c>- text</c>; its further keys go at depth + 1.</summary>
        public void Item(int depth, string text) => _sb.Append(' ', (depth - 1) * 2).Append("  - ").Append(text).Append('\n');

        public override string ToString() => _sb.ToString();
    }
}
