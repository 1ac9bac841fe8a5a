using Mono.Unix.Native;

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
/// the same directory, is flushed to disk, and is renamed over the target, and the directory is flushed after the
/// rename. An interrupted run or a failing writer never leaves a truncated report, and a soak's latest snapshot is
/// always the previous complete one until the new one is.
/// </summary>
/// <remarks>
/// A symlink is followed: its final target is written, atomically, in the target's directory, and the link stays. A
/// path that names a device or a FIFO (<c>/dev/null</c>, a pipe to another program) is written in place, as a shell's
/// <c>&gt;</c> would: renaming a file over it would replace the device node. A socket or a directory is refused.
/// <see cref="OutputCheck"/> checks the same before a run.
/// </remarks>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> with <paramref name="write"/>, atomically.
    /// </summary>
    /// <exception cref="OutputFileException">The path is empty or not valid, its directory does not exist, it is a
    /// directory or a socket, or <paramref name="write"/> failed (a full disk, a broken pipe); the temporary file is
    /// deleted and the message, one line, names the path.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string Fail(string why) => throw new OutputFileException(path, $"cannot write '{path}': {why}");
        var target = OutputCheck.Target(path, Fail);
        switch (OutputCheck.KindOf(target))
        {
            case OutputCheck.FileKind.Directory:
                Fail("it is a directory");
                break;
            case OutputCheck.FileKind.Socket:
                Fail("it is a socket, which cannot be written as a file");
                break;
            case OutputCheck.FileKind.Special:
                WriteInPlace(path, target, write);
                break;
            default:
                WriteAndRename(path, target, write);
                break;
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

    /// <summary>A device or FIFO: opened for writing (a FIFO waits for its reader) and written, never replaced.</summary>
    private static void WriteInPlace(string path, string target, Action<Stream> write)
    {
        try
        {
            using var stream = new FileStream(target, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 65536);
            write(stream);
            stream.Flush();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new OutputFileException(path, $"cannot write '{path}': {OutputCheck.Reason(ex)}", ex);
        }
    }

    /// <summary>A regular file, or none yet: a temporary file beside the target, flushed, renamed over it, and the directory flushed.</summary>
    private static void WriteAndRename(string path, string target, Action<Stream> write)
    {
        var dir = Path.GetDirectoryName(target) ?? ".";
        var temp = Path.Combine(dir, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 65536))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            KeepMode(target, temp);
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            TryDelete(temp);
            throw new OutputFileException(path, $"cannot write '{path}': {OutputCheck.Reason(ex).Replace(temp, target, StringComparison.Ordinal)}", ex);
        }

        SyncDirectory(path, dir);
    }

    /// <summary>
    /// Points the symbolic link <paramref name="link"/> at <paramref name="target"/> (a path relative to the link's
    /// directory, as <c>ln -s</c> takes it) atomically: a new link is made beside it under a temporary name and
    /// renamed over it (<c>rename(2)</c> replaces a link, never what it points to), then the directory is flushed. A
    /// reader of <paramref name="link"/> sees the old target or the new one, never neither; a process killed in between
    /// can leave only the temporary link (<c>NAME.tmp-PID</c>), which the next switch of the same process replaces.
    /// </summary>
    /// <exception cref="OutputFileException">The link could not be made or renamed.</exception>
    public static void SwitchLink(string link, string target)
    {
        ArgumentNullException.ThrowIfNull(link);
        ArgumentNullException.ThrowIfNull(target);
        var dir = Path.GetDirectoryName(Path.GetFullPath(link)) ?? ".";
        var temp = TempLinkName(link);
        if (Syscall.unlink(temp) != 0 && Stdlib.GetLastError() != Errno.ENOENT)
        {
            throw new OutputFileException(link, $"cannot write '{link}': removing '{temp}': {OutputCheck.LastError()}");
        }

        if (Syscall.symlink(target, temp) != 0)
        {
            throw new OutputFileException(link, $"cannot write '{link}': making the link '{temp}': {OutputCheck.LastError()}");
        }

        if (Syscall.rename(temp, link) != 0)
        {
            var error = OutputCheck.LastError();
            Syscall.unlink(temp);
            throw new OutputFileException(link, $"cannot write '{link}': {error}");
        }

        SyncDirectory(link, dir);
    }

    /// <summary>The temporary name <see cref="SwitchLink"/> makes the new link under: <c>NAME.tmp-PID</c>.</summary>
    public static string TempLinkName(string link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return $"{link}.tmp-{Environment.ProcessId}";
    }

    /// <summary>A file replaced keeps its permissions (a new one gets the umask's, as any new file).</summary>
    private static void KeepMode(string target, string temp)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(target))
        {
            File.SetUnixFileMode(temp, File.GetUnixFileMode(target));
        }
    }

    /// <summary><c>fsync</c> of the directory, so that the rename itself survives a crash (file systems that cannot are let be).</summary>
    private static void SyncDirectory(string path, string dir)
    {
        if (!OutputCheck.Posix)
        {
            return;
        }

        var fd = Syscall.open(dir, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            return;
        }

        try
        {
            if (Syscall.fsync(fd) != 0 && Stdlib.GetLastError() is not (Errno.EINVAL or Errno.EROFS or Errno.EOPNOTSUPP))
            {
                throw new OutputFileException(path, $"cannot write '{path}': flushing directory '{dir}': {OutputCheck.LastError()}");
            }
        }
        finally
        {
            Syscall.close(fd);
        }
    }

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
