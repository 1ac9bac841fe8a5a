using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Reports;

/// <summary>
/// What one run produced, as <c>taskisol run --report</c> writes it (docs/reports.md, docs/report.schema.json). Times
/// are virtual nanoseconds since boot unless the name says otherwise.
/// </summary>
public sealed record RunReport
{
    /// <summary>The scenario's name (a built-in's name or the file's path).</summary>
    public required string Scenario { get; init; }

    /// <summary>The seed of the run.</summary>
    public required long Seed { get; init; }

    /// <summary><c>controlled</c> or <c>concurrent</c>.</summary>
    public required string Mode { get; init; }

    /// <summary>Simulated time the run covered.</summary>
    public required long SimulatedNs { get; init; }

    /// <summary>Wall-clock time the run took, in milliseconds.</summary>
    public required long WallMs { get; init; }

    /// <summary>Events the machine published (findings included).</summary>
    public required long Events { get; init; }

    /// <summary>What the noise accounting measured.</summary>
    public required OsnoiseReport Osnoise { get; init; }

    /// <summary>Noise per CPU (rtla osnoise top), every CPU of the machine, measured or not.</summary>
    public required ImmutableArray<CpuNoiseReport> Cpus { get; init; }

    /// <summary>Isolation violations, each with its causal chain.</summary>
    public required ImmutableArray<ViolationReport> Violations { get; init; }

    /// <summary>Tasks out of user mode for longer than the liveness bound (§7), each with what it was doing.</summary>
    public required ImmutableArray<LivenessReport> Liveness { get; init; }

    /// <summary>
    /// Failures of the run's monitors (a scenario's <c>monitors:</c>, a user's own), each with its causal chain; absent
    /// (null) when none failed, so reports of runs without monitors read as before.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ImmutableArray<MonitorReport>? Monitors { get; init; }

    /// <summary>
    /// One loss of isolation reported twice (two CPUs each printed the report, docs/races.md R14), each with the second
    /// report's causal chain; absent (null) when there was none, so reports of runs without one read as before.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public ImmutableArray<DoubleReportReport>? DoubleReports { get; init; }

    /// <summary>Signals generated.</summary>
    public required ImmutableArray<SignalReport> Signals { get; init; }

    /// <summary>Tasks that ended.</summary>
    public required ImmutableArray<ExitReport> Exits { get; init; }

    /// <summary>Every <c>prctl()</c> and what it returned.</summary>
    public required ImmutableArray<PrctlReport> Prctl { get; init; }

    /// <summary>Kernel log lines (boot, then the run's), in dmesg format.</summary>
    public required ImmutableArray<LogLineReport> Log { get; init; }

    /// <summary>The scenario's expectations and whether each held.</summary>
    public required ImmutableArray<ExpectationReport> Expectations { get; init; }
    /// <summary>
    /// Set when simulated time stopped at one instant (docs/model.md §12): the run ended there with this finding.
    /// Absent from the JSON otherwise.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NoProgressReport? NoProgress { get; init; }
}

/// <summary>
/// One CPU's line of the noise table (rtla osnoise top, docs/reports.md). A CPU that was not measured
/// (<see cref="Measured"/> false: not selected, or nothing measured yet) has zeros and no
/// <see cref="CpuAvailablePercent"/>.
/// </summary>
/// <param name="Cpu">The CPU.</param>
/// <param name="Measured">Whether it was measured.</param>
/// <param name="Periods">Measurement periods covered, the last one possibly partial.</param>
/// <param name="RuntimeNs">The measured time.</param>
/// <param name="NoiseNs">The part of it the measuring workload was kept from the CPU.</param>
/// <param name="CpuAvailablePercent"><c>% CPU Aval</c> with five decimals, truncated (<see cref="NoiseShare"/>); null when not measured.</param>
/// <param name="MaxNoiseNs">The most noise within one period.</param>
/// <param name="MaxSingleNs">The longest single noise.</param>
/// <param name="Hw">Hardware noise (always 0 in the model).</param>
/// <param name="Nmi">NMIs taken.</param>
/// <param name="Irq">Other interrupts taken.</param>
/// <param name="Softirq">Softirqs (always 0 in the model).</param>
/// <param name="Thread">Threads other than the workload switched in.</param>
/// <param name="Noises">Single noises that have ended.</param>
public sealed record CpuNoiseReport(
    int Cpu,
    bool Measured,
    long Periods,
    long RuntimeNs,
    long NoiseNs,
    decimal? CpuAvailablePercent,
    long MaxNoiseNs,
    long MaxSingleNs,
    long Hw,
    long Nmi,
    long Irq,
    long Softirq,
    long Thread,
    long Noises)
{
    /// <summary>The noise share by the one definition (<see cref="NoiseShare"/>).</summary>
    [JsonIgnore]
    public NoiseShare Share => new(RuntimeNs, NoiseNs);

    /// <summary>From the accounting's figures.</summary>
    public static CpuNoiseReport From(CpuNoise n)
    {
        ArgumentNullException.ThrowIfNull(n);
        return new(n.Cpu, n.Measured, n.Periods, n.RuntimeNs, n.NoiseNs, n.Share.AvailablePercent, n.MaxNoiseNs, n.MaxSingleNs, n.Hw, n.Nmi, n.Irq, n.Softirq, n.Thread, n.Noises);
    }
}

/// <summary>What the noise accounting measured (<see cref="OsnoiseSettings"/>): the CPUs, the period, the warm-up.</summary>
/// <param name="Cpus">The CPUs selected, in the kernel's list form (<c>0-3</c>).</param>
/// <param name="PeriodNs">The measurement period.</param>
/// <param name="WarmUpNs">Time from boot before anything was counted.</param>
public sealed record OsnoiseReport(string Cpus, long PeriodNs, long WarmUpNs)
{
    /// <summary>The settings of a machine of <paramref name="nrCpus"/> CPUs as the report states them.</summary>
    public static OsnoiseReport From(OsnoiseSettings settings, int nrCpus)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new(settings.CpuList(nrCpus), settings.PeriodNs, settings.WarmUpNs);
    }
}

/// <summary>One link of a causal chain.</summary>
public sealed record ChainLinkReport(long TimeNs, int Cpu, string What);

/// <summary>An isolation violation (§7).</summary>
/// <param name="TimeNs">When the interrupt was taken.</param>
/// <param name="Cpu">The isolated CPU.</param>
/// <param name="Task">The isolated task, <c>comm/pid</c>.</param>
/// <param name="Kind">The interrupt kind, snake case (<c>call_function_ipi</c>, <c>tick</c>, ...).</param>
/// <param name="Detail">The interrupt as the model names it (<c>TLB shootdown IPI</c>).</param>
/// <param name="Chain">From the root cause to the interrupt.</param>
public sealed record ViolationReport(long TimeNs, int Cpu, string Task, string Kind, string Detail, ImmutableArray<ChainLinkReport> Chain);

/// <summary>
/// Simulated time stopped (docs/model.md §12): at <paramref name="TimeNs"/>, <paramref name="Deliveries"/> deliveries
/// without the clock moving, among the actors of <paramref name="Loop"/>; <paramref name="What"/> says it in one line.
/// </summary>
public sealed record NoProgressReport(long TimeNs, int Cpu, long Deliveries, string What, ImmutableArray<LoopActorReport> Loop);

/// <summary>An actor of the loop of a <see cref="NoProgressReport"/> and the message types it received (by type name).</summary>
public sealed record LoopActorReport(string Actor, ImmutableArray<string> Messages);

/// <summary>
/// A liveness failure (docs/model.md §7): a task out of user mode past the bound, with what it was doing then
/// (<see cref="LivenessWait"/>, written snake_case: <c>returning_to_user</c>, <c>in_kernel</c>, <c>runnable</c>).
/// </summary>
public sealed record LivenessReport(long TimeNs, int Cpu, string Task, long SinceNs, long BoundNs, LivenessWait Waiting);

/// <summary>A monitor's failure (docs/exploration.md, "Monitors"): which monitor, how it failed, where, and the chain.</summary>
/// <param name="TimeNs">When it failed.</param>
/// <param name="Cpu">The CPU the property is about.</param>
/// <param name="Monitor">The monitor's name.</param>
/// <param name="Kind">Its kind (<c>no_interrupt</c>, <c>max_single_noise</c>, <c>reaches_user</c>, a class name).</param>
/// <param name="Failure">How it failed: <c>assertion</c>, <c>hot_too_long</c> or <c>hot_at_end</c> in the JSON.</param>
/// <param name="Task">The task it is about, or null.</param>
/// <param name="Reason">What broke, in words.</param>
/// <param name="Chain">The causal chain of the event that broke it (or made it hot), root first.</param>
public sealed record MonitorReport(long TimeNs, int Cpu, string Monitor, string Kind, MonitorFailure Failure, string? Task, string Reason, ImmutableArray<ChainLinkReport> Chain);

/// <summary>One loss of isolation reported twice: the task, the two CPUs that printed a report, the second one's chain.</summary>
/// <param name="TimeNs">When the second report was printed.</param>
/// <param name="Cpu">The isolated CPU whose task lost isolation.</param>
/// <param name="Task">The task, <c>comm/pid</c>.</param>
/// <param name="FirstReportCpu">The CPU that printed the first report.</param>
/// <param name="SecondReportCpu">The CPU that printed the second.</param>
/// <param name="Chain">The second report's causal chain, root first.</param>
public sealed record DoubleReportReport(long TimeNs, int Cpu, string Task, int FirstReportCpu, int SecondReportCpu, ImmutableArray<ChainLinkReport> Chain);

/// <summary>A signal generated for a task.</summary>
public sealed record SignalReport(long TimeNs, int Cpu, string Task, int Signal, string Reason);

/// <summary>A task that ended: <c>signal</c> 0 for an exit with <c>code</c>, else the signal that killed it.</summary>
public sealed record ExitReport(long TimeNs, int Cpu, string Task, int Code, int Signal);

/// <summary>A <c>prctl(option, arg)</c> and its result (a negative errno on failure).</summary>
public sealed record PrctlReport(long TimeNs, int Cpu, string Task, int Option, ulong Arg, long Result);

/// <summary>A kernel log line: its time and the line as dmesg prints it.</summary>
public sealed record LogLineReport(long TimeNs, string Line);

/// <summary>An expectation of the scenario, as text, and whether it held.</summary>
public sealed record ExpectationReport(string Text, bool Held);

/// <summary>JSON of <see cref="RunReport"/>: snake_case names, enums as strings, indented.</summary>
public static class RunReportJson
{
    /// <summary>The options every report is written and read with.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>The report as JSON text.</summary>
    public static string Serialize(RunReport report) => JsonSerializer.Serialize(report, Options);

    /// <summary>Writes the report as UTF-8 JSON to <paramref name="stream"/>.</summary>
    public static void Write(RunReport report, Stream stream) => JsonSerializer.Serialize(stream, report, Options);

    /// <summary>Reads a report back.</summary>
    /// <exception cref="JsonException">Not a report.</exception>
    public static RunReport Deserialize(string json) =>
        JsonSerializer.Deserialize<RunReport>(json, Options) ?? throw new JsonException("a report is a JSON object, found null");
}
