using System.Globalization;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// What <c>taskisol run</c> prints for a person, section by section: header, boot log, dmesg of the run, violations
/// with their causal chains, expectations, summary. Each section is a method, so another section (the rtla-style
/// noise table) goes in between without touching the others.
/// </summary>
internal sealed class RunOutput(ScenarioRun run, RunReport? report = null)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The run being shown.</summary>
    public ScenarioRun Run { get; } = run;

    /// <summary>Every section in order; with <paramref name="quiet"/> only the expectations and the summary.</summary>
    public void WriteText(TextWriter w, bool quiet)
    {
        if (!quiet)
        {
            WriteHeader(w);
            WriteBootLog(w);
            WriteDmesg(w);
            WriteNoise(w);
            WriteViolations(w);
        }

        WriteExpectations(w);
        WriteSummary(w);

        // Even with --quiet: the run did not reach its end, and the expectations above judged only what came before.
        if (Run.Machine.NoProgress is { } stalled)
        {
            w.WriteLine($"run stopped: {stalled.What} (docs/model.md §12: model.max_instant_deliveries)");
        }
    }

    public void WriteHeader(TextWriter w)
    {
        var s = Run.Scenario;
        w.WriteLine($"scenario {s.Name} ({s.Hash[..12]}): {s.Cpus} CPUs, {Machine.Arch.ArchNames.Name(s.Arch)}, "
            + $"{Run.Settings.Mode.ToString().ToLowerInvariant()} mode, seed {Run.Settings.Seed.ToString(Inv)}, "
            + $"{Durations.Format(Run.Settings.DurationNs ?? s.DurationNs)} simulated");
    }

    public void WriteBootLog(TextWriter w)
    {
        Section(w, "boot");
        foreach (var line in Run.Machine.Booted.Log)
        {
            w.WriteLine(line.ToString());
        }
    }

    /// <summary>The kernel's messages during the run, in dmesg form.</summary>
    public void WriteDmesg(TextWriter w)
    {
        Section(w, "dmesg");
        var any = false;
        foreach (var l in Run.Machine.Recorder.Events.OfType<KernelLogged>())
        {
            w.WriteLine(Dmesg.Format(l.Time, l.Text));
            any = true;
        }

        if (!any)
        {
            w.WriteLine("(no kernel messages)");
        }
    }

    /// <summary>The per-CPU noise table in the style of <c>rtla osnoise top</c> (docs/reports.md), when there is a report.</summary>
    public void WriteNoise(TextWriter w)
    {
        if (report is null)
        {
            return;
        }

        Section(w, "noise");
        w.Write(ReportText.NoiseTable(report.Cpus, report.SimulatedNs, allCpus: true));
    }

    /// <summary>Each violation, then its causal chain from the root to the interrupt, one link a line.</summary>
    public void WriteViolations(TextWriter w)
    {
        var violations = Run.Machine.Recorder.Events.OfType<ViolationDetected>().ToList();
        var liveness = Run.Machine.Recorder.Events.OfType<LivenessViolated>().ToList();
        Section(w, string.Create(Inv, $"violations: {violations.Count}"));
        foreach (var v in violations)
        {
            w.WriteLine(string.Create(Inv, $"{Seconds(v.Time)} cpu {v.Cpu}: {v.Detail} reached {v.Task} in user mode ({Scenarios.ScenarioNames.KindName(v.Kind)})"));
            foreach (var link in v.Chain)
            {
                w.WriteLine(string.Create(Inv, $"    {Seconds(link.TimeNs)} cpu {link.Cpu}: {link.What}"));
            }
        }

        foreach (var l in liveness)
        {
            w.WriteLine(string.Create(Inv, $"{Seconds(l.Time)} cpu {l.Cpu}: {l.Task} stuck {l.Doing} since {Seconds(l.SinceNs)} (liveness bound {Durations.Format(l.BoundNs)})"));
        }

        // A monitor's failure (docs/scenarios.md, monitors): printed only when there is one, so runs without read as before.
        foreach (var m in Run.Machine.Recorder.Events.OfType<MonitorFailed>())
        {
            w.WriteLine(string.Create(Inv, $"{Seconds(m.Time)} cpu {m.Cpu}: monitor {m.Monitor} ({m.MonitorKind}) {MonitorFailures.Text(m.Failure)}: {m.Reason}"));
            foreach (var link in m.Chain)
            {
                w.WriteLine(string.Create(Inv, $"    {Seconds(link.TimeNs)} cpu {link.Cpu}: {link.What}"));
            }
        }

        // A loss of isolation reported twice (§9 R14): printed only when there is one, so runs without one read as before.
        foreach (var d in Run.Machine.Recorder.Events.OfType<DoubleReport>())
        {
            w.WriteLine(string.Create(Inv, $"{Seconds(d.Time)} cpu {d.Cpu}: {d.Task}'s loss of isolation reported twice, by cpu {d.FirstReportCpu} and cpu {d.SecondReportCpu} (double report)"));
            foreach (var link in d.Chain)
            {
                w.WriteLine(string.Create(Inv, $"    {Seconds(link.TimeNs)} cpu {link.Cpu}: {link.What}"));
            }
        }
    }

    public void WriteExpectations(TextWriter w)
    {
        Section(w, "expectations");
        if (Run.Expectations.IsEmpty)
        {
            w.WriteLine("(none)");
        }

        foreach (var e in Run.Expectations)
        {
            w.WriteLine($"{(e.Held ? "held  " : "FAILED")}  {e.Text}: {e.Detail}");
        }
    }

    public void WriteSummary(TextWriter w)
    {
        var failed = Run.Machine.MonitorFailures;
        if (!Run.Scenario.Monitors.IsEmpty || failed.Count > 0)
        {
            // Only for a run with monitors: the others' last lines read as before.
            var total = Run.Scenario.Monitors.Length + Run.Settings.Monitors.Count;
            w.WriteLine(string.Create(Inv, $"monitors: {failed.Count} of {total} failed{(failed.Count == 0 ? string.Empty : ": " + string.Join(", ", failed.Select(m => m.Monitor)))}"));
        }

        var held = Run.Expectations.Count(e => e.Held);
        w.WriteLine(string.Create(Inv,
            $"{held} of {Run.Expectations.Length} expectations held; {Run.Machine.Recorder.Events.Count} events; "
            + $"{Durations.Format(Run.SimulatedNs)} simulated in {Run.Wall.TotalSeconds:0.00} s"));
    }

    private static void Section(TextWriter w, string title) => w.WriteLine($"== {title}");

    /// <summary>Seconds since boot with six decimals, as dmesg shows time.</summary>
    private static string Seconds(long ns) => string.Create(Inv, $"{ns / 1_000_000_000}.{ns % 1_000_000_000 / 1000:D6}");
}
