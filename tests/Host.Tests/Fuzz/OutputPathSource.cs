using Mono.Unix;
using Mono.Unix.Native;

namespace TaskIsolation.Host.Tests.Fuzz;

/// <summary>
/// Every command with an output option, against every kind of path: new, existing, in a missing directory, empty, a
/// directory, under /proc, the input itself (by its name, another spelling, a symlink, a hard link), a symlink (to a
/// file, dangling, a chain, to a directory), a FIFO with a reader, a device node (<c>mknod</c>: root only), a socket.
/// Not random: case <c>i</c> is row <c>i</c> of the matrix, so the normal run covers every row.
/// </summary>
public sealed class OutputPathSource : IFuzzSource
{
    /// <summary>Kinds of output file path.</summary>
    public static readonly string[] FileKinds =
    [
        "new", "existing", "missing directory", "empty", "a directory", "under /proc", "the input", "the input, spelled otherwise",
        "a symlink to the input", "a hard link to the input", "a symlink to a file", "a dangling symlink", "a chain of symlinks",
        "a symlink to a directory", "a FIFO", "a character device (null)", "a character device (full)", "a socket",
        "a line separator in a missing directory", "another output of the same command",
    ];

    /// <summary>Kinds of output directory path.</summary>
    public static readonly string[] DirKinds =
    [
        "new", "new, with missing parents", "existing", "empty", "a file", "under /proc", "a symlink to a directory",
        "an input under an output's name", "an output's name taken by a directory",
    ];

    /// <summary>The kinds a command that cannot run in a test (bench: minutes; worker: until stopped) gets: those it must refuse.</summary>
    private static readonly string[] Refused =
    [
        "missing directory", "empty", "a directory", "under /proc", "a symlink to a directory", "a line separator in a missing directory",
    ];

    private static readonly string[] Bad =
    [
        .. Refused, "the input", "the input, spelled otherwise", "a symlink to the input", "a hard link to the input",
        "a character device (full)", "a socket", "another output of the same command",
    ];

    /// <summary>Every (command, kind) row.</summary>
    public static IReadOnlyList<(string Command, string Kind)> Matrix { get; } = BuildMatrix();

    public string Name => "output paths";

    public int NormalCount => Matrix.Count;

    public bool Scales => false;

    /// <summary>Whether this process may make device nodes.</summary>
    public static bool IsRoot => Environment.IsPrivilegedProcess;

    public FuzzCase? Make(int index, Random random, string dir, out string? skipped)
    {
        var (command, kind) = Matrix[index % Matrix.Count];
        return Build(command, kind, dir, out skipped);
    }

    /// <summary>The case of <paramref name="command"/>'s output as a path of <paramref name="kind"/>, made in <paramref name="dir"/>.</summary>
    public static FuzzCase? Build(string command, string kind, string dir, out string? skipped)
    {
        skipped = null;
        if (kind.StartsWith("a character device", StringComparison.Ordinal) && !IsRoot)
        {
            skipped = "mknod needs root";
            return null;
        }

        return DirKinds.Contains(kind) && command.EndsWith("--out", StringComparison.Ordinal) ? DirCase(command, kind, dir) : FileCase(command, kind, dir);
    }

    private static IReadOnlyList<(string, string)> BuildMatrix()
    {
        var rows = new List<(string, string)>();
        foreach (var c in new[] { "run --report", "run --trace", "run --ftrace", "run --log", "replay --trace", "replay --ftrace" })
        {
            rows.AddRange(FileKinds.Select(k => (c, k)));
        }

        rows.AddRange(Refused.Select(k => ("bench --report", k)));
        rows.AddRange(Refused.Select(k => ("worker --node-log", k)));
        rows.AddRange(Bad.Where(k => k != "another output of the same command").Select(k => ("explore --cluster --journal", k)));
        rows.AddRange(Bad.Where(k => k != "another output of the same command").Select(k => ("explore --cluster --node-log", k)));
        foreach (var c in new[] { "explore --out", "soak --out", "minimize --out" })
        {
            rows.AddRange(DirKinds.Where(k => k != "an input under an output's name" || c == "minimize --out").Where(k => k != "an output's name taken by a directory" || c == "explore --out").Select(k => (c, k)));
        }

        return rows;
    }

    private static FuzzCase FileCase(string command, string kind, string dir)
    {
        var other = Directory.CreateDirectory(Path.Combine(dir, "other")).FullName;
        var (args, input) = Command(command, dir);
        var option = command.Split(' ')[^1];
        var outputs = new List<string>();
        Func<Outcome, string?>? check = null;
        Func<IDisposable>? alongside = null;
        var path = Path.Combine(dir, "o.out");
        var refused = Bad.Contains(kind);
        switch (kind)
        {
            case "new":
                check = o => IsFile(path) && new FileInfo(path).Length > 0 ? null : "no regular file written";
                break;
            case "existing":
                File.WriteAllText(path, "old\n");
                check = o => IsFile(path) && File.ReadAllText(path) != "old\n" ? null : "the existing file was not replaced";
                break;
            case "missing directory":
                path = Path.Combine(dir, "missing", "o.out");
                break;
            case "empty":
                path = string.Empty;
                break;
            case "a directory":
                path = other;
                break;
            case "under /proc":
                path = "/proc/self/o.out";
                break;
            case "the input":
                path = input;
                break;
            case "the input, spelled otherwise":
                path = Path.Combine(other, "..", Path.GetFileName(input));
                break;
            case "a symlink to the input":
                File.CreateSymbolicLink(path, input);
                break;
            case "a hard link to the input":
                Check(Syscall.link(input, path));
                break;
            case "a symlink to a file":
                var target = Path.Combine(other, "target.txt");
                File.WriteAllText(target, "old\n");
                File.CreateSymbolicLink(path, target);
                outputs.Add(target);
                check = o => IsLink(path, target) && IsFile(target) && File.ReadAllText(target) != "old\n" ? null : "the symlink was not followed to its target, written in place";
                break;
            case "a dangling symlink":
                var fresh = Path.Combine(other, "new.txt");
                File.CreateSymbolicLink(path, fresh);
                outputs.Add(fresh);
                check = o => IsLink(path, fresh) && IsFile(fresh) && new FileInfo(fresh).Length > 0 ? null : "the dangling symlink was not followed to create its target";
                break;
            case "a chain of symlinks":
                var end = Path.Combine(other, "end.txt");
                var middle = Path.Combine(other, "middle.txt");
                File.WriteAllText(end, "old\n");
                File.CreateSymbolicLink(middle, end);
                File.CreateSymbolicLink(path, middle);
                outputs.Add(end);
                check = o => IsLink(path, middle) && IsLink(middle, end) && IsFile(end) && File.ReadAllText(end) != "old\n" ? null : "the chain of symlinks was not followed to its end";
                break;
            case "a symlink to a directory":
                File.CreateSymbolicLink(path, other);
                break;
            case "a FIFO":
                Check(Syscall.mkfifo(path, FilePermissions.DEFFILEMODE));
                var reader = new FifoReader(path);
                alongside = () => reader.Start();
                check = o => Type(path) == FileTypes.Fifo && reader.Bytes > 0 ? null : $"the FIFO was {(Type(path) == FileTypes.Fifo ? "not written to" : "replaced")}";
                break;
            case "a character device (null)":
                Check(Syscall.mknod(path, FilePermissions.S_IFCHR | FilePermissions.DEFFILEMODE, (1 << 8) | 3));
                check = o => Type(path) == FileTypes.CharacterDevice ? null : "the device node was replaced";
                break;
            case "a character device (full)":
                Check(Syscall.mknod(path, FilePermissions.S_IFCHR | FilePermissions.DEFFILEMODE, (1 << 8) | 7));
                check = o => Type(path) == FileTypes.CharacterDevice ? null : "the device node was replaced";
                break;
            case "a socket":
                // A socket file, as a bound socket leaves one (.NET removes its own when it closes them).
                Check(Syscall.mknod(path, FilePermissions.S_IFSOCK | FilePermissions.DEFFILEMODE, 0));

                check = o => Type(path) == FileTypes.Socket ? null : "the socket was replaced";
                break;
            case "a line separator in a missing directory":
                path = Path.Combine(dir, "x\u2028y", "o.out");
                break;
            case "another output of the same command":
                var second = command.StartsWith("replay", StringComparison.Ordinal) ? (option == "--trace" ? "--ftrace" : "--trace") : (option == "--report" ? "--trace" : "--report");
                args = [.. args, second, Path.Combine(other, "..", "o.out")];
                break;
        }

        args = [.. args, option, path];
        outputs.Add(path);
        var names = path.Length == 0 || path.Contains('\u2028', StringComparison.Ordinal) ? new[] { option } : [path, option];
        var expectExit2 = refused;
        var inner = check;
        check = o =>
        {
            if (expectExit2 && o.Exit != 2)
            {
                return $"{kind} was not refused (exit {o.Exit})";
            }

            if (expectExit2 && o.Out.Length > 0 && !command.StartsWith("worker", StringComparison.Ordinal) && kind != "a character device (full)")
            {
                return "refused only after running (something was printed on stdout first)";
            }

            if (!expectExit2 && o.Exit is not (0 or 1))
            {
                return $"{kind} was refused (exit {o.Exit})";
            }

            return inner?.Invoke(o);
        };
        return new FuzzCase(args)
        {
            What = $"{command}: {kind}",
            Inputs = input.Length > 0 ? [input] : [],
            Outputs = outputs,
            Names = names,
            Check = check,
            Alongside = alongside,
        };
    }

    private static FuzzCase DirCase(string command, string kind, string dir)
    {
        var (args, input) = Command(command, dir);
        var path = Path.Combine(dir, "out");
        var outputs = new List<string>();
        Func<Outcome, string?>? check = null;
        var refused = kind is "empty" or "a file" or "under /proc" or "an input under an output's name" or "an output's name taken by a directory";
        switch (kind)
        {
            case "new":
                break;
            case "new, with missing parents":
                path = Path.Combine(dir, "a", "b", "out");
                outputs.Add(Path.Combine(dir, "a"));
                break;
            case "existing":
                Directory.CreateDirectory(path);
                break;
            case "empty":
                path = string.Empty;
                break;
            case "a file":
                path = input;
                break;
            case "under /proc":
                path = "/proc/self/out";
                break;
            case "a symlink to a directory":
                var real = Directory.CreateDirectory(Path.Combine(dir, "real")).FullName;
                File.CreateSymbolicLink(path, real);
                outputs.Add(real);
                check = o => IsLink(path, real) && Directory.EnumerateFileSystemEntries(real).Any() ? null : "the symlink to a directory was not followed";
                break;
            case "an input under an output's name":
                // minimize writes <scenario>.min.json: here that is the reproducer being minimized.
                Directory.CreateDirectory(path);
                var moved = Path.Combine(path, "tlb-race.min.json");
                File.Move(input, moved);
                input = moved;
                args = [.. args.Select(a => a == Path.Combine(dir, "repro.json") ? moved : a)];
                break;
            case "an output's name taken by a directory":
                // The write after the run fails (as on a full disk): bad input naming the file, no stack trace.
                Directory.CreateDirectory(Path.Combine(path, "finding-1.json"));
                break;
        }

        var option = "--out";
        args = [.. args, option, path];
        outputs.Add(path);
        var inner = check;
        return new FuzzCase(args)
        {
            What = $"{command}: {kind}",
            Inputs = [input],
            Outputs = outputs,
            Names = path.Length == 0 ? [option] : [path, option, Path.Combine(path, "finding-1.json")],
            Check = o => refused && o.Exit != 2 ? $"{kind} was not refused (exit {o.Exit})"
                : !refused && o.Exit is not (0 or 1) ? $"{kind} was refused (exit {o.Exit})"
                : !refused && o.Exit is 0 or 1 && !Directory.Exists(path) ? "no output directory"
                : inner?.Invoke(o),
        };
    }

    /// <summary>The command line without its output option, and the input file it reads.</summary>
    private static (string[] Args, string Input) Command(string command, string dir) => command switch
    {
        _ when command.StartsWith("run ", StringComparison.Ordinal) => (["run", Fixtures.WriteScenario(dir), "--quiet", "--duration", "1ms"], Path.Combine(dir, "in.yaml")),
        _ when command.StartsWith("replay ", StringComparison.Ordinal) => (["replay", Fixtures.WriteReproducer(dir)], Path.Combine(dir, "repro.json")),
        "bench --report" => (["bench", "--quick"], string.Empty),
        "worker --node-log" => (["worker", "--seed-node", "akka.tcp://taskisol@127.0.0.1:1", "--port", "0", "--once"], string.Empty),
        "explore --cluster --journal" or "explore --cluster --node-log" => (["explore", Fixtures.WriteScenario(dir), "--cluster", "--workers", "1", "--iterations", "2", "--port", "0", "--log-level", "error"], Path.Combine(dir, "in.yaml")),
        "explore --out" => (["explore", Fixtures.WriteScenario(dir), "--iterations", "30", "--until", "first", "--workers", "1"], Path.Combine(dir, "in.yaml")),
        "soak --out" => (["soak", Fixtures.WriteScenario(dir), "--for", "2ms", "--snapshot-every", "1ms"], Path.Combine(dir, "in.yaml")),
        "minimize --out" => (["minimize", Fixtures.WriteReproducer(dir), "--max-runs", "3"], Path.Combine(dir, "repro.json")),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command, "no such command in the matrix"),
    };

    private static FileTypes? Type(string path)
    {
        var info = UnixFileSystemInfo.GetFileSystemEntry(path);
        return info.Exists ? info.FileType : null;
    }

    private static bool IsFile(string path) => Type(path) == FileTypes.RegularFile;

    private static bool IsLink(string path, string target) => Type(path) == FileTypes.SymbolicLink && new FileInfo(path).LinkTarget == target;

    private static void Check(int result)
    {
        if (result != 0)
        {
            throw new IOException($"setting up the case failed: {Stdlib.GetLastError()}");
        }
    }

    /// <summary>Reads a FIFO to its end on a thread of its own, as a reader process would; stopping it lets a blocked open return.</summary>
    private sealed class FifoReader(string path) : IDisposable
    {
        private Thread? _thread;
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public FifoReader Start()
        {
            _thread = new Thread(() =>
            {
                try
                {
                    using var fifo = new FileStream(path, FileMode.Open, FileAccess.Read);
                    var buffer = new byte[65536];
                    int n;
                    while ((n = fifo.Read(buffer)) > 0)
                    {
                        Interlocked.Add(ref _bytes, n);
                    }
                }
                catch (IOException)
                {
                    // The FIFO was replaced or removed: the check says so.
                }
            })
            { IsBackground = true };
            _thread.Start();
            return this;
        }

        public void Dispose()
        {
            if (_thread is null || _thread.Join(TimeSpan.FromMilliseconds(200)))
            {
                return;
            }

            // Still waiting for a writer: open the write end ourselves (without blocking) and close it, which is an end of file.
            var fd = Syscall.open(path, OpenFlags.O_WRONLY | OpenFlags.O_NONBLOCK);
            if (fd >= 0)
            {
                Syscall.close(fd);
            }

            _thread.Join(TimeSpan.FromSeconds(5));
        }
    }
}
