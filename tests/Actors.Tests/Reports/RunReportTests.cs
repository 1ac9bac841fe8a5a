using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.TestKit.Xunit2;
using Json.Schema;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>The JSON report of a real run, against docs/report.schema.json.</summary>
public sealed class RunReportTests() : TestKit(SimulationConfig.Hocon)
{
    private static readonly JsonSchema Schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "report.schema.json")));

    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_real_report_validates_against_the_schema_and_reads_back(ExecutionMode mode)
    {
        var report = Build(mode);
        var json = RunReportJson.Serialize(report);

        var result = Schema.Evaluate(JsonNode.Parse(json), new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, Errors(result));

        var back = RunReportJson.Deserialize(json);
        Assert.Equal(json, RunReportJson.Serialize(back));

        // The fields a reader looks for, with the run's facts.
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(mode.ToString().ToLowerInvariant(), root.GetProperty("mode").GetString());
        Assert.Equal(4, root.GetProperty("cpus").GetArrayLength());
        var v = root.GetProperty("violations")[0];
        Assert.Equal("call_function_ipi", v.GetProperty("kind").GetString());
        Assert.Equal(3, v.GetProperty("cpu").GetInt32());
        Assert.EndsWith("munmap", v.GetProperty("chain")[0].GetProperty("what").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, v.GetProperty("chain").EnumerateArray().Last().GetProperty("cpu").GetInt32());
        Assert.Contains(root.GetProperty("exits").EnumerateArray(), x => x.GetProperty("task").GetString()!.StartsWith("iso/", StringComparison.Ordinal) && x.GetProperty("signal").GetInt32() == 9);
        Assert.Contains(root.GetProperty("prctl").EnumerateArray(), p => p.GetProperty("option").GetInt32() == 48 && p.GetProperty("result").GetInt64() == 0);
        Assert.Contains(root.GetProperty("log").EnumerateArray(), l => l.GetProperty("line").GetString()!.EndsWith("NO_HZ: Full dynticks CPUs: 1-3.", StringComparison.Ordinal));
        Assert.True(root.GetProperty("expectations")[0].GetProperty("held").GetBoolean());
        Assert.False(root.GetProperty("expectations")[1].GetProperty("held").GetBoolean());
    }

    [Fact]
    public void The_schema_rejects_a_report_missing_a_field_or_with_an_unknown_one()
    {
        var json = JsonNode.Parse(RunReportJson.Serialize(Build(ExecutionMode.Controlled)))!.AsObject();
        var missing = json.DeepClone().AsObject();
        missing.Remove("cpus");
        Assert.False(Schema.Evaluate(missing).IsValid);

        var unknown = json.DeepClone().AsObject();
        unknown["cpu_noise"] = 1;
        Assert.False(Schema.Evaluate(unknown).IsValid);

        var badChain = json.DeepClone().AsObject();
        badChain["violations"]![0]!["chain"] = new JsonArray();
        Assert.False(Schema.Evaluate(badChain).IsValid);
    }

    private RunReport Build(ExecutionMode mode)
    {
        var m = ReportRuns.Shootdown(Sys, mode, residual: ResidualTick.Offloaded);
        var (noise, collector) = ReportRuns.Account(m);
        var info = new RunInfo("shootdown", 7, mode.ToString().ToLowerInvariant(), m.Now, 12);
        return collector.Build(info, m.Booted.Log, noise, [("no violation on cpu 2", true), ("no violation on cpu 3", false)]);
    }

    private static string Errors(EvaluationResults r) =>
        string.Join("\n", (r.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")));
}
