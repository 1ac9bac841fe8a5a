using System.Reflection;
using PublicApiGenerator;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// The public surface of every library assembly, kept as approved text under tests/api/ (as Akka.NET's CoreAPISpec
/// keeps its own), so every change to it is a visible diff in review. A difference writes
/// <c>TaskIsolation.&lt;Name&gt;.received.txt</c> beside the approved file and fails naming both; a deliberate change
/// is approved with <c>TASKISOL_UPDATE_API=1 dotnet test tests/Host.Tests --filter PublicApiTests</c>, which rewrites
/// the approved files. The CLI (<c>taskisol</c>) is a program, not a library: it has no approved surface.
/// </summary>
public sealed class PublicApiTests
{
    private static bool Update => Environment.GetEnvironmentVariable("TASKISOL_UPDATE_API") == "1";

    /// <summary>The library assemblies, by the name after <c>TaskIsolation.</c>.</summary>
    public static TheoryData<string> Assemblies =>
    [
        "Machine", "Simulation", "Actors", "Reports", "Scenarios", "Exploration", "Soak", "Cluster", "Testing",
    ];

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void Public_api_is_approved(string name)
    {
        var assembly = Assembly.Load(new AssemblyName($"TaskIsolation.{name}"));
        var received = assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false })
            .ReplaceLineEndings("\n").TrimEnd('\n') + "\n";
        var dir = Path.Combine(GoldenOutputTests.RepoRoot, "tests", "api");
        var approvedPath = Path.Combine(dir, $"TaskIsolation.{name}.approved.txt");
        var receivedPath = Path.Combine(dir, $"TaskIsolation.{name}.received.txt");
        if (Update)
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(approvedPath, received);
            File.Delete(receivedPath);
            return;
        }

        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : null;
        if (approved == received)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, received);
        Assert.Fail(approved is null
            ? $"no approved public API for TaskIsolation.{name}: wrote {receivedPath}; review it and approve with TASKISOL_UPDATE_API=1"
            : $"the public API of TaskIsolation.{name} changed: compare {approvedPath} with {receivedPath} "
              + $"(first difference at line {FirstDifference(approved, received)}); approve a deliberate change with TASKISOL_UPDATE_API=1");
    }

    private static int FirstDifference(string a, string b)
    {
        var la = a.Split('\n');
        var lb = b.Split('\n');
        var i = 0;
        while (i < la.Length && i < lb.Length && la[i] == lb[i])
        {
            i++;
        }

        return i + 1;
    }
}
