using TaskIsolation.Reports;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>Output files are complete or absent, never truncated.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Writes_the_file_and_leaves_no_temporary_behind()
    {
        var path = Path.Combine(_dir, "r.json");
        AtomicFile.WriteText(path, w => w.Write("{}\n"));
        Assert.Equal("{}\n", File.ReadAllText(path));
        Assert.Equal(["r.json"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failing_writer_leaves_the_previous_content_and_no_temporary()
    {
        var path = Path.Combine(_dir, "r.json");
        File.WriteAllText(path, "previous");
        var ex = Assert.Throws<OutputFileException>(() => AtomicFile.WriteText(path, w =>
        {
            w.Write(new string('x', 100_000));
            w.Flush();
            throw new InvalidOperationException("writer broke");
        }));
        Assert.Equal(path, ex.Path);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("writer broke", ex.Message, StringComparison.Ordinal);
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Equal(["r.json"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void A_symlink_is_followed_its_target_replaced_and_the_link_kept()
    {
        var target = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "real")).FullName, "r.json");
        File.WriteAllText(target, "old");
        var link = Path.Combine(_dir, "link.json");
        File.CreateSymbolicLink(link, target);

        AtomicFile.WriteAllText(link, "new");

        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal(["r.json"], Directory.GetFiles(Path.GetDirectoryName(target)!).Select(Path.GetFileName));
    }

    [Fact]
    public async System.Threading.Tasks.Task A_fifo_is_written_in_place_for_its_reader()
    {
        var fifo = Path.Combine(_dir, "pipe");
        Assert.Equal(0, Mono.Unix.Native.Syscall.mkfifo(fifo, Mono.Unix.Native.FilePermissions.DEFFILEMODE));
        var read = System.Threading.Tasks.Task.Run(() => File.ReadAllText(fifo));

        AtomicFile.WriteAllText(fifo, "through the pipe");

        Assert.Equal("through the pipe", await read.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(Mono.Unix.FileTypes.Fifo, Mono.Unix.UnixFileSystemInfo.GetFileSystemEntry(fifo).FileType);
    }

    [Fact]
    public void A_missing_directory_or_a_directory_path_is_named_in_the_error()
    {
        var missing = Path.Combine(_dir, "no-such-dir", "r.json");
        var ex = Assert.Throws<OutputFileException>(() => AtomicFile.WriteText(missing, w => w.Write("x")));
        Assert.Equal($"cannot write '{missing}': directory '{Path.Combine(_dir, "no-such-dir")}' does not exist", ex.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "no-such-dir")));

        var dirEx = Assert.Throws<OutputFileException>(() => AtomicFile.WriteText(_dir, w => w.Write("x")));
        Assert.Contains("is a directory", dirEx.Message, StringComparison.Ordinal);

        var empty = Assert.Throws<OutputFileException>(() => AtomicFile.WriteText(string.Empty, w => w.Write("x")));
        Assert.Equal("cannot write '': the path is empty, expected a file", empty.Message);
    }
}
