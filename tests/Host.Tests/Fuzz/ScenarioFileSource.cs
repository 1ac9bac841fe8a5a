namespace TaskIsolation.Host.Tests.Fuzz;

/// <summary>
/// Mutated scenario files (the examples and the built-in scenarios, mutated as text and sometimes as bytes) through
/// <c>run</c>, and now and then <c>soak</c> and <c>explore</c>. A file that is not UTF-8 must be refused, naming the
/// byte.
/// </summary>
public sealed class ScenarioFileSource : IFuzzSource
{
    private static readonly string[] Durations = ["500us", "1ms", "2ms"];

    public string Name => "scenario files";

    public int NormalCount => 150;

    public FuzzCase? Make(int index, Random random, string dir, out string? skipped)
    {
        ArgumentNullException.ThrowIfNull(random);
        skipped = null;
        var text = Mutations.MutateText(random.Pick(Mutations.ScenarioSeeds), random);
        var bytes = Mutations.ToBytes(text, random, out var utf8);
        var file = Path.Combine(dir, "case.yaml");
        File.WriteAllBytes(file, bytes);
        var report = Path.Combine(dir, "report.json");
        var soakDir = Path.Combine(dir, "soak");
        var outDir = Path.Combine(dir, "found");
        string[] args = random.Next(10) switch
        {
            0 => ["soak", file, "--for", random.Pick(Durations), "--snapshot-every", "1ms", "--out", soakDir],
            1 => ["explore", file, "--iterations", "2", "--workers", "1", "--max-steps", "20000", "--out", outDir],
            _ => ["run", file, "--quiet", "--duration", random.Pick(Durations), .. random.Next(3) == 0 ? new[] { "--report", report } : [], .. random.Next(8) == 0 ? new[] { "--mode", "concurrent" } : []],
        };
        return new FuzzCase(args)
        {
            What = utf8 ? "mutated scenario" : "mutated scenario, not UTF-8",
            Inputs = [file],
            Outputs = [report, soakDir, outDir],
            Names = [file],
            Check = o => utf8 || (o.Exit == 2 && o.Err.Contains("byte", StringComparison.Ordinal))
                ? null
                : "a file that is not UTF-8 was not refused naming the invalid byte",
        };
    }
}
