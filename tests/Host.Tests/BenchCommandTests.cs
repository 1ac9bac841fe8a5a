using System.Text.Json;

namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol bench</c>: one quick run (the bench is slow by nature), and its input checks.</summary>
public class BenchCommandTests
{
    [Fact]
    public void Bench_quick_prints_the_table_and_writes_every_figure_as_json_atomically()
    {
        var dir = Directory.CreateTempSubdirectory("bench-");
        try
        {
            var path = Path.Combine(dir.FullName, "b.json");
            var r = Taskisol.Run("bench", "--quick", "--report", path);

            Assert.Equal(0, r.Exit);
            Assert.Contains("Raw Akka, single-threaded", r.Out, StringComparison.Ordinal);
            Assert.Contains("Time compression, default scenario, controlled", r.Out, StringComparison.Ordinal);
            Assert.Contains("bench: 128 CPUs + 1,250 tasks", r.Err, StringComparison.Ordinal);
            Assert.Equal(["b.json"], dir.GetFiles().Select(f => f.Name));

            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var figures = json.RootElement.GetProperty("figures").EnumerateArray()
                .ToDictionary(f => f.GetProperty("id").GetString()!, f => f.GetProperty("value").GetDouble());
            foreach (var id in new[]
            {
                "raw.controlled", "raw.concurrent.1pair", "model.controlled", "model.concurrent", "model.concurrent.ratio",
                "compression.default.controlled", "compression.default.concurrent", "compression.64cpu.controlled",
                "compression.4cpu-busy.controlled", "explore.schedules-per-s", "scale.boot", "scale.compression", "scale.heap",
                "scale.peak", "peak.process", "scale.first-ms.deliveries", "scale.first-ms.wall", "scale.deliveries-per-sim-s",
                "scale.compression.after-first-tick", "explore.us-per-schedule", "explore.boot-share", "explore.run-share",
            })
            {
                Assert.True(figures.TryGetValue(id, out var v) && v > 0 && double.IsFinite(v), $"figure {id} missing or not positive");
            }

            // The floor under the model's rules is a lower bound: never above what the same run delivered, and lower still
            // with the periodic ticks left out; its two parts make it.
            foreach (var machine in new[] { "default", "64cpu", "scale" })
            {
                var floor = figures[$"{machine}.floor"];
                Assert.InRange(floor, 1, figures[$"{machine}.floor.deliveries"]);
                Assert.InRange(figures[$"{machine}.floor.closed-form-ticks"], 1, floor);
                Assert.Equal(floor, figures[$"{machine}.floor.cpu-instants"] + figures[$"{machine}.floor.operations"], 6);
            }

            // The default scenario's CPU 0 is idle between its logger's writes every 10 ms, and an idle CPU stops its
            // tick: far fewer than HZ=1000 timer interrupts per second; CPU 3 has stopped its tick for good.
            var irqs = json.RootElement.GetProperty("deliveriesPerSimulatedSecondByType").GetProperty("Irq").GetDouble();
            Assert.InRange(irqs, 20, 500);
            Assert.True(json.RootElement.GetProperty("quick").GetBoolean());

            // Where a schedule's wall time went: four phases that make the whole of it.
            var shares = new[] { "boot", "run", "teardown", "between" }.Sum(p => figures[$"explore.{p}-share"]);
            Assert.InRange(shares, 0.999, 1.001);

            // The scaling curve (quick: 4, 16 and 64 CPUs). Deliveries per simulated second are exact (fixed windows), so
            // this is deterministic: per CPU, the machines stay within a factor of three of each other (4 CPUs pay most:
            // one housekeeping CPU in four).
            var curve = json.RootElement.GetProperty("scaling").EnumerateArray().ToList();
            Assert.Equal([4, 16, 64], curve.Select(p => p.GetProperty("cpus").GetInt32()));
            Assert.All(curve, p => Assert.True(p.GetProperty("compression").GetDouble() > 0));
            var perCpu = curve.Select(p => p.GetProperty("deliveriesPerSimulatedSecondPerCpu").GetDouble()).ToList();
            Assert.All(perCpu, v => Assert.InRange(v, perCpu.Min(), perCpu.Min() * 3));
            Assert.Contains("Scaling curve", r.Out, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_json_file_in_a_missing_directory_is_refused_before_measuring()
    {
        var r = Taskisol.Run("bench", "--quick", "--report", "/nonexistent-dir/b.json");

        Assert.Equal(2, r.Exit);
        Assert.Equal("taskisol bench: --report '/nonexistent-dir/b.json': directory '/nonexistent-dir' does not exist\n", r.Err);
    }
}
