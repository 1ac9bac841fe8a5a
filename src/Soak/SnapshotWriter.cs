using TaskIsolation.Reports;

namespace TaskIsolation.Soak;

/// <summary>
/// Writes each snapshot into one directory under fixed names, every file atomically, so whatever is there is
/// complete: <c>noise.txt</c> (rtla osnoise top), <c>noise.json</c> (the run report of docs/reports.md, lists capped),
/// <c>hist.txt</c> (rtla osnoise hist), <c>violations.txt</c>,
/// <c>recent-events.txt</c>, <c>snapshot.json</c> (all of it for programs) and, with the final snapshot,
/// <c>summary.txt</c>. <c>snapshot.json</c> is written last: when its sequence number changes, the others are already
/// that snapshot's.
/// </summary>
public sealed class SnapshotWriter : ISoakOutput
{
    /// <summary>The file names, in the order they are written.</summary>
    public static readonly IReadOnlyList<string> Files = ["noise.txt", "noise.json", "hist.txt", "violations.txt", "recent-events.txt", "snapshot.json"];

    /// <summary>Written with the final snapshot only.</summary>
    public const string SummaryFile = "summary.txt";

    private readonly string _dir;
    private readonly Action<SoakSnapshot, string>? _also;

    /// <summary>A writer into <paramref name="directory"/> (created if missing).</summary>
    /// <param name="directory">The output directory.</param>
    /// <param name="also">Writes more files for a snapshot (the HTML report, reproducers), given the directory.</param>
    public SnapshotWriter(string directory, Action<SoakSnapshot, string>? also = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        _dir = Path.GetFullPath(directory);
        _also = also;
        Directory.CreateDirectory(_dir);
    }

    /// <summary>The output directory.</summary>
    public string OutputDirectory => _dir;

    /// <inheritdoc />
    public void Write(SoakSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        AtomicFile.WriteAllText(Path.Combine(_dir, "noise.txt"), SoakFormats.NoiseTable(snapshot));
        if (snapshot.Capture.Report is { } report)
        {
            AtomicFile.WriteAllText(Path.Combine(_dir, "noise.json"), RunReportJson.Serialize(report) + "\n");
        }

        AtomicFile.WriteAllText(Path.Combine(_dir, "hist.txt"), SoakFormats.Histogram(snapshot));
        AtomicFile.WriteAllText(Path.Combine(_dir, "violations.txt"), SoakFormats.Violations(snapshot));
        AtomicFile.WriteAllText(Path.Combine(_dir, "recent-events.txt"), SoakFormats.Recent(snapshot));
        _also?.Invoke(snapshot, _dir);
        if (snapshot.Final)
        {
            AtomicFile.WriteAllText(Path.Combine(_dir, SummaryFile), SoakFormats.Summary(snapshot));
        }

        AtomicFile.WriteAllText(Path.Combine(_dir, "snapshot.json"), SoakFormats.Json(snapshot));
    }
}
