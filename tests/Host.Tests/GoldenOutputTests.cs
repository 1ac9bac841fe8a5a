using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace TaskIsolation.Host.Tests;

/// <summary>
/// The contract of the model's outputs: for every built-in and example scenario and seeds 1–3 (controlled mode), the
/// person's text, the JSON report, the ftrace text and the kernel log of <c>taskisol run</c> are byte for byte the
/// files under <c>tests/golden/run</c> (the Perfetto trace by its SHA-256), and an exploration campaign on the TLB race
/// prints the summary and reproducer under <c>tests/golden/explore</c>. Only wall-clock figures are masked.
/// </summary>
/// <remarks>
/// A change that alters an output on purpose regenerates the goldens with <c>TASKISOL_UPDATE_GOLDENS=1 dotnet test
/// --filter GoldenOutputTests</c> and commits them on their own, the commit message saying which rule changed which
/// outputs. Everything else must leave them as they are.
/// </remarks>
public sealed partial class GoldenOutputTests : IDisposable
{
    private static readonly int[] Seeds = [1, 2, 3];

    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-golden-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Whether this run rewrites the goldens instead of comparing with them.</summary>
    private static bool Update => Environment.GetEnvironmentVariable("TASKISOL_UPDATE_GOLDENS") == "1";

    /// <summary>The repository's root: the folder above the test binaries that holds the solution.</summary>
    internal static string RepoRoot
    {
        get
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

    private static string GoldenRoot => Path.Combine(RepoRoot, "tests", "golden");

    /// <summary>Every scenario the goldens cover: the built-ins as <c>taskisol scenarios</c> lists them, then the examples.</summary>
    public static IEnumerable<string> Scenarios()
    {
        var list = Taskisol.Run("scenarios");
        if (list.Exit != 0)
        {
            throw new InvalidOperationException($"taskisol scenarios failed: {list.Err}");
        }

        foreach (var line in list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            yield return line.Split(' ', 2)[0];
        }

        foreach (var file in Directory.GetFiles(Path.Combine(RepoRoot, "scenarios"), "*.yaml").Order(StringComparer.Ordinal))
        {
            yield return "scenarios/" + Path.GetFileName(file);
        }
    }

    public static TheoryData<string, int> Runs()
    {
        var data = new TheoryData<string, int>();
        foreach (var scenario in Scenarios())
        {
            foreach (var seed in Seeds)
            {
                data.Add(scenario, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Run_outputs_are_the_goldens(string scenario, int seed)
    {
        var input = scenario.StartsWith("scenarios/", StringComparison.Ordinal) ? Path.Combine(RepoRoot, scenario) : scenario;
        var r = Taskisol.Run(
            "run", input, "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--report", P("report.json"), "--ftrace", P("ftrace.txt"), "--log", P("log.clef"), "--trace", P("trace.json"));
        Assert.True(r.Exit is 0 or 1, $"exit {r.Exit}: {r.Err}");
        Assert.Equal(string.Empty, r.Err);

        var golden = Path.Combine(GoldenRoot, "run", GoldenName(scenario), $"seed-{seed}");
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["exit.txt"] = $"{r.Exit}\n",
            ["stdout.txt"] = MaskRunText(r.Out.Replace(RepoRoot, "<repo>", StringComparison.Ordinal)),
            ["report.json"] = WallMs().Replace(File.ReadAllText(P("report.json")), "\"wall_ms\": 0"),
            ["ftrace.txt"] = File.ReadAllText(P("ftrace.txt")),
            ["log.clef"] = File.ReadAllText(P("log.clef")),
            ["trace.sha256"] = Sha256(P("trace.json")) + "\n",
        };
        Compare(golden, outputs);
    }

    [Fact]
    public void Explore_campaign_on_the_tlb_race_is_the_golden()
    {
        var outDir = P("findings");
        var r = Taskisol.Run(
            "explore", Path.Combine(RepoRoot, "scenarios", "tlb-race.yaml"), "--iterations", "200", "--seed", "1",
            "--workers", "1", "--out", outDir);
        Assert.Equal(1, r.Exit);
        Assert.Equal(string.Empty, r.Err);

        var outputs = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["exit.txt"] = $"{r.Exit}\n",
            ["stdout.txt"] = MaskExploreText(r.Out.Replace(outDir, "<out>", StringComparison.Ordinal).Replace(RepoRoot, "<repo>", StringComparison.Ordinal)),
        };
        // The reproducers; the directory's manifest (docs/reports.md, "Output directories") is tested on its own.
        foreach (var file in Directory.GetFiles(outDir).Where(f => Path.GetFileName(f) != Reports.OutputCheck.ManifestFile).Order(StringComparer.Ordinal))
        {
            outputs[Path.GetFileName(file)] = File.ReadAllText(file);
        }

        Compare(Path.Combine(GoldenRoot, "explore", "tlb-race"), outputs);
    }

    [Fact]
    public void Every_golden_folder_belongs_to_a_scenario()
    {
        var expected = Scenarios().Select(GoldenName).ToHashSet(StringComparer.Ordinal);
        var present = Directory.GetDirectories(Path.Combine(GoldenRoot, "run")).Select(Path.GetFileName).OfType<string>();
        Assert.All(present, p => Assert.True(expected.Contains(p), $"tests/golden/run/{p} belongs to no scenario"));
    }

    /// <summary>The folder of a scenario's goldens: its built-in name, or <c>file-NAME</c> for an example file.</summary>
    private static string GoldenName(string scenario) =>
        scenario.StartsWith("scenarios/", StringComparison.Ordinal) ? "file-" + Path.GetFileNameWithoutExtension(scenario) : scenario;

    private static string MaskRunText(string text) => RunWall().Replace(text, " simulated in <wall> s");

    private static string MaskExploreText(string text)
    {
        // The progress line comes once per wall-clock second while the campaign runs, so how many there are depends on
        // the machine's load: only the summary after them is the contract.
        text = string.Join('\n', text.Split('\n').Where(l => !ProgressLine().IsMatch(l)));
        text = Rate().Replace(text, "<rate> schedules/s");
        return ExploreWall().Replace(text, " in <wall> s");
    }

    private static void Compare(string goldenDir, Dictionary<string, string> outputs)
    {
        if (Update)
        {
            if (Directory.Exists(goldenDir))
            {
                Directory.Delete(goldenDir, recursive: true);
            }

            Directory.CreateDirectory(goldenDir);
            foreach (var (name, text) in outputs)
            {
                File.WriteAllText(Path.Combine(goldenDir, name), text, new UTF8Encoding(false));
            }

            return;
        }

        Assert.True(Directory.Exists(goldenDir), $"no goldens at {goldenDir}: record them with TASKISOL_UPDATE_GOLDENS=1");
        var files = Directory.GetFiles(goldenDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(files, outputs.Keys.Order(StringComparer.Ordinal).ToArray());
        foreach (var (name, actual) in outputs)
        {
            var expected = File.ReadAllText(Path.Combine(goldenDir, name));
            if (!string.Equals(expected, actual, StringComparison.Ordinal))
            {
                Assert.Fail($"{Path.GetRelativePath(RepoRoot, Path.Combine(goldenDir, name))}: {FirstDifference(expected, actual)}");
            }
        }
    }

    /// <summary>The first line where two texts differ, both sides shown.</summary>
    internal static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var el = i < e.Length ? e[i] : "<end of file>";
            var al = i < a.Length ? a[i] : "<end of file>";
            if (!string.Equals(el, al, StringComparison.Ordinal))
            {
                return $"first difference at line {i + 1} ({e.Length} lines expected, {a.Length} actual)\n  golden: {el}\n  actual: {al}";
            }
        }

        return "texts differ";
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private string P(string name) => Path.Combine(_dir, name);

    [GeneratedRegex("\"wall_ms\": [0-9]+")]
    private static partial Regex WallMs();

    [GeneratedRegex(" simulated in [0-9.]+ s")]
    private static partial Regex RunWall();

    [GeneratedRegex("[0-9]+ schedules/s")]
    private static partial Regex Rate();

    [GeneratedRegex("^  [0-9]+/[0-9]+ schedules  ")]
    private static partial Regex ProgressLine();

    [GeneratedRegex(" in [0-9.]+ s")]
    private static partial Regex ExploreWall();
}
