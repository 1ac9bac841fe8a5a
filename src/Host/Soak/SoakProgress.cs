using System.Diagnostics;
using System.Globalization;
using System.Text;
using Spectre.Console;
using TaskIsolation.Reports;
using TaskIsolation.Soak;

namespace TaskIsolation.Host.Soak;

/// <summary>Shows a soak's progress to a person: live on a terminal, one line per snapshot otherwise.</summary>
internal interface ISoakProgress
{
    /// <summary>Runs <paramref name="soak"/> with this display, which it feeds through the callbacks it is given.</summary>
    SoakResult Show(Func<Action<SoakStatus>, Action<SoakSnapshot>, SoakResult> soak);
}

/// <summary>Plain lines: one per snapshot (for logs, pipes and tests).</summary>
internal sealed class PlainProgress(TextWriter output) : ISoakProgress
{
    public SoakResult Show(Func<Action<SoakStatus>, Action<SoakSnapshot>, SoakResult> soak) =>
        soak(_ => { }, s => output.WriteLine(Line(s)));

    /// <summary><c>soak: 30.000 s of 120.000 s simulated ...</c>, the figures the live display shows.</summary>
    public static string Line(SoakSnapshot s)
    {
        var st = s.Status;
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(c, $"soak: {st.NowNs / 1e9:F3} s of {st.ForNs / 1e9:F3} s simulated, {st.SimPerWall:F2} sim s/wall s, ");
        b.Append(c, $"{st.Events} events ({st.EventsPerSecond:F0}/s), {st.Violations} violations, {st.LivenessFailures} liveness failures; noise");
        for (var cpu = 0; cpu < st.Noise.Count; cpu++)
        {
            b.Append(c, $" cpu{cpu} {Percent(st.Noise[cpu])}");
        }

        if (s.Final)
        {
            b.Append(" (final)");
        }

        return b.ToString();
    }

    /// <summary>A CPU's noise share as the displays show it (<see cref="NoiseShare"/>): <c>0.00123%</c>, or <c>not measured</c>.</summary>
    public static string Percent(NoiseShare share) => share.Measured ? share.NoiseText + "%" : NoiseShare.NotMeasured;
}

/// <summary>A live table on the terminal (Spectre.Console), refreshed a few times a second.</summary>
internal sealed class LiveProgress(IAnsiConsole console) : ISoakProgress
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);

    public SoakResult Show(Func<Action<SoakStatus>, Action<SoakSnapshot>, SoakResult> soak)
    {
        SoakResult? result = null;
        var lastSnapshot = "none yet";
        SoakCapture? capture = null;
        long? shown = null;
        console.Live(Render(null, lastSnapshot, capture)).AutoClear(false).Start(ctx =>
        {
            result = soak(
                status =>
                {
                    // Throttled by a monotonic wall clock: a person reads a few updates a second, not one per slice.
                    if (shown is not { } last || Stopwatch.GetElapsedTime(last) >= Every)
                    {
                        shown = Stopwatch.GetTimestamp();
                        ctx.UpdateTarget(Render(status, lastSnapshot, capture));
                    }
                },
                snapshot =>
                {
                    lastSnapshot = string.Create(CultureInfo.InvariantCulture, $"#{snapshot.Sequence} at {snapshot.Status.NowNs / 1e9:F3} s{(snapshot.Final ? " (final)" : string.Empty)}");
                    capture = snapshot.Capture;
                    ctx.UpdateTarget(Render(snapshot.Status, lastSnapshot, capture));
                });
        });
        return result!;
    }

    /// <summary>
    /// The table: simulated and wall time with the ETA, rates, counts, each CPU's noise share (live) and longest single
    /// noise (as of the last snapshot), and the chain of the latest violation kept.
    /// </summary>
    internal static Table Render(SoakStatus? s, string lastSnapshot, SoakCapture? capture)
    {
        var c = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]taskisol soak[/]");
        table.AddColumn("what");
        table.AddColumn(new TableColumn("value").RightAligned());
        if (s is null)
        {
            table.AddRow("simulated", "starting");
            return table;
        }

        var pct = s.ForNs > 0 ? 100.0 * s.NowNs / s.ForNs : 0;
        table.AddRow("simulated", string.Create(c, $"{s.NowNs / 1e9:F3} s of {s.ForNs / 1e9:F3} s ({pct:F1}%)"));
        table.AddRow("wall", string.Create(c, $"{s.Wall:hh\\:mm\\:ss}"));
        table.AddRow("ETA", Eta(s));
        table.AddRow("sim s / wall s", s.SimPerWall.ToString("F2", c));
        table.AddRow("events/s", s.EventsPerSecond.ToString("F0", c));
        table.AddRow("events", s.Events.ToString(c));
        table.AddRow("violations", s.Violations == 0 ? "0" : $"[red]{s.Violations}[/]");
        table.AddRow("liveness failures", s.LivenessFailures == 0 ? "0" : $"[red]{s.LivenessFailures}[/]");
        for (var cpu = 0; cpu < s.Noise.Count; cpu++)
        {
            var max = capture is { } cap && cpu < cap.Cpus.Length && cap.Cpus[cpu].Measured
                ? string.Create(c, $", max single {cap.Cpus[cpu].MaxSingleNs / 1e3:F3} us")
                : string.Empty;
            table.AddRow($"cpu {cpu} noise", PlainProgress.Percent(s.Noise[cpu]) + max);
        }

        if (capture is { Violations.Length: > 0 } withViolation)
        {
            var latest = withViolation.Violations[^1];
            table.AddRow("latest violation", Markup.Escape(string.Create(c, $"{latest.Finding.Time} ns cpu {latest.Finding.Cpu}: {string.Join(" → ", latest.Chain.Select(l => l.What))}")));
        }

        table.AddRow("last snapshot", Markup.Escape(lastSnapshot));
        return table;
    }

    /// <summary>Wall time left at the simulated rate so far: <c>00:01:23</c>, or <c>-</c> before there is a rate.</summary>
    internal static string Eta(SoakStatus s)
    {
        if (s.SimPerWall <= 0 || s.NowNs >= s.ForNs)
        {
            return s.NowNs >= s.ForNs ? "00:00:00" : "-";
        }

        var seconds = (s.ForNs - s.NowNs) / 1e9 / s.SimPerWall;
        return seconds >= TimeSpan.MaxValue.TotalSeconds / 2 ? "-" : TimeSpan.FromSeconds(Math.Ceiling(seconds)).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);
    }
}
