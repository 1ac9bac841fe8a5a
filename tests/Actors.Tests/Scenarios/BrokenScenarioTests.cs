using System.Text.RegularExpressions;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// The corpus of broken scenarios in Broken/: each file's first line says where its error is and what the message
/// says (<c># error: LINE:COL: words</c>), and loading it must give exactly that, as a ScenarioException.
/// </summary>
public sealed partial class BrokenScenarioTests
{
    public static TheoryData<string> Files => [.. BrokenCorpus.Files().Select(f => Path.GetFileName(f))];

    [Fact]
    public void The_corpus_covers_every_kind_of_mistake() => Assert.True(BrokenCorpus.Files().Count >= 40);

    [Theory]
    [MemberData(nameof(Files))]
    public void Gives_a_ScenarioException_naming_the_place(string file)
    {
        var path = Path.Combine(BrokenCorpus.Directory, file);
        var (line, col, words) = BrokenCorpus.Expected(path);

        var ex = Assert.Throws<ScenarioException>(() => ScenarioLoader.LoadFile(path));

        Assert.Contains(ex.Errors, e => e.File == path && e.Line == line && e.Column == col && e.Message.Contains(words, StringComparison.Ordinal));
        Assert.All(ex.Errors, e => Assert.Matches(Place(), e.ToString()));
    }

    [GeneratedRegex(@"^.+:[0-9]+:[0-9]+: \S")]
    private static partial Regex Place();
}

/// <summary>The broken corpus and the expectation each file carries on its first line.</summary>
internal static partial class BrokenCorpus
{
    public static string Directory => Path.Combine(ScenarioFiles.RepositoryRoot, "tests", "Actors.Tests", "Scenarios", "Broken");

    public static IReadOnlyList<string> Files() =>
        [.. System.IO.Directory.GetFiles(Directory, "*.yaml").Order(StringComparer.Ordinal)];

    public static (int Line, int Column, string Words) Expected(string path)
    {
        var m = Header().Match(File.ReadLines(path).First());
        Assert.True(m.Success, $"{path}: first line must be '# error: LINE:COL: words'");
        return (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
            m.Groups[3].Value.Trim());
    }

    [GeneratedRegex("^# error: ([0-9]+):([0-9]+): (.+)$")]
    private static partial Regex Header();
}
