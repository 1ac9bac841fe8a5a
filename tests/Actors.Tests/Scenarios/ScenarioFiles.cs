namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>Where the repository keeps its example scenarios and docs, found from the test binaries upwards.</summary>
internal static class ScenarioFiles
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string ExamplesDirectory => Path.Combine(RepositoryRoot, "scenarios");

    public static IReadOnlyList<string> Examples() =>
        [.. Directory.GetFiles(ExamplesDirectory, "*.yaml").Order(StringComparer.Ordinal)];

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TaskIsolation.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no TaskIsolation.sln above {AppContext.BaseDirectory}");
    }
}
