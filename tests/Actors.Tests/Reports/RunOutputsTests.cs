using System.Text.Json;
using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>All of a run's outputs at once, as <c>taskisol run</c> writes them.</summary>
public sealed class RunOutputsTests() : TestKit(SimulationConfig.Hocon), IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-outputs-").FullName;

    void IDisposable.Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        Dispose();
    }

    [Fact]
    public void Writes_every_output_and_the_summary_for_a_person()
    {
        var m = ReportRuns.Shootdown(Sys, residual: ResidualTick.Offloaded);
        var run = new FinishedRun(new RunInfo("shootdown", 7, "controlled", m.Now, 5), m.Recorder.Events, 4, m.Options.Timings, m.Booted.Log, [("no violation on cpu 3", false)]);
        var paths = new OutputPaths(P("r.json"), P("t.json"), P("f.txt"), P("l.clef"));
        RunOutputs.CheckPaths(paths);
        var report = RunOutputs.Report(run);
        RunOutputs.Write(paths, run, report);

        Assert.Equal(report, RunReportJson.Deserialize(File.ReadAllText(P("r.json"))), new ReportComparer());
        using (JsonDocument.Parse(File.ReadAllBytes(P("t.json"))))
        {
        }

        Assert.StartsWith("# tracer: nop\n", File.ReadAllText(P("f.txt")), StringComparison.Ordinal);
        Assert.All(File.ReadAllLines(P("l.clef")), l => JsonDocument.Parse(l).Dispose());
        Assert.Equal(4, Directory.GetFiles(_dir).Length);

        var text = ReportText.Summary(report);
        Assert.Contains("NO_HZ: Full dynticks CPUs: 1-3.", text, StringComparison.Ordinal);
        Assert.Contains("Operating System Noise", text, StringComparison.Ordinal);
        Assert.Contains("VIOLATION [    0.", text, StringComparison.Ordinal);
        Assert.Contains("FAILED  no violation on cpu 3", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_paths_are_refused_before_anything_is_written()
    {
        var missing = Path.Combine(_dir, "nope", "r.json");
        var ex = Assert.Throws<OutputFileException>(() => RunOutputs.CheckPaths(new OutputPaths(Report: missing)));
        Assert.Equal($"--report '{missing}': directory '{Path.Combine(_dir, "nope")}' does not exist", ex.Message);
        Assert.Throws<OutputFileException>(() => RunOutputs.CheckPaths(new OutputPaths(Trace: _dir)));
        var same = Assert.Throws<OutputFileException>(() => RunOutputs.CheckPaths(new OutputPaths(Report: P("x"), Log: P("x"))));
        Assert.Contains("the same file as --report", same.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    private string P(string name) => Path.Combine(_dir, name);

    private sealed class ReportComparer : IEqualityComparer<RunReport>
    {
        public bool Equals(RunReport? x, RunReport? y) => RunReportJson.Serialize(x!) == RunReportJson.Serialize(y!);

        public int GetHashCode(RunReport obj) => 0;
    }
}
