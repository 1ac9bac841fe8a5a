using System.Globalization;
using Serilog.Events;
using Serilog.Formatting.Compact;
using Serilog.Parsing;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Reports;

/// <summary>
/// The run's log as Serilog compact JSON (CLEF, one event per line, <see cref="CompactJsonFormatter"/>), written as
/// events arrive: the boot log, every kernel log line of the run, signals, exits, prctl results, and the findings
/// (violations with their chain, liveness failures). <c>@t</c> is virtual time since boot counted from the Unix epoch
/// (boot is <c>1970-01-01T00:00:00Z</c>); each event also carries <c>TimeNs</c>, <c>Cpu</c>, <c>EventId</c> and
/// <c>Cause</c>, so tools such as Seq or <c>clef-tool</c> can filter by CPU or follow causes.
/// </summary>
public sealed class ClefLogWriter : IRunObserver
{
    private static readonly MessageTemplateParser Parser = new();
    private static readonly MessageTemplate LineTemplate = Parser.Parse("{Line}");
    private static readonly MessageTemplate Violation = Parser.Parse("Isolation violation on cpu {Cpu}: {Detail} reached {Task} in user mode; chain: {Chain}");
    private static readonly MessageTemplate Liveness = Parser.Parse("Liveness: {Task} on cpu {Cpu} has been returning to user since {SinceNs} ns (bound {BoundNs} ns)");
    private static readonly MessageTemplate Stuck = Parser.Parse("Liveness: {Task} on cpu {Cpu} has been {Doing} since {SinceNs} ns (bound {BoundNs} ns)");
    private static readonly MessageTemplate DoubleReportT = Parser.Parse("Double report on cpu {Cpu}: {Task}'s loss of isolation reported by cpu {FirstCpu} and cpu {SecondCpu}; chain: {Chain}");
    private static readonly MessageTemplate SignalSentT = Parser.Parse("Signal {Signal} to {Task}: {Reason}");
    private static readonly MessageTemplate SignalDiscardedT = Parser.Parse("Signal {Signal} to {Task} discarded (ignored by default): {Reason}");
    private static readonly MessageTemplate ExitT = Parser.Parse("{Task} exited with {Code} (signal {Signal})");
    private static readonly MessageTemplate PrctlT = Parser.Parse("{Task}: prctl({Option}, {Arg}) = {Result}");

    private readonly TextWriter _out;
    private readonly CompactJsonFormatter _formatter = new();

    /// <summary>Events go to <paramref name="output"/>, one JSON object per line.</summary>
    public ClefLogWriter(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _out = output;
    }

    /// <summary>Events written.</summary>
    public long Written { get; private set; }

    /// <summary>Writes the boot log (before the run's events).</summary>
    public void WriteBootLog(IEnumerable<BootLogLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        foreach (var l in lines)
        {
            Write(l.TimeNs, LogEventLevel.Information, LineTemplate, [Prop("Line", l.ToString()), Prop("TimeNs", l.TimeNs), Prop("Source", "boot")]);
        }
    }

    /// <inheritdoc />
    public void Observe(MachineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        switch (e)
        {
            case KernelLogged k:
                Write(k, LogEventLevel.Information, LineTemplate, [Prop("Line", Dmesg.Format(k.Time, k.Text))]);
                break;
            case ViolationDetected v:
                Write(v, LogEventLevel.Error, Violation, [
                    Prop("Detail", v.Detail),
                    Prop("Task", v.Task.ToString()),
                    Prop("Kind", RunReportCollector.KindName(v.Kind)),
                    Prop("Chain", v.ChainText),
                    new LogEventProperty("Links", new SequenceValue(v.Chain.Select(Link))),
                ]);
                break;
            case LivenessViolated l:
                if (l.Waiting == LivenessWait.ReturningToUser)
                {
                    Write(l, LogEventLevel.Error, Liveness, [Prop("Task", l.Task.ToString()), Prop("SinceNs", l.SinceNs), Prop("BoundNs", l.BoundNs)]);
                }
                else
                {
                    Write(l, LogEventLevel.Error, Stuck, [Prop("Task", l.Task.ToString()), Prop("Doing", l.Doing), Prop("SinceNs", l.SinceNs), Prop("BoundNs", l.BoundNs)]);
                }

                break;
            case DoubleReport d:
                Write(d, LogEventLevel.Error, DoubleReportT, [
                    Prop("Task", d.Task.ToString()),
                    Prop("FirstCpu", d.FirstReportCpu),
                    Prop("SecondCpu", d.SecondReportCpu),
                    Prop("Chain", d.ChainText),
                    new LogEventProperty("Links", new SequenceValue(d.Chain.Select(Link))),
                ]);
                break;
            case SignalSent s:
                Write(s, LogEventLevel.Information, SignalSentT, [Prop("Signal", s.Signal), Prop("Task", s.Task.ToString()), Prop("Reason", s.Reason.Text)]);
                break;
            case SignalDiscarded s:
                Write(s, LogEventLevel.Information, SignalDiscardedT, [Prop("Signal", s.Signal), Prop("Task", s.Task.ToString()), Prop("Reason", s.Reason.Text)]);
                break;
            case TaskExited x:
                Write(x, x.Signal == 0 ? LogEventLevel.Information : LogEventLevel.Warning, ExitT, [Prop("Task", x.Task.ToString()), Prop("Code", x.Code), Prop("Signal", x.Signal)]);
                break;
            case PrctlReturned p:
                Write(p, LogEventLevel.Information, PrctlT, [
                    Prop("Task", p.Task.ToString()),
                    Prop("Option", p.Option),
                    Prop("Arg", "0x" + p.Arg.ToString("x", CultureInfo.InvariantCulture)),
                    Prop("Result", p.Result),
                ]);
                break;
        }
    }

    /// <inheritdoc />
    public void Finish(long nowNs) => _out.Flush();

    private static LogEventProperty Prop(string name, object? value) => new(name, new ScalarValue(value));

    private static StructureValue Link(ChainLink l) =>
        new([Prop("TimeNs", l.TimeNs), Prop("Cpu", l.Cpu), Prop("What", l.What)]);

    private void Write(MachineEvent e, LogEventLevel level, MessageTemplate template, List<LogEventProperty> props)
    {
        props.Add(Prop("TimeNs", e.Time));
        props.Add(Prop("Cpu", e.Cpu));
        props.Add(Prop("EventId", e.Id));
        props.Add(Prop("Cause", e.Cause));
        Write(e.Time, level, template, props);
    }

    private void Write(long timeNs, LogEventLevel level, MessageTemplate template, IEnumerable<LogEventProperty> props)
    {
        // One tick is 100 ns: the sub-tick part stays in TimeNs.
        var t = DateTimeOffset.UnixEpoch.AddTicks(timeNs / 100);
        _formatter.Format(new LogEvent(t, level, null, template, props), _out);
        Written++;
    }
}
