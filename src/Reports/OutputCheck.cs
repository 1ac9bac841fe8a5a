using Mono.Unix;
using Mono.Unix.Native;

namespace TaskIsolation.Reports;

/// <summary>A file a command reads, which no output of it may overwrite.</summary>
/// <param name="What">What it is, as a message names it: <c>the scenario</c>, <c>the reproducer</c>.</param>
/// <param name="Path">Its path as the user gave it.</param>
public sealed record InputFile(string What, string Path);

/// <summary>An output directory a command owns (<see cref="OutputCheck.PrepareOwnedDirectory"/>).</summary>
/// <param name="Path">Its full path.</param>
/// <param name="Started">When the command started writing it (UTC): files written since are its own.</param>
public sealed record OwnedDirectory(string Path, DateTime Started);

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
        CheckInputsInside(full, inputs, writes, Fail);
        return full;
    }

    /// <summary>
    /// The name of the file in which a command records the output directory it writes: the command's name on the
    /// first line, then each file it wrote there, one name a line (docs/reports.md, "Output directories").
    /// </summary>
    public const string ManifestFile = ".taskisol-outputs";

    /// <summary>
    /// <see cref="PrepareDirectory(string, string, IReadOnlyCollection{InputFile}, Func{string, bool}?)"/> for a
    /// command that owns its output directory (<c>explore</c>, <c>soak</c>, <c>minimize</c>): the directory must be
    /// new, empty, or hold a previous run of the same <paramref name="command"/> (its manifest, <see cref="ManifestFile"/>).
    /// A previous run of the same command is replaced: the files its manifest lists are removed, unless the command
    /// <paramref name="accumulates"/> (each run adds its own files beside the earlier ones'). Any other non-empty
    /// directory is refused unless <paramref name="force"/>; then only the files a manifest lists (taskisol's own,
    /// from whichever command) are removed, and everything else is kept. Nothing is removed when a check fails.
    /// </summary>
    /// <returns>The directory's full path and the time the command started writing it, for <see cref="RecordOutputs"/>.</returns>
    /// <exception cref="OutputFileException">Naming the option, the path and the reason.</exception>
    public static OwnedDirectory PrepareOwnedDirectory(string option, string path, IReadOnlyCollection<InputFile> inputs, Func<string, bool> writes, string command, bool force, bool accumulates = false)
    {
        ArgumentNullException.ThrowIfNull(writes);
        ArgumentNullException.ThrowIfNull(command);
        var started = DateTime.UtcNow;
        var full = PrepareDirectory(option, path, inputs, writes);
        string Fail(string why) => throw new OutputFileException(path, $"{option} '{path}': {why}");
        var manifestPath = Path.Combine(full, ManifestFile);
        var previous = ReadManifest(manifestPath);
        var others = Directory.EnumerateFileSystemEntries(full).Select(Path.GetFileName).Where(n => n is not null && n != ManifestFile && !(previous?.Files.Contains(n) ?? false)).Order(StringComparer.Ordinal).ToList();
        var same = previous is not null && previous.Command == command;
        if (!force && (previous is not null ? !same : others.Count > 0))
        {
            var what = previous is not null
                ? $"holds the outputs of 'taskisol {previous.Command}', not of '{command}'"
                : $"is not empty ({others.Count} {(others.Count == 1 ? "entry" : "entries")}, e.g. '{others[0]}') and holds no previous run of 'taskisol {command}'";
            return new OwnedDirectory(Fail($"{what}; use --force to write there anyway (taskisol then removes only the files it wrote)"), started);
        }

        // A command whose runs add to one directory (minimize: one test per finding, side by side) keeps its earlier
        // outputs; another command's are removed, with --force.
        if (accumulates && same)
        {
            return new OwnedDirectory(full, started);
        }

        // Our own files only: those a manifest lists, never a file the user put there.
        foreach (var name in previous?.Files ?? [])
        {
            var entry = Path.Combine(full, name);
            try
            {
                if (Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is null)
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Fail($"cannot remove '{name}' of the previous run: {Reason(ex)}");
            }
        }

        WriteManifest(manifestPath, command, []);
        return new OwnedDirectory(full, started);
    }

    /// <summary>
    /// Records in <paramref name="dir"/>'s manifest the entries <paramref name="writes"/> names that were written since
    /// the command started (those a later run will remove), keeping the ones already recorded.
    /// </summary>
    public static void RecordOutputs(OwnedDirectory dir, string command, Func<string, bool> writes)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(writes);
        var manifestPath = Path.Combine(dir.Path, ManifestFile);
        var files = new SortedSet<string>(ReadManifest(manifestPath)?.Files ?? [], StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir.Path))
        {
            var name = Path.GetFileName(entry);
            if (name != ManifestFile && writes(name) && File.GetLastWriteTimeUtc(entry) >= dir.Started.AddSeconds(-2))
            {
                files.Add(name);
            }
        }

        WriteManifest(manifestPath, command, files);
    }

    private sealed record Manifest(string Command, HashSet<string> Files);

    private static Manifest? ReadManifest(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var lines = File.ReadAllLines(path);
        const string Prefix = "taskisol ";
        if (lines.Length == 0 || !lines[0].StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        // A listed name is a plain name in this directory: never a path that leads out of it.
        var files = lines.Skip(1).Where(l => l.Length > 0 && l is not ("." or "..") && l.IndexOfAny(['/', '\\', '\0']) < 0);
        return new Manifest(lines[0][Prefix.Length..], files.ToHashSet(StringComparer.Ordinal));
    }

    private static void WriteManifest(string path, string command, IEnumerable<string> files) =>
        AtomicFile.WriteAllText(path, string.Concat(files.Select(f => f + "\n").Prepend($"taskisol {command}\n")));

    private static void CheckInputsInside(string full, IReadOnlyCollection<InputFile> inputs, Func<string, bool>? writes, Func<string, string> Fail)
    {
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
                        Fail($"holds {input.What} '{input.Path}' as '{name}', which it would overwrite");
                    }
                }
            }
        }
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
