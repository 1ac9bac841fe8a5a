using System.Collections.Immutable;

namespace TaskIsolation.Scenarios;

/// <summary>A scenario that ships inside the program: its name and one line on what it shows.</summary>
/// <param name="Name">What <c>taskisol run NAME</c> takes.</param>
/// <param name="Summary">One line for <c>taskisol scenarios</c>.</param>
public sealed record BuiltInScenario(string Name, string Summary);

/// <summary>
/// The scenarios embedded in the assembly (src/Actors/Scenarios/BuiltIn/*.yaml). <c>default</c> is what
/// <c>taskisol run</c> runs with no file.
/// </summary>
public static class BuiltInScenarios
{
    /// <summary>The name of the scenario <c>taskisol run</c> runs by default.</summary>
    public const string DefaultName = "default";

    private const string Prefix = "Scenarios/BuiltIn/";

    /// <summary>Every built-in scenario, by name, default first.</summary>
    public static ImmutableArray<BuiltInScenario> All { get; } = [.. ListAll()];

    /// <summary>Whether a built-in scenario has this name.</summary>
    public static bool Contains(string name) => All.Any(s => s.Name == name);

    /// <summary>The YAML text of the built-in scenario <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No built-in scenario has that name.</exception>
    public static string Text(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var stream = typeof(BuiltInScenarios).Assembly.GetManifestResourceStream(Prefix + name + ".yaml")
            ?? throw new KeyNotFoundException($"no built-in scenario '{name}' (built-in: {string.Join(", ", All.Select(s => s.Name))})");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The built-in scenario <paramref name="name"/>, loaded and validated (errors name <c>builtin:NAME</c>).</summary>
    /// <exception cref="KeyNotFoundException">No built-in scenario has that name.</exception>
    public static Scenario Load(string name) => ScenarioLoader.Load(Text(name), $"builtin:{name}", name);

    private static IEnumerable<BuiltInScenario> ListAll()
    {
        var names = typeof(BuiltInScenarios).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..^".yaml".Length])
            .OrderBy(n => n == DefaultName ? 0 : 1)
            .ThenBy(n => n, StringComparer.Ordinal);
        foreach (var name in names)
        {
            yield return new BuiltInScenario(name, Summary(Text(name)));
        }
    }

    /// <summary>The first line of the description, read without a full load (listing must not fail on one file).</summary>
    private static string Summary(string yaml)
    {
        try
        {
            var s = ScenarioLoader.Load(yaml, "builtin");
            return s.Description.Split('\n', 2)[0].Trim();
        }
        catch (ScenarioException ex)
        {
            return "(invalid: " + ex.Errors[0].Message + ")";
        }
    }
}
