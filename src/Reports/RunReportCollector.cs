using System.Text.Json;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Reports;

/// <summary>What a run was: the fields of a report that do not come from its events.</summary>
/// <param name="Scenario">The scenario's name or path.</param>
/// <param name="Seed">The seed.</param>
/// <param name="Mode"><c>controlled</c> or <c>concurrent</c>.</param>
/// <param name="SimulatedNs">Simulated time covered.</param>
/// <param name="WallMs">Wall-clock milliseconds the run took.</param>
public sealed record RunInfo(string Scenario, long Seed, string Mode, long SimulatedNs, long WallMs);

/// <summary>
/// Streaming collector of a report's lists: violations (with chains), liveness failures, signals, exits, prctl results
/// and kernel log lines. Each list keeps at most <see cref="MaxEntries"/> entries (the first ones) and counts the rest
/// in <see cref="Dropped"/>, so a soak's memory stays bounded; a run report keeps everything.
/// </summary>
public sealed class RunReportCollector(int maxEntries = int.MaxValue) : IRunObserver
{
    private readonly List<ViolationReport> _violations = [];
    private readonly List<LivenessReport> _liveness = [];
    private readonly List<MonitorReport> _monitors = [];
    private readonly List<DoubleReportReport> _doubleReports = [];
    private NoProgressReport? _noProgress;
    private readonly List<SignalReport> _signals = [];
    private readonly List<ExitReport> _exits = [];
    private readonly List<PrctlReport> _prctl = [];
    private readonly List<LogLineReport> _log = [];

    /// <summary>The most entries any one list keeps.</summary>
    public int MaxEntries { get; } = maxEntries;

    /// <summary>Entries not kept because a list was full.</summary>
    public long Dropped { get; private set; }

    /// <summary>Events seen.</summary>
    public long Events { get; private set; }

    /// <summary>Violations seen (kept or not).</summary>
    public long ViolationCount { get; private set; }

    /// <summary>Liveness failures seen (kept or not).</summary>
    public long LivenessCount { get; private set; }

    /// <summary>The violations kept.</summary>
    public IReadOnlyList<ViolationReport> Violations => _violations;

    /// <summary>The liveness failures kept.</summary>
    public IReadOnlyList<LivenessReport> Liveness => _liveness;

    /// <summary>The run's kernel log lines kept.</summary>
    public IReadOnlyList<LogLineReport> Log => _log;

    /// <summary>The report's <c>kind</c> of an interrupt kind: snake case (<c>CallFunctionIpi</c> → <c>call_function_ipi</c>).</summary>
    public static string KindName(Enum kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        return JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());
    }

    /// <summary>A finding as a report entry.</summary>
    public static ViolationReport ToReport(ViolationDetected v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new(v.Time, v.Cpu, v.Task.ToString(), KindName(v.Kind), v.Detail, [.. v.Chain.Select(ToReport)]);
    }

    /// <summary>A liveness failure as a report entry, with what the task was doing (its typed <see cref="LivenessViolated.Waiting"/>).</summary>
    public static LivenessReport ToReport(LivenessViolated l)
    {
        ArgumentNullException.ThrowIfNull(l);
        return new(l.Time, l.Cpu, l.Task.ToString(), l.SinceNs, l.BoundNs, l.Waiting);
    }

    /// <summary>A monitor failure as a report entry.</summary>
    public static MonitorReport ToReport(MonitorFailed m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return new(m.Time, m.Cpu, m.Monitor, m.MonitorKind, m.Failure, m.Task?.ToString(), m.Reason, [.. m.Chain.Select(ToReport)]);
    }

    /// <summary>A double report as a report entry.</summary>
    public static DoubleReportReport ToReport(DoubleReport d)
    {
        ArgumentNullException.ThrowIfNull(d);
        return new(d.Time, d.Cpu, d.Task.ToString(), d.FirstReportCpu, d.SecondReportCpu, [.. d.Chain.Select(ToReport)]);
    }

    /// <inheritdoc />
    public void Observe(MachineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        Events++;
        switch (e)
        {
            case ViolationDetected v:
                ViolationCount++;
                Keep(_violations, ToReport(v));
                break;
            case LivenessViolated l:
                LivenessCount++;
                Keep(_liveness, ToReport(l));
                break;
            case MonitorFailed m:
                Keep(_monitors, ToReport(m));
                break;
            case DoubleReport d:
                Keep(_doubleReports, ToReport(d));
                break;
            case SignalSent s:
                Keep(_signals, new SignalReport(s.Time, s.Cpu, s.Task.ToString(), s.Signal, s.Reason.Text));
                break;
            case TaskExited x:
                Keep(_exits, new ExitReport(x.Time, x.Cpu, x.Task.ToString(), x.Code, x.Signal));
                break;
            case PrctlReturned p:
                Keep(_prctl, new PrctlReport(p.Time, p.Cpu, p.Task.ToString(), p.Option, p.Arg, p.Result));
                break;
            case KernelLogged k:
                Keep(_log, new LogLineReport(k.Time, Dmesg.Format(k.Time, k.Text)));
                break;
            case NoProgressDetected n:
                _noProgress = new NoProgressReport(n.Time, n.Cpu, n.Deliveries, n.What, [.. n.Loop.Select(a => new LoopActorReport(a.Actor, a.Messages))]);
                break;
        }
    }

    /// <inheritdoc />
    public void Finish(long nowNs)
    {
    }

    /// <summary>
    /// The report: <paramref name="info"/>, the boot log lines before the run's, the noise figures of
    /// <paramref name="noise"/> at <see cref="RunInfo.SimulatedNs"/> (<see cref="NoiseAccountant.Snapshot"/>, so a
    /// soak's report and its noise table read the same instant), and <paramref name="expectations"/> as (text, held) pairs.
    /// </summary>
    public RunReport Build(RunInfo info, IEnumerable<BootLogLine> bootLog, NoiseAccountant noise, IEnumerable<(string Text, bool Held)> expectations)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(bootLog);
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(expectations);
        return new RunReport
        {
            Scenario = info.Scenario,
            Seed = info.Seed,
            Mode = info.Mode,
            SimulatedNs = info.SimulatedNs,
            WallMs = info.WallMs,
            Events = Events,
            Osnoise = OsnoiseReport.From(noise.Settings, noise.NrCpus),
            Cpus = [.. noise.Snapshot(info.SimulatedNs).Select(CpuNoiseReport.From)],
            Violations = [.. _violations],
            Liveness = [.. _liveness],
            Monitors = _monitors.Count == 0 ? null : [.. _monitors],
            DoubleReports = _doubleReports.Count == 0 ? null : [.. _doubleReports],
            Signals = [.. _signals],
            Exits = [.. _exits],
            Prctl = [.. _prctl],
            Log = [.. bootLog.Select(l => new LogLineReport(l.TimeNs, l.ToString())), .. _log],
            Expectations = [.. expectations.Select(x => new ExpectationReport(x.Text, x.Held))],
            NoProgress = _noProgress,
        };
    }

    private static ChainLinkReport ToReport(ChainLink l) => new(l.TimeNs, l.Cpu, l.What);

    private void Keep<T>(List<T> list, T item)
    {
        if (list.Count < MaxEntries)
        {
            list.Add(item);
        }
        else
        {
            Dropped++;
        }
    }
}
