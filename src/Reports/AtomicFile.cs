namespace TaskIsolation.Reports;

/// <summary>An output file could not be written. <see cref="Path"/> names it; nothing was left at that path.</summary>
public sealed class OutputFileException : IOException
{
    /// <summary>A failure to write <paramref name="path"/>.</summary>
    public OutputFileException(string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>An unexplained failure; prefer a constructor naming the path.</summary>
    public OutputFileException()
        : base("cannot write the output file")
    {
        Path = string.Empty;
    }

    /// <summary>An unexplained failure with a message; prefer a constructor naming the path.</summary>
    public OutputFileException(string message)
        : base(message)
    {
        Path = string.Empty;
    }

    /// <summary>An unexplained failure with a message and cause; prefer a constructor naming the path.</summary>
    public OutputFileException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = string.Empty;
    }

    /// <summary>The file that was to be written.</summary>
    public string Path { get; }
}

/// <summary>
/// Writes a file so that it is either complete or absent (or as it was before): the content goes to a temporary file in
/// the same directory, is flushed to disk, and is renamed over the target. An interrupted run or a failing writer
/// never leaves a truncated report, and a soak's latest snapshot is always the previous complete one until the new
/// one is.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> with <paramref name="write"/>, atomically.
    /// </summary>
    /// <exception cref="OutputFileException">The directory does not exist or is not writable, the path is a directory,
    /// or <paramref name="write"/> failed; the temporary file is deleted and the message names the path.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new OutputFileException(path, $"cannot write '{path}': not a valid path", ex);
        }

        var dir = Path.GetDirectoryName(full) ?? ".";
        if (Directory.Exists(full))
        {
            throw new OutputFileException(path, $"cannot write '{path}': it is a directory");
        }

        if (!Directory.Exists(dir))
        {
            throw new OutputFileException(path, $"cannot write '{path}': directory '{dir}' does not exist");
        }

        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 65536))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            TryDelete(temp);
            var why = ex is IOException or UnauthorizedAccessException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            throw new OutputFileException(path, $"cannot write '{path}': {why}", ex);
        }
    }

    /// <summary>Writes <paramref name="path"/> as UTF-8 text (no byte order mark) with <paramref name="write"/>, atomically.</summary>
    /// <exception cref="OutputFileException">As <see cref="Write(string, Action{Stream})"/>.</exception>
    public static void WriteText(string path, Action<TextWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 65536, leaveOpen: true) { NewLine = "\n" };
            write(writer);
            writer.Flush();
        });
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> as UTF-8 (no byte order mark), atomically.</summary>
    /// <exception cref="OutputFileException">As <see cref="Write(string, Action{Stream})"/>.</exception>
    public static void WriteAllText(string path, string text) => WriteText(path, w => w.Write(text));

    private static void TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (IOException)
        {
            // Best effort: the failure that brought us here is the one to report.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}
