namespace TaskIsolation.Host.Tests.Usability;

/// <summary>
/// A reused <c>--out</c> (issue 18): a non-empty directory that does not hold a previous run of the same command is
/// refused (one line, exit 2, nothing written), <c>--force</c> removes only the files taskisol wrote there, and a
/// previous run of the same command is replaced: the files its manifest lists go, the user's stay.
/// </summary>
public sealed class OutputDirectoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-outdir-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Out => Path.Combine(_dir, "out");

    private Outcome Explore(params string[] more) =>
        Taskisol.Run(["explore", Fuzz.Fixtures.WriteScenario(_dir), "--iterations", "30", "--until", "first", "--workers", "1", "--out", Out, .. more]);

    private static string[] Entries(string dir) => [.. Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public void A_directory_of_other_files_is_refused_and_left_as_it_was()
    {
        Directory.CreateDirectory(Out);
        File.WriteAllText(Path.Combine(Out, "notes.txt"), "mine");

        var r = Explore();

        Assert.Equal(2, r.Exit);
        Assert.Equal($"taskisol explore: --out '{Out}': is not empty (1 entry, e.g. 'notes.txt') and holds no previous run of 'taskisol explore'; use --force to write there anyway (taskisol then removes only the files it wrote)\n", r.Err);
        Assert.Equal(["notes.txt"], Entries(Out));
    }

    [Fact]
    public void Force_writes_there_and_keeps_the_users_files()
    {
        Directory.CreateDirectory(Out);
        File.WriteAllText(Path.Combine(Out, "notes.txt"), "mine");

        var r = Explore("--force");

        Assert.Equal(1, r.Exit);
        Assert.Equal([".taskisol-outputs", "finding-1.json", "notes.txt"], Entries(Out));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(Out, "notes.txt")));
        Assert.Equal("taskisol explore\nfinding-1.json\n", File.ReadAllText(Path.Combine(Out, ".taskisol-outputs")));
    }

    [Fact]
    public void A_previous_run_of_the_same_command_is_replaced_its_stale_files_removed()
    {
        Assert.Equal(1, Explore().Exit);
        // A previous campaign that found more: its finding-7.json is listed as its own.
        File.WriteAllText(Path.Combine(Out, "finding-7.json"), "{}");
        File.AppendAllText(Path.Combine(Out, ".taskisol-outputs"), "finding-7.json\n");
        File.WriteAllText(Path.Combine(Out, "notes.txt"), "mine");

        var r = Explore();

        Assert.Equal(1, r.Exit);
        Assert.Equal([".taskisol-outputs", "finding-1.json", "notes.txt"], Entries(Out));
        Assert.Equal("taskisol explore\nfinding-1.json\n", File.ReadAllText(Path.Combine(Out, ".taskisol-outputs")));
    }

    [Fact]
    public void Another_commands_directory_is_refused_and_with_force_only_its_listed_files_go()
    {
        Assert.Equal(1, Explore().Exit);

        var refused = Taskisol.Run("soak", Fuzz.Fixtures.WriteScenario(_dir), "--for", "2ms", "--snapshot-every", "1ms", "--out", Out);

        Assert.Equal(2, refused.Exit);
        Assert.Equal($"taskisol soak: --out '{Out}': holds the outputs of 'taskisol explore', not of 'soak'; use --force to write there anyway (taskisol then removes only the files it wrote)\n", refused.Err);
        Assert.Equal([".taskisol-outputs", "finding-1.json"], Entries(Out));

        var forced = Taskisol.Run("soak", Fuzz.Fixtures.WriteScenario(_dir), "--for", "2ms", "--snapshot-every", "1ms", "--out", Out, "--force");

        Assert.Contains(forced.Exit, new[] { 0, 1 });
        Assert.DoesNotContain("finding-1.json", Entries(Out));
        Assert.StartsWith("taskisol soak\n", File.ReadAllText(Path.Combine(Out, ".taskisol-outputs")), StringComparison.Ordinal);
        Assert.Contains("latest\n", File.ReadAllText(Path.Combine(Out, ".taskisol-outputs")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_cannot_name_a_file_outside_the_directory()
    {
        Directory.CreateDirectory(Out);
        var outside = Path.Combine(_dir, "keep.txt");
        File.WriteAllText(outside, "keep");
        File.WriteAllText(Path.Combine(Out, ".taskisol-outputs"), "taskisol explore\n../keep.txt\n..\n");

        Assert.Equal(1, Explore().Exit);
        Assert.True(File.Exists(outside));
    }
}
