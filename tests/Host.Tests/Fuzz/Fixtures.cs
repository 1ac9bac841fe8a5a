namespace TaskIsolation.Host.Tests.Fuzz;

/// <summary>Inputs the fuzz sources copy into their cases: a short racy scenario and a reproducer of its finding.</summary>
public static class Fixtures
{
    private static readonly Lazy<string> ReproducerText = new(MakeReproducer, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The example TLB race (2 ms simulated): cheap to run, explore and replay.</summary>
    public static string ScenarioPath { get; } = Path.Combine(Mutations.Root, "scenarios", "tlb-race.yaml");

    /// <summary>The JSON of a reproducer of the TLB race's finding, made once by <c>taskisol explore</c>.</summary>
    public static string Reproducer => ReproducerText.Value;

    /// <summary>Writes the scenario into <paramref name="dir"/> as <c>in.yaml</c> and returns its path.</summary>
    public static string WriteScenario(string dir)
    {
        var path = Path.Combine(dir, "in.yaml");
        File.Copy(ScenarioPath, path, overwrite: true);
        return path;
    }

    /// <summary>Writes the reproducer into <paramref name="dir"/> as <paramref name="name"/> and returns its path.</summary>
    public static string WriteReproducer(string dir, string name = "repro.json")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, Reproducer);
        return path;
    }

    private static string MakeReproducer()
    {
        var dir = Directory.CreateTempSubdirectory("taskisol-fuzz-repro-");
        try
        {
            var r = Taskisol.Run("explore", ScenarioPath, "--iterations", "50", "--until", "first", "--workers", "1", "--out", dir.FullName);
            var file = Path.Combine(dir.FullName, "finding-1.json");
            return r.Exit == 1 && File.Exists(file)
                ? File.ReadAllText(file)
                : throw new InvalidOperationException($"the fixture explore found nothing (exit {r.Exit}): {r.Err}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
