using Mono.Unix;
using Mono.Unix.Native;

namespace TaskIsolation.Reports;

/// <summary>A file a command reads, which no output of it may overwrite.</summary>
/// <param name="What">What it is, as a message names it: <c>the scenario</c>, <c>the reproducer</c>.</param>
/// <param name="Path">Its path as the user gave it.</param>
public sealed record InputFile(string What, string Path);

/// <summary>
/// Checks output paths before a command runs, so that a path that cannot be written fails at once, with nothing run
/// and nothing written, rather than after minutes of work; and so that no output overwrites an input. Each failure is
/// an <see cref="OutputFileException"/> whose message is one line: <c>OPTION 'PATH': reason</c>.
/// </summary>
/// <remarks>
/// What a path names is looked up as the kernel would: a symlink is followed to its final target, and two paths are
/// the same file when they name the same device and inode (<c>stat(2)</c>), however they are spelled: <c>in.yaml</c>,
/// <c>./x/../in.yaml</c>, a symlink or a hard link to it. <see cref="AtomicFile"/> writes where these checks look.
/// </remarks>
public static class OutputCheck
{
    /// <summary>
    /// Checks output files: each can be written (<see cref="CheckFile"/>) and no two are the same file.
    /// </summary>
    /// <exception cref="OutputFileException">The first output that cannot be written, naming its option and path.</exception>
    public static void CheckFiles(IEnumerable<(string Option, string Path)> outputs, IReadOnlyCollection<InputFile> inputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(inputs);
        var seen = new List<(string Option, string Target, (ulong, ulong)? Id)>();
        foreach (var (option, path) in outputs)
        {
            var target = CheckFile(option, path, inputs);
            var id = Identity(target);
            foreach (var (other, otherTarget, otherId) in seen)
            {
                if ((id is not null && id == otherId) || string.Equals(target, otherTarget, StringComparison.Ordinal))
                {
                    throw new OutputFileException(path, $"{option} '{path}': the same file as {other}");
                }
            }

            seen.Add((option, target, id));
        }
    }

    /// <summary>
    /// Checks that <paramref name="path"/> (given as <paramref name="option"/>) can be written and is none of
    /// <paramref name="inputs"/>: not empty, not a directory or a socket, its directory exists, and a file can be
    /// created there (or, for a device or FIFO, which is written in place, it is writable).
    /// </summary>
    /// <returns>The file that will be written: the path with its symlinks followed.</returns>
    /// <exception cref="OutputFileException">Naming the option, the path and the reason.</exception>
    public static string CheckFile(string option, string path, IReadOnlyCollection<InputFile> inputs)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(inputs);
        string Fail(string why) => throw new OutputFileException(path, $"{option} '{path}': {why}");
        var target = Target(path, Fail);
        switch (KindOf(target))
        {
            case FileKind.Directory:
                return Fail("is a directory, expected a file");
            case FileKind.Socket:
                return Fail("is a socket, which cannot be written as a file");
            case FileKind.Special:
                if (Posix && Syscall.access(target, AccessModes.W_OK) != 0)
                {
                    return Fail($"cannot write it: {LastError()}");
                }

                break;
            default:
                var dir = Path.GetDirectoryName(target) ?? ".";
                ProbeDirectory(dir, Fail);
                break;
        }

        if (Identity(target) is { } id)
        {
            foreach (var input in inputs)
            {
                if (Identity(input.Path) == id)
                {
                    return Fail($"the same file as {input.What} '{input.Path}', which it would overwrite");
                }
            }
        }

        return target;
    }

    /// <summary>
    /// Makes the output directory <paramref name="path"/> (given as <paramref name="option"/>) if it is missing, with
    /// its parents, and checks that a file can be created in it and that none of <paramref name="inputs"/> is there
    /// under a name the command writes (<paramref name="writes"/>). On failure, the directories it made are removed.
    /// </summary>
    /// <returns>The directory's full path.</returns>
    /// <exception cref="OutputFileException">Naming the option, the path and the reason.</exception>
    public static string PrepareDirectory(string option, string path, IReadOnlyCollection<InputFile> inputs, Func<string, bool>? writes = null)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(inputs);
        var made = new List<string>();
        string Fail(string why)
        {
            foreach (var d in made)
            {
                try
                {
                    Directory.Delete(d);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Best effort: the failure that brought us here is the one to report.
                }
            }

            throw new OutputFileException(path, $"{option} '{path}': {why}");
        }

        if (path.Length == 0)
        {
            return Fail("the path is empty, expected a directory");
        }

        var full = FullPath(path, Fail);
        switch (KindOf(full))
        {
            case FileKind.Missing:
                // Parents first, so that a failure can remove exactly what was made.
                for (var d = full; d is not null && KindOf(d) == FileKind.Missing; d = Path.GetDirectoryName(d))
                {
                    made.Add(d);
                }

                try
                {
                    Directory.CreateDirectory(full);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
                {
                    made.RemoveAll(d => !Directory.Exists(d));
                    return Fail($"cannot create the directory: {Reason(ex)}");
                }

                break;
            case FileKind.Directory:
                break;
            default:
                return Fail("is a file, expected a directory");
        }

        ProbeDirectory(full, Fail);
        if (writes is not null && Directory.Exists(full))
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(full))
            {
                var name = Path.GetFileName(entry);
                if (!writes(name) || Identity(entry) is not { } id)
                {
                    continue;
                }

                foreach (var input in inputs)
                {
                    if (Identity(input.Path) == id)
                    {
                        return Fail($"holds {input.What} '{input.Path}' as '{name}', which it would overwrite");
                    }
                }
            }
        }

        return full;
    }

    /// <summary>Whether <paramref name="path"/> names a regular file (its symlinks followed) or nothing: not a device, FIFO, socket or directory.</summary>
    public static bool IsRegularOrMissing(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return KindOf(path) is FileKind.Regular or FileKind.Missing;
    }

    /// <summary>What a path names, its symlinks followed.</summary>
    internal enum FileKind
    {
        /// <summary>Nothing (or a dangling symlink).</summary>
        Missing,

        /// <summary>A regular file: replaced atomically.</summary>
        Regular,

        /// <summary>A directory.</summary>
        Directory,

        /// <summary>A character or block device or a FIFO: written in place.</summary>
        Special,

        /// <summary>A socket: cannot be opened as a file.</summary>
        Socket,
    }

    /// <summary>Whether the POSIX calls are there (not on Windows, where every file is regular here).</summary>
    internal static bool Posix { get; } = !OperatingSystem.IsWindows();

    /// <summary>The kind of what <paramref name="target"/> names, following symlinks.</summary>
    internal static FileKind KindOf(string target)
    {
        if (!Posix)
        {
            return Directory.Exists(target) ? FileKind.Directory : File.Exists(target) ? FileKind.Regular : FileKind.Missing;
        }

        if (Syscall.stat(target, out var st) != 0)
        {
            return FileKind.Missing;
        }

        return (st.st_mode & FilePermissions.S_IFMT) switch
        {
            FilePermissions.S_IFREG => FileKind.Regular,
            FilePermissions.S_IFDIR => FileKind.Directory,
            FilePermissions.S_IFSOCK => FileKind.Socket,
            _ => FileKind.Special,
        };
    }

    /// <summary>Device and inode of the file <paramref name="path"/> names (symlinks followed), or null when there is none.</summary>
    internal static (ulong Device, ulong Inode)? Identity(string path)
    {
        if (path.Length == 0)
        {
            return null;
        }

        if (!Posix)
        {
            return null;
        }

        return Syscall.stat(path, out var st) == 0 ? (st.st_dev, st.st_ino) : null;
    }

    /// <summary>
    /// The file <paramref name="path"/> names: its full path with the symlinks of its last component followed to the
    /// end (a dangling symlink gives the path it points to, which is then created).
    /// </summary>
    internal static string Target(string path, Func<string, string> fail)
    {
        if (path.Length == 0)
        {
            return fail("the path is empty, expected a file");
        }

        var full = FullPath(path, fail);
        FileSystemInfo? final = null;
        try
        {
            var info = new FileInfo(full);
            if (info.LinkTarget is not null)
            {
                final = info.ResolveLinkTarget(returnFinalTarget: true);
            }
        }
        catch (FileNotFoundException)
        {
            // Nothing there yet: the path itself is written.
        }
        catch (IOException ex)
        {
            return fail($"cannot follow its symbolic link: {ex.Message}");
        }

        var target = final?.FullName ?? full;
        var dir = Path.GetDirectoryName(target);
        switch (dir is null ? FileKind.Directory : KindOf(dir))
        {
            case FileKind.Missing:
                return fail($"directory '{dir}' does not exist");
            case FileKind.Directory:
                return target;
            default:
                return fail($"'{dir}' is not a directory");
        }
    }

    /// <summary>The error of the last system call, as <c>strerror</c> words it.</summary>
    internal static string LastError() => UnixMarshal.GetErrorDescription(Stdlib.GetLastError());

    /// <summary>An exception's message for a one-line error: the system's words for I/O errors, the type otherwise.</summary>
    internal static string Reason(Exception ex) =>
        ex is IOException or UnauthorizedAccessException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";

    private static string FullPath(string path, Func<string, string> fail)
    {
        try
        {
            return Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return fail("not a valid path");
        }
    }

    /// <summary>Creates and removes an empty file in <paramref name="dir"/>, as the atomic write will.</summary>
    private static void ProbeDirectory(string dir, Func<string, string> fail)
    {
        var probe = Path.Combine(dir, $".taskisol-probe.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        if (Posix)
        {
            var fd = Syscall.open(probe, OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_WRONLY | OpenFlags.O_CLOEXEC, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR);
            if (fd < 0)
            {
                fail($"cannot create a file in directory '{dir}': {LastError()}");
            }

            Syscall.close(fd);
            Syscall.unlink(probe);
            return;
        }

        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
            {
            }

            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            fail($"cannot create a file in directory '{dir}': {Reason(ex)}");
        }
    }
}
