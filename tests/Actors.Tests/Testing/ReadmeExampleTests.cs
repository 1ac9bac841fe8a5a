using TaskIsolation.Actors.Tests.Scenarios;

namespace TaskIsolation.Actors.Tests.Testing;

/// <summary>
/// README.md's C# example is a real test: its <c>csharp</c> block is, byte for byte, the file
/// <c>tests/Actors.Tests/Testing/TlbShootdownRaceTests.cs</c>, which this project compiles and runs. Change one, change
/// the other.
/// </summary>
public sealed class ReadmeExampleTests
{
    private const string Heading = "## Race regression tests in C#";

    [Fact]
    public void The_readme_example_is_the_compiled_race_test()
    {
        var readme = File.ReadAllText(Path.Combine(ScenarioFiles.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");
        var file = File.ReadAllText(Path.Combine(ScenarioFiles.RepositoryRoot, "tests", "Actors.Tests", "Testing", "TlbShootdownRaceTests.cs")).ReplaceLineEndings("\n");

        var section = readme.IndexOf(Heading, StringComparison.Ordinal);
        Assert.True(section >= 0, $"README.md has no section '{Heading}'");
        var start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md's section '{Heading}' has no csharp block");
        start += "```csharp\n".Length;
        var end = readme.IndexOf("\n```\n", start, StringComparison.Ordinal);
        Assert.True(end >= 0, "README.md's csharp block is not closed");

        Assert.Equal(file, readme[start..(end + 1)]);
    }
}
