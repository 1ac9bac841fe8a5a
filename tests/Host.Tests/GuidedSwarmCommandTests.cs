using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol explore --strategy guided</c> and <c>explore --swarm</c>: findings, reproducers, minimize, bad options.</summary>
public sealed partial class GuidedSwarmCommandTests : IDisposable
{
    private static readonly string Race = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scenarios", "tlb-race.yaml"));

    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-guided-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Guided_finds_the_race_the_same_with_one_or_two_workers_and_its_reproducer_replays()
    {
        var scenario = Write("race.yaml", Race);
        var outDir = Path.Combine(_dir, "out");

        var one = Taskisol.Run("explore", scenario, "--strategy", "guided", "--iterations", "120", "--workers", "1", "--seed", "3", "--out", outDir);
        var two = Taskisol.Run("explore", scenario, "--strategy", "guided", "--iterations", "120", "--workers", "2", "--seed", "3");

        Assert.Equal(1, one.Exit);
        Assert.Equal(1, two.Exit);

        // Every schedule is a function of the campaign seed and the generations before it: the findings, their counts
        // and their first schedules are the same whatever the workers.
        Assert.Equal(Findings(one.Out), Findings(two.Out));
        Assert.DoesNotContain("PCT", one.Out, StringComparison.Ordinal);
        var repro = Path.Combine(outDir, "finding-1.json");
        var replay = Taskisol.Run("replay", repro, "--check");
        Assert.True(replay.Exit == 0, replay.Out + replay.Err);
        Assert.Contains("byte-identical", replay.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Swarm_finds_the_race_records_its_perturbation_and_replays_it()
    {
        var scenario = Write("race.yaml", Race);
        var outDir = Path.Combine(_dir, "out");

        var r = Taskisol.Run("explore", scenario, "--swarm", "--swarm-timing-factor", "3", "--iterations", "60", "--workers", "2", "--seed", "1", "--out", outDir);

        Assert.Equal(1, r.Exit);
        Assert.Contains("swarm: timings within ×3, IRQ rates within ×2, noise on or off", r.Out, StringComparison.Ordinal);
        Assert.Contains("  swarm: ", r.Out, StringComparison.Ordinal);
        var repro = Path.Combine(outDir, "finding-1.json");
        var json = JsonNode.Parse(File.ReadAllText(repro))!;
        Assert.Equal("taskisol-reproducer/2", (string?)json["format"]);
        var changes = json["swarm"]!["changes"]!.AsArray();
        Assert.NotEmpty(changes);
        Assert.All(changes, c => Assert.Equal("timing", (string?)c!["kind"]));
        Assert.Equal(3.0, (double)json["swarm"]!["timingFactor"]!);

        var replay = Taskisol.Run("replay", repro, "--check");
        Assert.True(replay.Exit == 0, replay.Out + replay.Err);

        // Without its perturbation the recorded decisions do not fit the run: the perturbation is what replays.
        json["swarm"]!["changes"] = new JsonArray();
        var stripped = Write("stripped.json", json.ToJsonString());
        Assert.NotEqual(0, Taskisol.Run("replay", stripped).Exit);

    }

    [Fact]
    public void Minimize_drops_the_swarm_changes_a_finding_does_not_need()
    {
        // R9 fails in every schedule: none of a swarm schedule's changes is needed, and minimize drops them.
        var outDir = Path.Combine(_dir, "out");
        Assert.Equal(1, Taskisol.Run("explore", "r09-tlb-shootdown", "--swarm", "--iterations", "2", "--workers", "1", "--out", outDir).Exit);
        var repro = Path.Combine(outDir, "finding-1.json");
        var recorded = JsonNode.Parse(File.ReadAllText(repro))!["swarm"]!["changes"]!.AsArray().Count;
        Assert.True(recorded > 0);

        var min = Taskisol.Run("minimize", repro, "--out", Path.Combine(_dir, "min"), "--max-runs", "60");

        Assert.True(min.Exit == 0, min.Out + min.Err);
        var line = SwarmLine().Match(min.Out);
        Assert.True(line.Success, min.Out);
        Assert.Equal(recorded, int.Parse(line.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(int.Parse(line.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) < recorded, min.Out);
        var minimized = Path.Combine(_dir, "min", "r09-tlb-shootdown.min.json");
        Assert.Equal("taskisol-reproducer/1", (string?)JsonNode.Parse(File.ReadAllText(minimized))!["format"]);
        Assert.Equal(0, Taskisol.Run("replay", minimized).Exit);
    }

    [Fact]
    public void A_reproducer_of_format_1_with_a_swarm_field_and_one_whose_perturbation_does_not_fit_are_bad_input()
    {
        var scenario = Write("race.yaml", Race);
        var outDir = Path.Combine(_dir, "out");
        Assert.Equal(1, Taskisol.Run("explore", scenario, "--swarm", "--iterations", "60", "--workers", "1", "--out", outDir).Exit);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "finding-1.json")))!;

        json["format"] = "taskisol-reproducer/1";
        var r = Taskisol.Run("replay", Write("v1.json", json.ToJsonString()));
        Assert.Equal(2, r.Exit);
        Assert.Contains("has no swarm perturbation", r.Err, StringComparison.Ordinal);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));

        json["format"] = "taskisol-reproducer/2";
        json["swarm"]!["changes"] = new JsonArray(new JsonObject { ["kind"] = "timing", ["where"] = "tasks[9].program[0]", ["ns"] = 5 });
        r = Taskisol.Run("replay", Write("misfit.json", json.ToJsonString()));
        Assert.Equal(2, r.Exit);
        Assert.Contains("swarm change 'timing tasks[9].program[0] = 5 ns' names no timing value", r.Err, StringComparison.Ordinal);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData(new[] { "--swarm-timing-factor", "3" }, "--swarm-timing-factor needs --swarm")]
    [InlineData(new[] { "--swarm-keep-noise" }, "--swarm-keep-noise needs --swarm")]
    [InlineData(new[] { "--swarm", "--swarm-timing-factor", "0.5" }, "--swarm-timing-factor: found '0.5', expected a number from 1 to 100")]
    [InlineData(new[] { "--swarm", "--swarm-irq-factor", "fast" }, "--swarm-irq-factor: found 'fast', expected a number from 1 to 100")]
    [InlineData(new[] { "--swarm", "--swarm-irq-factor", "NaN" }, "--swarm-irq-factor: found 'NaN', expected a number from 1 to 100")]
    [InlineData(new[] { "--swarm", "--strategy", "exhaustive" }, "--swarm is not supported with --strategy exhaustive")]
    [InlineData(new[] { "--strategy", "guided", "--cluster" }, "--strategy guided runs on one node")]
    public void Bad_guided_and_swarm_options_exit_2_with_one_line(string[] options, string message)
    {
        var scenario = Write("race.yaml", Race);

        var r = Taskisol.Run(["explore", scenario, .. options]);

        Assert.Equal(2, r.Exit);
        Assert.Contains(message, r.Err, StringComparison.Ordinal);
        Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        Assert.Equal(string.Empty, r.Out);
    }

    private static string Findings(string output) =>
        string.Join('\n', output.Split('\n').Where(l => l.StartsWith("finding ", StringComparison.Ordinal) || l.Contains("; first: schedule", StringComparison.Ordinal) || l.StartsWith("schedules: ", StringComparison.Ordinal)).Select(l => Regex.Replace(l, " in [0-9.]+ s \\([0-9]+ schedules/s\\)", string.Empty)));

    [GeneratedRegex("swarm: ([0-9]+) → ([0-9]+) changes")]
    private static partial Regex SwarmLine();
}
