using System.Text.Json;
using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>The Serilog compact JSON log of a real run.</summary>
public sealed class ClefLogWriterTests() : TestKit(SimulationConfig.Hocon)
{
    [Fact]
    public void Every_line_is_a_clef_event_with_the_boot_log_the_dmesg_lines_and_the_violation()
    {
        var m = ReportRuns.Shootdown(Sys, residual: ResidualTick.Offloaded);
        using var sw = new StringWriter();
        var log = new ClefLogWriter(sw);
        log.WriteBootLog(m.Booted.Log);
        RunObservers.Replay(m.Recorder.Events, m.Now, log);

        var lines = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(log.Written, lines.Length);
        var docs = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(docs, d =>
        {
            Assert.True(d.TryGetProperty("@t", out _));
            Assert.True(d.TryGetProperty("@mt", out _));
            Assert.True(d.TryGetProperty("TimeNs", out _));
        });

        Assert.Contains(docs, d => d.GetProperty("@mt").GetString() == "{Line}" && d.GetProperty("Source").GetString() == "boot"
                                   && d.GetProperty("Line").GetString()!.EndsWith("NO_HZ: Full dynticks CPUs: 1-3.", StringComparison.Ordinal));
        Assert.Contains(docs, d => d.TryGetProperty("Line", out var l) && l.GetString()!.EndsWith("task_isolation mode lost due to IPI function", StringComparison.Ordinal));

        var v = Assert.Single(docs, d => d.TryGetProperty("@l", out var l) && l.GetString() == "Error");
        Assert.Equal(3, v.GetProperty("Cpu").GetInt32());
        Assert.Equal("call_function_ipi", v.GetProperty("Kind").GetString());
        Assert.EndsWith("munmap", v.GetProperty("Links")[0].GetProperty("What").GetString(), StringComparison.Ordinal);
        var violation = m.Violations.Single();
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(violation.Time / 100), v.GetProperty("@t").GetDateTimeOffset());
    }
}
