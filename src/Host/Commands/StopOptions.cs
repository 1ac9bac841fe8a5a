using System.CommandLine;
using System.Globalization;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Reports;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>--stop-us N</c> and <c>--trace-on-stop F</c> of <c>run</c> and <c>soak</c>, as <c>rtla osnoise -s</c> and
/// <c>-t</c> (docs/reports.md): stop at the first single noise longer than N microseconds on a measured CPU, and write
/// the ftrace text of the window before it.
/// </summary>
internal static class StopOptions
{
    public const string StopName = "--stop-us";
    public const string TraceName = "--trace-on-stop";

    /// <summary>How far before the start of the noise that stopped the run its trace reaches.</summary>
    public const long LeadNs = 10_000_000;

    public static Option<string?> CreateStop() => new(StopName)
    {
        Description = "Stop at the first single noise longer than N microseconds on a measured CPU, as rtla osnoise -s",
        HelpName = "N",
    };

    public static Option<string?> CreateTrace() => new(TraceName)
    {
        Description = $"With {StopName}: write the ftrace text of the last {LeadNs / 1_000_000} ms before that noise, and the noise itself, to this file (as rtla osnoise -t)",
        HelpName = "FILE",
    };

    /// <summary>The bound in nanoseconds (null when not given); a value that is not a whole number of microseconds above 0 is bad input.</summary>
    /// <exception cref="UsageException">The value is bad, or <c>--trace-on-stop</c> was given without it.</exception>
    public static long? Parse(string? stopUs, string? traceOnStop)
    {
        if (stopUs is null)
        {
            if (traceOnStop is not null)
            {
                throw new UsageException($"{TraceName}: needs {StopName} N (the trace is of the window before the noise that stops the run)");
            }

            return null;
        }

        if (!long.TryParse(stopUs, NumberStyles.None, CultureInfo.InvariantCulture, out var us) || us <= 0 || us > long.MaxValue / 1000)
        {
            throw new UsageException($"{StopName}: '{stopUs}' is not a whole number of microseconds above 0 (e.g. {StopName} 20)");
        }

        return us * 1000;
    }

    /// <summary>The line that says why the run stopped.</summary>
    public static string Stopped(SingleNoise n, long boundNs) => string.Create(
        CultureInfo.InvariantCulture,
        $"stopped: a single noise of {n.Ns} ns on cpu {n.Cpu} (from {n.StartNs} ns to {n.EndNs} ns) is above {StopName} {boundNs / 1000}");

    /// <summary>
    /// Writes the ftrace text of <paramref name="events"/> from <see cref="LeadNs"/> before <paramref name="n"/> started
    /// to <paramref name="nowNs"/> to <paramref name="path"/>, atomically.
    /// </summary>
    public static void WriteTrace(string path, IEnumerable<MachineEvent> events, SingleNoise n, long nowNs, int nrCpus, ModelTimings timings, Arch arch)
    {
        var from = n.StartNs - LeadNs;
        AtomicFile.WriteText(path, w => FtraceExporter.WriteTrace(w, events.Where(e => e.Time >= from), nowNs, nrCpus, timings, ArchInfo.For(arch)));
    }
}

/// <summary>
/// Watches a run's single noises as they end (a <see cref="NoiseAccountant"/> fed by the machine's observer) and
/// tells it to stop at the first one above the bound. Locked: in concurrent mode events come from Akka's threads.
/// </summary>
internal sealed class NoiseStop
{
    private readonly object _lock = new();
    private readonly NoiseAccountant _noise;
    private SingleNoise? _crossing;

    public NoiseStop(int nrCpus, ModelTimings timings, OsnoiseSettings osnoise, long aboveNs)
    {
        AboveNs = aboveNs;
        _noise = new NoiseAccountant(nrCpus, timings, osnoise, histogramBuckets: 1)
        {
            NoiseEnded = n =>
            {
                if (_crossing is null && n.Ns > aboveNs)
                {
                    _crossing = n;
                }
            },
        };
    }

    public long AboveNs { get; }

    /// <summary>The first single noise above the bound; null until one has ended.</summary>
    public SingleNoise? Crossing
    {
        get
        {
            lock (_lock)
            {
                return _crossing;
            }
        }
    }

    public void Observe(MachineEvent e)
    {
        lock (_lock)
        {
            _noise.Observe(e);
        }
    }

    /// <summary>Counts every noise that has ended by <paramref name="nowNs"/>; true once one was above the bound.</summary>
    public bool StopNow(long nowNs)
    {
        lock (_lock)
        {
            if (_crossing is null && nowNs >= _noise.LastTimeNs)
            {
                _noise.Settle(nowNs);
            }

            return _crossing is not null;
        }
    }
}
