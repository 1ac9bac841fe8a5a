using System.Globalization;
using System.Text;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Reports;

/// <summary>Renderings of a report for a person: the noise table of <c>rtla osnoise top</c>, violations with their chains.</summary>
public static class ReportText
{
    /// <summary>
    /// The noise table, with the columns of <c>rtla osnoise top</c>, aligned as it aligns them, times in nanoseconds
    /// (the model's costs are below a microsecond); percentages by <see cref="NoiseShare"/>:
    /// <code>
    ///                                 Operating System Noise
    /// duration:   0 00:00:10.000000 | time is in ns
    /// CPU Period          Runtime            Noise  % CPU Aval        Max Noise       Max Single       HW      NMI      IRQ  Softirq   Thread
    ///   0 #10         10000000000         33210250    99.66789          3321500             6000        0        0    10000        0     1100
    ///   1 not measured
    /// </code>
    /// A CPU that was not measured is left out, as rtla leaves it out, unless <paramref name="allCpus"/>: then its row
    /// says <c>not measured</c>.
    /// </summary>
    public static string NoiseTable(IEnumerable<CpuNoiseReport> cpus, long simulatedNs, bool allCpus = false)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(' ', 32).Append("Operating System Noise\n");
        var s = simulatedNs / 1_000_000_000;
        sb.Append(inv, $"duration: {s / 86400,3} {s / 3600 % 24:D2}:{s / 60 % 60:D2}:{s % 60:D2}.{simulatedNs % 1_000_000_000 / 1000:D6} | time is in ns\n");
        sb.Append(inv, $"{"CPU",-3} {"Period",-7} {"Runtime",16} {"Noise",16} {"% CPU Aval",11} {"Max Noise",16} {"Max Single",16} {"HW",8} {"NMI",8} {"IRQ",8} {"Softirq",8} {"Thread",8}\n");
        foreach (var c in cpus)
        {
            if (!c.Measured)
            {
                if (allCpus)
                {
                    sb.Append(inv, $"{c.Cpu,3} {NoiseShare.NotMeasured}\n");
                }

                continue;
            }

            var period = "#" + c.Periods.ToString(inv);
            sb.Append(inv, $"{c.Cpu,3} {period,-7} {c.RuntimeNs,16} {c.NoiseNs,16} {c.Share.AvailableText,11} {c.MaxNoiseNs,16} {c.MaxSingleNs,16} {c.Hw,8} {c.Nmi,8} {c.Irq,8} {c.Softirq,8} {c.Thread,8}\n");
        }

        return sb.ToString();
    }

    /// <summary>
    /// One violation and its chain, root first:
    /// <code>
    /// VIOLATION [     0.500123] cpu 3: TLB shootdown IPI (call_function_ipi) reached iso/101 in user mode
    ///     [     0.500000] cpu 0   task hk/102 on cpu 0: munmap
    ///     [     0.500123] cpu 3   TLB shootdown IPI taken in userisolated by iso/101
    /// </code>
    /// </summary>
    public static string Violation(ViolationReport v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"VIOLATION {Stamp(v.TimeNs)} cpu {v.Cpu}: {v.Detail} ({v.Kind}) reached {v.Task} in user mode\n");
        foreach (var l in v.Chain)
        {
            sb.Append(inv, $"    {Stamp(l.TimeNs)} cpu {l.Cpu,-3} {l.What}\n");
        }

        return sb.ToString();
    }

    /// <summary>Every violation of <paramref name="violations"/>, each as <see cref="Violation"/>; a line saying none when empty.</summary>
    public static string Violations(IEnumerable<ViolationReport> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        var sb = new StringBuilder();
        foreach (var v in violations)
        {
            sb.Append(Violation(v));
        }

        return sb.Length == 0 ? "no isolation violation\n" : sb.ToString();
    }

    /// <summary>
    /// A liveness failure on one line, saying what the task was doing from its typed
    /// <see cref="LivenessReport.Waiting"/>: <c>LIVENESS [    0.250001] cpu 1: slow/101 in the kernel since [    0.000001] (bound 100000000 ns)</c>.
    /// </summary>
    public static string Liveness(LivenessReport l)
    {
        ArgumentNullException.ThrowIfNull(l);
        return string.Create(CultureInfo.InvariantCulture, $"LIVENESS {Stamp(l.TimeNs)} cpu {l.Cpu}: {l.Task} {LivenessWaits.Text(l.Waiting)} since {Stamp(l.SinceNs)} (bound {l.BoundNs} ns)\n");
    }

    /// <summary>
    /// The whole run for a person, as <c>taskisol run</c> prints it: the kernel log (boot and run, dmesg format), the
    /// noise table, each violation and liveness failure with its chain, and each expectation with held / failed.
    /// </summary>
    public static string Summary(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        foreach (var l in report.Log)
        {
            sb.Append(l.Line).Append('\n');
        }

        sb.Append('\n');
        sb.Append(NoiseTable(report.Cpus, report.SimulatedNs));
        sb.Append('\n');
        sb.Append(Violations(report.Violations));
        foreach (var l in report.Liveness)
        {
            sb.Append(Liveness(l));
        }

        if (report.Expectations.Length > 0)
        {
            sb.Append('\n');
            foreach (var e in report.Expectations)
            {
                sb.Append(inv, $"{(e.Held ? "held  " : "FAILED")}  {e.Text}\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>Seconds since boot as dmesg shows them, in brackets: <c>[    5.123456]</c>.</summary>
    public static string Stamp(long ns) =>
        string.Create(CultureInfo.InvariantCulture, $"[{ns / 1_000_000_000,5}.{ns % 1_000_000_000 / 1000:D6}]");
}
