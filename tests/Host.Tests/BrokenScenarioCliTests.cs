using System.Text.RegularExpressions;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// The broken-scenario corpus of the actor tests through <c>taskisol run</c>: exit 2, the place on stderr as
/// <c>file:line:col:</c>, nothing on stdout and no file written.
/// </summary>
public sealed partial class BrokenScenarioCliTests
{
    private static readonly string Corpus = Path.Combine(Root(), "tests", "Actors.Tests", "Scenarios", "Broken");

    public static TheoryData<string> Files => [.. Directory.GetFiles(Corpus, "*.yaml").Order(StringComparer.Ordinal).Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(Files))]
    public void Exits_2_naming_the_place_with_nothing_written(string file)
    {
        var path = Path.Combine(Corpus, file);
        var m = Header().Match(File.ReadLines(path).First());
        Assert.True(m.Success);
        var before = Directory.GetFileSystemEntries(Corpus);

        var r = Taskisol.Run("run", path);

        Assert.Equal(2, r.Exit);
        Assert.Equal("", r.Out);
        Assert.Contains($"{path}:{m.Groups[1].Value}:{m.Groups[2].Value}: ", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", r.Err, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(Corpus));
    }

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TaskIsolation.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("no TaskIsolation.sln above the test binaries");
    }

    [GeneratedRegex("^# error: ([0-9]+):([0-9]+): ")]
    private static partial Regex Header();
}
