using System.Diagnostics;
using Mono.Unix;
using Mono.Unix.Native;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// Output paths that are not plain new files (issue 16): a device node and a FIFO are written in place, never renamed
/// over; a symlink is followed and its target replaced atomically in the target's directory; an input, however it is
/// named, is refused before anything runs; a full disk is bad input naming the file. The whole matrix of commands and
/// kinds of path is <see cref="Fuzz.OutputPathSource"/>.
/// </summary>
public sealed class OutputPathTests : IDisposable
{
    private static readonly string Scenario = Path.Combine(Fuzz.Mutations.Root, "scenarios", "tlb-race.yaml");

    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-outputs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void A_device_node_is_written_in_place_and_stays_a_device()
    {
        Skip.IfNot(Environment.IsPrivilegedProcess, "mknod needs root: run the tests as root to cover a device node");
        var node = P("null");
        Assert.Equal(0, Syscall.mknod(node, FilePermissions.S_IFCHR | FilePermissions.DEFFILEMODE, (1 << 8) | 3));
        var before = Stat(node);

        var r = Taskisol.Run("run", Scenario, "--quiet", "--ftrace", node);

        Assert.Equal(0, r.Exit);
        Assert.Equal("", r.Err);
        var after = Stat(node);
        Assert.Equal(FilePermissions.S_IFCHR, after.st_mode & FilePermissions.S_IFMT);
        Assert.Equal((before.st_ino, before.st_rdev), (after.st_ino, after.st_rdev));
        Assert.Equal(["null"], Entries());
    }

    [SkippableFact]
    public void A_full_device_is_bad_input_naming_it_and_stays_a_device()
    {
        Skip.IfNot(Environment.IsPrivilegedProcess, "mknod needs root: run the tests as root to cover a device node");
        var node = P("full");
        Assert.Equal(0, Syscall.mknod(node, FilePermissions.S_IFCHR | FilePermissions.DEFFILEMODE, (1 << 8) | 7));

        var r = Taskisol.Run("run", Scenario, "--quiet", "--report", node);

        Assert.Equal(2, r.Exit);
        Assert.StartsWith($"taskisol run: cannot write '{node}': No space left on device", r.Err, StringComparison.Ordinal);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        Assert.Equal(FilePermissions.S_IFCHR, Stat(node).st_mode & FilePermissions.S_IFMT);
    }

    [Fact]
    public async Task A_fifo_is_written_to_its_reader_and_stays_a_fifo()
    {
        var fifo = P("pipe");
        Assert.Equal(0, Syscall.mkfifo(fifo, FilePermissions.DEFFILEMODE));

        // The reader another program would be: it blocks in open until taskisol opens the write end.
        var read = Task.Run(() =>
        {
            using var reader = new StreamReader(new FileStream(fifo, FileMode.Open, FileAccess.Read));
            return reader.ReadToEnd();
        });
        var r = Taskisol.Run("run", Scenario, "--quiet", "--ftrace", fifo);

        Assert.Equal(0, r.Exit);

        // A guard against a reader left waiting, not a wait for something to happen: taskisol has closed the pipe.
        var text = await read.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.StartsWith("# tracer: nop\n", text, StringComparison.Ordinal);
        Assert.Equal(FilePermissions.S_IFIFO, Stat(fifo).st_mode & FilePermissions.S_IFMT);
        Assert.Equal(["pipe"], Entries());
    }

    [Fact]
    public void A_symlink_is_followed_and_its_target_replaced_in_the_target_directory()
    {
        var elsewhere = Directory.CreateDirectory(P("elsewhere")).FullName;
        var target = Path.Combine(elsewhere, "trace.txt");
        File.WriteAllText(target, "old\n");
        var link = P("link.txt");
        File.CreateSymbolicLink(link, Path.Combine("elsewhere", "trace.txt"));

        var r = Taskisol.Run("run", Scenario, "--quiet", "--ftrace", link);

        Assert.Equal(0, r.Exit);
        Assert.Equal(Path.Combine("elsewhere", "trace.txt"), new FileInfo(link).LinkTarget);
        Assert.StartsWith("# tracer: nop\n", File.ReadAllText(target), StringComparison.Ordinal);
        Assert.Equal(["elsewhere", "link.txt"], Entries());
        Assert.Equal(["trace.txt"], Directory.GetFileSystemEntries(elsewhere).Select(Path.GetFileName));
    }

    [Fact]
    public void A_dangling_symlink_is_followed_and_its_target_created()
    {
        var link = P("link.json");
        File.CreateSymbolicLink(link, P("report.json"));

        var r = Taskisol.Run("run", Scenario, "--quiet", "--report", link);

        Assert.Equal(0, r.Exit);
        Assert.Equal(P("report.json"), new FileInfo(link).LinkTarget);
        Assert.StartsWith("{", File.ReadAllText(P("report.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_input_scenario_is_refused_as_an_output_however_it_is_named_and_nothing_runs()
    {
        var input = P("in.yaml");
        File.Copy(Scenario, input);
        File.CreateSymbolicLink(P("alias.yaml"), input);
        Assert.Equal(0, Syscall.link(input, P("hard.yaml")));
        Directory.CreateDirectory(P("sub"));
        var text = File.ReadAllText(input);

        foreach (var (option, path) in new[] { ("--report", input), ("--trace", P("sub/../in.yaml")), ("--ftrace", P("alias.yaml")), ("--log", P("hard.yaml")) })
        {
            var r = Taskisol.Run("run", input, "--quiet", option, path);

            Assert.Equal(2, r.Exit);
            Assert.Equal($"taskisol run: {option} '{path}': the same file as the scenario '{input}', which it would overwrite\n", r.Err);
            Assert.Equal("", r.Out);
            Assert.Equal(text, File.ReadAllText(input));
        }

        Assert.Equal(FileTypes.SymbolicLink, UnixFileSystemInfo.GetFileSystemEntry(P("alias.yaml")).FileType);
    }

    [Fact]
    public void A_socket_is_refused_before_the_run()
    {
        var socket = P("sock");
        Assert.Equal(0, Syscall.mknod(socket, FilePermissions.S_IFSOCK | FilePermissions.DEFFILEMODE, 0));

        var r = Taskisol.Run("run", Scenario, "--quiet", "--trace", socket);

        Assert.Equal(2, r.Exit);
        Assert.Equal($"taskisol run: --trace '{socket}': is a socket, which cannot be written as a file\n", r.Err);
        Assert.Equal("", r.Out);
    }

    [Fact]
    public void Output_paths_that_cannot_be_written_are_refused_before_anything_runs()
    {
        foreach (var (args, message) in new (string[], string)[]
        {
            (["bench", "--quick", "--report", ""], "taskisol bench: --report '': the path is empty, expected a file"),
            (["bench", "--quick", "--report", "/proc/self/x.json"], "taskisol bench: --report '/proc/self/x.json': cannot create a file in directory '/proc/self': "),
            (["soak", "default", "--for", "1s", "--out", ""], "taskisol soak: --out '': the path is empty, expected a directory"),
            (["run", Scenario, "--report", P("a\u2028b/r.json")], $"taskisol run: --report '{P("a\\u2028b/r.json")}': directory '{P("a\\u2028b")}' does not exist"),
        })
        {
            var r = Taskisol.Run(args);

            Assert.Equal(2, r.Exit);
            Assert.StartsWith(message, r.Err, StringComparison.Ordinal);
            Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
            Assert.Equal("", r.Out);
            Assert.Empty(Entries());
        }
    }

    [Fact]
    public void A_replay_trace_in_a_missing_directory_is_refused_before_the_replay()
    {
        var repro = Fuzz.Fixtures.WriteReproducer(_dir);
        var trace = P("missing/t.json");

        var r = Taskisol.Run("replay", repro, "--trace", trace);

        Assert.Equal(2, r.Exit);
        Assert.Equal($"taskisol replay: --trace '{trace}': directory '{P("missing")}' does not exist\n", r.Err);
        Assert.Equal("", r.Out);
        Assert.Equal(["repro.json"], Entries());
    }

    [SkippableFact]
    public void An_explore_out_on_a_full_disk_is_bad_input_naming_the_file()
    {
        Skip.IfNot(Environment.IsPrivilegedProcess, "mounting a tiny tmpfs needs root: run the tests as root to fill a disk");
        var disk = Directory.CreateDirectory(P("disk")).FullName;
        Skip.IfNot(Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", disk) == 0, "mount -t tmpfs failed (no CAP_SYS_ADMIN here)");
        try
        {
            // Fill it: what is left is room for names (inodes), not for content.
            using (var fill = new FileStream(Path.Combine(disk, "fill"), FileMode.CreateNew))
            {
                Assert.Throws<IOException>(() =>
                {
                    for (var i = 0; i < 1000; i++)
                    {
                        fill.Write(new byte[4096]);
                        fill.Flush(flushToDisk: true);
                    }
                });
            }

            // --force: the directory holds a file of someone else's. The first write is the directory's manifest,
            // before the campaign runs.
            var r = Taskisol.Run("explore", Scenario, "--iterations", "30", "--until", "first", "--workers", "1", "--out", disk, "--force");

            Assert.Equal(2, r.Exit);
            Assert.StartsWith($"taskisol explore: cannot write '{Path.Combine(disk, ".taskisol-outputs")}': ", r.Err, StringComparison.Ordinal);
            Assert.Contains("No space left on device", r.Err, StringComparison.Ordinal);
            Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
            Assert.Equal(["fill"], Directory.GetFileSystemEntries(disk).Select(Path.GetFileName));
        }
        finally
        {
            Assert.Equal(0, Command("umount", disk));
        }
    }

    private static int Command(string name, params string[] args)
    {
        var start = new ProcessStartInfo(name) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private static Stat Stat(string path)
    {
        Assert.Equal(0, Syscall.stat(path, out var st));
        return st;
    }

    private string P(string name) => Path.Combine(_dir, name);

    private IEnumerable<string> Entries() => Directory.GetFileSystemEntries(_dir).Select(e => Path.GetFileName(e)!).Order(StringComparer.Ordinal);
}
