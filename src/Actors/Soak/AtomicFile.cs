namespace TaskIsolation.Actors.Soak;

/// <summary>
/// Whole-or-nothing file writes for snapshots, by the reports' <see cref="Reports.AtomicFile"/> (a temporary file in
/// the same directory, flushed, renamed over the target). Kept as a name because other folders call it.
/// </summary>
public static class AtomicFile
{
    /// <summary>Replaces <paramref name="path"/> with <paramref name="text"/> (UTF-8, no BOM), atomically.</summary>
    /// <exception cref="Reports.OutputFileException">It could not be written; nothing was left half-written.</exception>
    public static void WriteAllText(string path, string text) => Reports.AtomicFile.WriteText(path, w => w.Write(text));

    /// <summary>Replaces <paramref name="path"/> with what <paramref name="write"/> writes, atomically.</summary>
    /// <exception cref="Reports.OutputFileException">It could not be written; nothing was left half-written.</exception>
    public static void Write(string path, Action<Stream> write) => Reports.AtomicFile.Write(path, write);
}
