using System.Text.Json;

namespace TaskIsolation.PeerBench.Tests;

/// <summary>The peer stage with a tiny iteration count: both tools run in one process and both find the TLB race.</summary>
public class PeerStageTests
{
    [Fact]
    public void Both_tools_find_the_tlb_race_and_the_table_has_a_row_for_each_and_their_ratio()
    {
        var dir = Directory.CreateTempSubdirectory("peer-");
        try
        {
            var path = Path.Combine(dir.FullName, "peer.json");
            using var output = new StringWriter();
            using var error = new StringWriter();

            var exit = PeerCli.Run(["--iterations", "16", "--seeds", "3", "--first-cap", "300", "--report", path], output, error);

            Assert.Equal(0, exit);
            var lines = output.ToString().Split('\n');
            Assert.Single(lines, l => l.StartsWith("taskisol explore (portfolio)", StringComparison.Ordinal));
            Assert.Single(lines, l => l.StartsWith("Coyote 1.7.11 TestingEngine", StringComparison.Ordinal));
            Assert.Single(lines, l => l.StartsWith("ratio taskisol / Coyote", StringComparison.Ordinal));
            Assert.Equal(["peer.json"], dir.GetFiles().Select(f => f.Name));

            using var json = JsonDocument.Parse(File.ReadAllText(path));
            foreach (var tool in new[] { "taskisol", "coyote" })
            {
                var t = json.RootElement.GetProperty(tool);
                Assert.Equal(16, t.GetProperty("schedules").GetInt64());
                Assert.True(t.GetProperty("schedulesPerSecond").GetDouble() > 0, tool);

                // Every seed's run found the race within the cap: the counts are deterministic for a seed.
                var toFirst = t.GetProperty("schedulesToFirstFinding").EnumerateArray().ToList();
                Assert.Equal(3, toFirst.Count);
                Assert.All(toFirst, s => Assert.InRange(s.GetInt64(), 1, 300));
            }

            Assert.True(json.RootElement.GetProperty("ratioSchedulesPerSecond").GetDouble() > 0);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_coyote_model_finds_the_violation_as_the_assertion_of_cpu_3()
    {
        var report = PeerRun.Run(new PeerSettings(Iterations: 8, Seeds: 1, FirstCap: 100), TextWriter.Null);

        Assert.Equal(1, report.Coyote.SeedsFound);
        Assert.Equal(1, report.Ours.SeedsFound);
        Assert.True(report.Coyote.MedianToFirst >= 1);
    }

    [Theory]
    [InlineData("--iterations", "0", "taskisol-peerbench: --iterations '0' is not a positive whole number\n")]
    [InlineData("--seeds", "x", "taskisol-peerbench: --seeds 'x' is not a positive whole number\n")]
    [InlineData("--bogus", "1", "taskisol-peerbench: unknown argument '--bogus' (expected --iterations, --seeds, --first-cap or --report)\n")]
    [InlineData("--report", "/nonexistent-dir/p.json", "taskisol-peerbench: --report '/nonexistent-dir/p.json': directory '/nonexistent-dir' does not exist\n")]
    public void Bad_input_gets_one_line_and_exit_code_2(string name, string value, string expected)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = PeerCli.Run([name, value], output, error);

        Assert.Equal(2, exit);
        Assert.Equal(expected, error.ToString());
        Assert.Empty(output.ToString());
    }
}
