using System.Globalization;
using TaskIsolation.Reports;

namespace TaskIsolation.Soak;

/// <summary>
/// Writes each snapshot into a folder of its own, <c>snapshots/NNNNNN/</c> under the output directory, then points the
/// link <c>latest</c> at it (<see cref="AtomicFile.SwitchLink"/>: a new link renamed over the old one), so
/// <c>latest/</c> is always one whole snapshot and never files of two. A folder holds <c>noise.txt</c> (rtla osnoise
/// top), <c>noise.json</c> (the run report of docs/reports.md, lists capped), <c>hist.txt</c> (rtla osnoise hist),
/// <c>violations.txt</c>, <c>recent-events.txt</c>, what the caller adds (the HTML report, reproducers), with the final
/// snapshot <c>summary.txt</c>, and <c>snapshot.json</c>, written last. Only the folder <c>latest</c> points to and the
/// one before it are kept: the older ones are removed once the link has moved on, so a reader that resolved
/// <c>latest</c> just before the switch still reads a whole folder.
/// </summary>
public sealed class SnapshotWriter : ISoakOutput
{
    /// <summary>The file names, in the order they are written.</summary>
    public static readonly IReadOnlyList<string> Files = ["noise.txt", "noise.json", "hist.txt", "violations.txt", "recent-events.txt", "snapshot.json"];

    /// <summary>Written with the final snapshot only.</summary>
    public const string SummaryFile = "summary.txt";

    /// <summary>The link to the last complete snapshot's folder.</summary>
    public const string LatestLink = "latest";

    /// <summary>The directory of the snapshot folders.</summary>
    public const string SnapshotsDirectory = "snapshots";

    private readonly string _dir;
    private readonly string _snapshots;
    private readonly Action<SoakSnapshot, string>? _also;
    private int _folder;
    private string? _previous;

    /// <summary>A writer into <paramref name="directory"/> (created if missing).</summary>
    /// <param name="directory">The output directory.</param>
    /// <param name="also">Writes more files for a snapshot (the HTML report, reproducers), given its folder.</param>
    public SnapshotWriter(string directory, Action<SoakSnapshot, string>? also = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        _dir = Path.GetFullPath(directory);
        _snapshots = Path.Combine(_dir, SnapshotsDirectory);
        _also = also;
        Directory.CreateDirectory(_snapshots);

        // A directory that holds an earlier soak's folders: number after them, so no folder `latest` may point to is
        // ever written into.
        _folder = Directory.EnumerateDirectories(_snapshots)
            .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .DefaultIfEmpty(0)
            .Max();
    }

    /// <summary>The output directory.</summary>
    public string OutputDirectory => _dir;

    /// <summary>The link to the last complete snapshot: read the files through it (<c>OUT/latest/snapshot.json</c>).</summary>
    public string LatestDirectory => Path.Combine(_dir, LatestLink);

    /// <summary>Whether a soak writes an entry of this name into its output directory: the link, its temporary name, the folders.</summary>
    public static bool Writes(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name == LatestLink || name == SnapshotsDirectory || name.StartsWith(LatestLink + ".tmp-", StringComparison.Ordinal);
    }

    /// <inheritdoc />
    public void Write(SoakSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _folder++;
        var name = _folder.ToString("D6", CultureInfo.InvariantCulture);
        var into = Path.Combine(_snapshots, name);
        try
        {
            if (Directory.Exists(into))
            {
                // Left by a process killed while writing it (never linked): start it again.
                Directory.Delete(into, recursive: true);
            }

            Directory.CreateDirectory(into);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OutputFileException(into, $"cannot write '{into}': {ex.Message}", ex);
        }

        AtomicFile.WriteAllText(Path.Combine(into, "noise.txt"), SoakFormats.NoiseTable(snapshot));
        if (snapshot.Capture.Report is { } report)
        {
            AtomicFile.WriteAllText(Path.Combine(into, "noise.json"), RunReportJson.Serialize(report) + "\n");
        }

        AtomicFile.WriteAllText(Path.Combine(into, "hist.txt"), SoakFormats.Histogram(snapshot));
        AtomicFile.WriteAllText(Path.Combine(into, "violations.txt"), SoakFormats.Violations(snapshot));
        AtomicFile.WriteAllText(Path.Combine(into, "recent-events.txt"), SoakFormats.Recent(snapshot));
        _also?.Invoke(snapshot, into);
        if (snapshot.Final)
        {
            AtomicFile.WriteAllText(Path.Combine(into, SummaryFile), SoakFormats.Summary(snapshot));
        }

        AtomicFile.WriteAllText(Path.Combine(into, "snapshot.json"), SoakFormats.Json(snapshot));

        // The folder is whole: publish it.
        AtomicFile.SwitchLink(LatestDirectory, Path.Combine(SnapshotsDirectory, name));
        Prune(keep: [name, _previous]);
        _previous = name;
    }

    /// <summary>The folder <c>latest</c> points to before this snapshot's (null for the first): where a caller copies unchanged files from.</summary>
    public string? PreviousFolder => _previous is null ? null : Path.Combine(_snapshots, _previous);

    /// <summary>Removes every snapshot folder but <paramref name="keep"/>: best effort, a folder in use stays for the next time.</summary>
    private void Prune(string?[] keep)
    {
        foreach (var d in Directory.EnumerateDirectories(_snapshots))
        {
            if (keep.Contains(Path.GetFileName(d)))
            {
                continue;
            }

            try
            {
                Directory.Delete(d, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Disk space is all it costs; the next snapshot tries again.
            }
        }
    }
}
