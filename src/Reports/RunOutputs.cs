using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Reports;

/// <summary>Where a run's files go; a null path is not written.</summary>
/// <param name="Report">The JSON report (<c>--report</c>).</param>
/// <param name="Trace">The Perfetto JSON (<c>--trace</c>).</param>
/// <param name="Ftrace">The ftrace text (<c>--ftrace</c>).</param>
/// <param name="Log">The Serilog compact JSON log (<c>--log</c>).</param>
public sealed record OutputPaths(string? Report = null, string? Trace = null, string? Ftrace = null, string? Log = null)
{
    /// <summary>The paths given, with the option each came from.</summary>
    public IEnumerable<(string Option, string Path)> Given()
    {
        if (Report is not null)
        {
            yield return ("--report", Report);
        }

        if (Trace is not null)
        {
            yield return ("--trace", Trace);
        }

        if (Ftrace is not null)
        {
            yield return ("--ftrace", Ftrace);
        }

        if (Log is not null)
        {
            yield return ("--log", Log);
        }
    }
}

/// <summary>A finished run as the reports see it: its events and the facts around them, without the scenario code.</summary>
/// <param name="Info">Name, seed, mode, simulated and wall time.</param>
/// <param name="Events">Every event the machine recorded, in order.</param>
/// <param name="NrCpus">CPUs of the machine.</param>
/// <param name="Timings">The model costs the run used.</param>
/// <param name="BootLog">The boot log.</param>
/// <param name="Expectations">Each expectation's text and verdict.</param>
/// <param name="Arch">The machine's architecture: which tracepoints the ftrace text prints.</param>
public sealed record FinishedRun(
    RunInfo Info,
    IReadOnlyList<MachineEvent> Events,
    int NrCpus,
    ModelTimings Timings,
    IReadOnlyList<BootLogLine> BootLog,
    IReadOnlyList<(string Text, bool Held)> Expectations,
    Arch Arch = Arch.X86_64)
{
    /// <summary>What the noise accounting measures: the CPUs, the period, the warm-up.</summary>
    public OsnoiseSettings Osnoise { get; init; } = OsnoiseSettings.Default;
}

/// <summary>
/// Everything <c>taskisol run</c> produces from a finished run: the report, the person's text, and the files, each
/// written atomically. Check the paths with <see cref="CheckPaths"/> before the run, so bad output paths fail before
/// any work and nothing is written.
/// </summary>
public static class RunOutputs
{
    /// <summary>
    /// Fails on output paths that cannot be written (<see cref="OutputCheck.CheckFile"/>: an empty path, a missing
    /// directory, a directory, a socket, a directory where no file can be created), on two outputs that are the same
    /// file, and on an output that is one of <paramref name="inputs"/> (the scenario file).
    /// </summary>
    /// <exception cref="OutputFileException">Naming the option and the path.</exception>
    public static void CheckPaths(OutputPaths paths, IReadOnlyCollection<InputFile>? inputs = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        OutputCheck.CheckFiles(paths.Given(), inputs ?? []);
    }

    /// <summary>The report of <paramref name="run"/>: noise accounting and the collected lists over its events.</summary>
    public static RunReport Report(FinishedRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var noise = new NoiseAccountant(run.NrCpus, run.Timings, run.Osnoise);
        var collector = new RunReportCollector();
        RunObservers.Replay(run.Events, run.Info.SimulatedNs, noise, collector);
        return collector.Build(run.Info, run.BootLog, noise, run.Expectations);
    }

    /// <summary>Writes every file of <paramref name="paths"/>, each atomically; <paramref name="report"/> is <see cref="Report"/>'s.</summary>
    /// <exception cref="OutputFileException">A file could not be written (the others written before it stay).</exception>
    public static void Write(OutputPaths paths, FinishedRun run, RunReport report)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(report);
        if (paths.Report is { } r)
        {
            AtomicFile.Write(r, s =>
            {
                RunReportJson.Write(report, s);
                s.WriteByte((byte)'\n');
            });
        }

        if (paths.Trace is { } t)
        {
            AtomicFile.Write(t, s => ChromeTraceWriter.WriteTrace(s, run.Events, run.Info.SimulatedNs, run.NrCpus, run.Timings, run.Osnoise));
        }

        if (paths.Ftrace is { } f)
        {
            AtomicFile.WriteText(f, w => FtraceExporter.WriteTrace(w, run.Events, run.Info.SimulatedNs, run.NrCpus, run.Timings, ArchInfo.For(run.Arch)));
        }

        if (paths.Log is { } l)
        {
            AtomicFile.WriteText(l, w =>
            {
                var log = new ClefLogWriter(w);
                log.WriteBootLog(run.BootLog);
                RunObservers.Replay(run.Events, run.Info.SimulatedNs, log);
            });
        }
    }
}
