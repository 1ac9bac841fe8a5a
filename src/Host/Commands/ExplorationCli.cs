using System.Globalization;
using TaskIsolation.Exploration;
using TaskIsolation.Machine.Events;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Host.Commands;

/// <summary>What <c>explore</c>, <c>replay</c> and <c>minimize</c> share: reading reproducers, loaders, printing.</summary>
internal static class ExplorationCli
{
    /// <summary>Rebuilds the target a reproducer names: only scenarios come from the command line.</summary>
    public static IExplorationTarget Load(string kind, string text) => kind switch
    {
        ScenarioTarget.TargetKind => ScenarioTarget.Load(kind, text),
        _ => throw new FormatException($"target kind '{kind}' cannot be replayed by taskisol (expected '{ScenarioTarget.TargetKind}')"),
    };

    /// <summary>
    /// Reads and checks a reproducer file; any problem is bad input naming the file, and saying so when the reproducer
    /// was recorded with another model version (which explains most changes of format or scenario keys).
    /// </summary>
    public static (Reproducer Reproducer, IExplorationTarget Target) ReadReproducer(string path)
    {
        if (path.Length == 0)
        {
            throw new UsageException("reproducer: the path is empty, expected a reproducer JSON file");
        }

        if (Directory.Exists(path))
        {
            throw new UsageException($"{path}: is a directory, expected a reproducer JSON file");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"{path}: cannot read the reproducer: {ex.Message}", ex);
        }

        var json = Utf8Text.Decode(bytes, out var invalid)
            ?? throw new UsageException($"{path}: {invalid}; a reproducer is UTF-8 JSON");
        Reproducer reproducer;
        try
        {
            reproducer = Reproducer.Parse(json);
        }
        catch (FormatException ex)
        {
            var recorded = RecordedModel(json);
            var note = recorded is not null && ModelVersion.Mismatch(recorded) is { } m ? $" ({m})" : string.Empty;
            throw new UsageException($"{path}: {ex.Message}{note}", ex);
        }

        try
        {
            var target = Load(reproducer.Target.Kind, reproducer.Target.Text);

            // A perturbation that does not fit the embedded scenario is bad input too, found before anything runs.
            _ = Replayer.TargetOf(reproducer, Load);
            return (reproducer, target);
        }
        catch (FormatException ex)
        {
            var model = ModelVersion.Mismatch(reproducer.ModelVersion) is { } m ? $"{m}: " : string.Empty;
            throw new UsageException($"{path}: {model}{ex.Message}", ex);
        }
    }

    /// <summary>The model version a reproducer's JSON names, if it is JSON with one, however broken the rest.</summary>
    private static string? RecordedModel(string json)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && doc.RootElement.TryGetProperty("modelVersion", out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String
                ? v.GetString()
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Checks that <paramref name="dir"/> can hold <paramref name="command"/>'s output (creating it), before anything
    /// runs: see <see cref="OutputCheck.PrepareOwnedDirectory"/>; <paramref name="writes"/> says which names the command
    /// writes there. The command calls <see cref="OutputCheck.RecordOutputs"/> when it has written them.
    /// </summary>
    public static OwnedDirectory OutputDirectory(string dir, string option, IReadOnlyCollection<InputFile> inputs, Func<string, bool> writes, string command, bool force, bool accumulates = false) =>
        OutputCheck.PrepareOwnedDirectory(option, dir, inputs, writes, command, force, accumulates);

    /// <summary>Writes a reproducer atomically.</summary>
    public static void Save(string path, Reproducer reproducer) => AtomicFile.WriteText(path, w => w.Write(reproducer.ToJson()));

    /// <summary>A finding, its chain one link a line.</summary>
    public static void WriteFinding(TextWriter w, FindingInfo f, string indent = "  ")
    {
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{indent}{f.Kind} on cpu {f.Cpu}{(f.Interrupt is null ? string.Empty : $" ({f.Interrupt})")}, task {f.Task}, at {f.TimeNs} ns"));
        for (var i = 0; i < f.Chain.Length; i++)
        {
            w.WriteLine($"{indent}  {(i == 0 ? "  " : "→ ")}{f.Chain[i]}");
        }
    }

    /// <summary>A swarm perturbation: how many changes, then each, a line each (at most 8, then how many more).</summary>
    public static void WriteSwarm(TextWriter w, SwarmPerturbation swarm, string indent = "  ")
    {
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{indent}swarm: {swarm.Changes.Length} change{(swarm.Changes.Length == 1 ? string.Empty : "s")} to the scenario{(swarm.Changes.Length == 0 ? string.Empty : ":")}"));
        foreach (var c in swarm.Changes.Take(8))
        {
            w.WriteLine($"{indent}  {c}");
        }

        if (swarm.Changes.Length > 8)
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{indent}  … and {swarm.Changes.Length - 8} more (in the reproducer)"));
        }
    }

    /// <summary>The coverage table: a row per CPU state, a column per interrupt kind, counts of interrupts taken.</summary>
    public static void WriteCoverage(TextWriter w, CoverageMap coverage)
    {
        var kinds = CoverageMap.AllKinds;
        var names = kinds.Select(ScenarioNames.KindName).ToList();
        var widths = names.Select(n => Math.Max(n.Length, 5)).ToList();
        const int First = 14;
        w.Write("  " + "state".PadRight(First));
        for (var k = 0; k < kinds.Count; k++)
        {
            w.Write(' ');
            w.Write(names[k].PadLeft(widths[k]));
        }

        w.WriteLine();
        foreach (var s in CoverageMap.AllStates)
        {
            w.Write("  " + StateName(s).PadRight(First));
            for (var k = 0; k < kinds.Count; k++)
            {
                var c = coverage[s, kinds[k]];
                w.Write(' ');
                w.Write((c == 0 ? "-" : c.ToString(CultureInfo.InvariantCulture)).PadLeft(widths[k]));
            }

            w.WriteLine();
        }

        var reached = coverage.Reached;
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {reached} of {CoverageMap.AllStates.Count * kinds.Count} (state × interrupt) pairs reached"));
    }

    /// <summary>The state as the coverage table names it.</summary>
    public static string StateName(CpuState s) => s switch
    {
        CpuState.UserIsolated => "user-isolated",
        CpuState.ReturnEnter => "return-enter",
        CpuState.ReturnReady => "return-ready",
        CpuState.User => "user",
        CpuState.Kernel => "kernel",
        CpuState.Idle => "idle",
        _ => s.ToString(),
    };

    /// <summary>A file name for a scenario name.</summary>
    public static string Slug(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray();
        var s = new string(chars).Trim('-');
        return s.Length == 0 ? "scenario" : s;
    }

    /// <summary>A C# class name for a scenario name: <c>tlb-shootdown</c> → <c>TlbShootdownRegression</c>.</summary>
    public static string ClassName(string name)
    {
        var sb = new System.Text.StringBuilder();
        var upper = true;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                upper = true;
                continue;
            }

            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        if (sb.Length == 0 || char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, "Scenario");
        }

        return sb.Append("Regression").ToString();
    }
}
