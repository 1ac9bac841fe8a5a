using System.Runtime.CompilerServices;
using TaskIsolation.Scenarios;
using MachineArch = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Testing;

/// <summary>
/// Where a test's scenario comes from: a scenario file, a built-in by name, YAML text, or a machine built in code
/// (<see cref="Machine"/>). Every way gives the same validated, immutable <see cref="Scenario"/> that
/// <c>taskisol run</c> would load (docs/scenarios.md).
/// </summary>
public static class IsolationScenario
{
    /// <summary>Loads and validates the scenario file at <paramref name="path"/>.</summary>
    /// <exception cref="ScenarioException">The file cannot be read or the scenario is invalid (every problem with its line).</exception>
    public static Scenario FromFile(string path) => ScenarioLoader.LoadFile(path);

    /// <summary>
    /// Loads the scenario file <paramref name="fileName"/> that ships beside the calling test: first from the directory of
    /// the test's source file (as the compiler recorded it), then from the test's output directory
    /// (<see cref="AppContext.BaseDirectory"/>, where <c>CopyToOutputDirectory</c> puts it).
    /// </summary>
    /// <param name="fileName">The file's name (or a path relative to those directories).</param>
    /// <param name="sourceFile">Filled in by the compiler: the calling source file.</param>
    /// <exception cref="FileNotFoundException">In neither place (both are named).</exception>
    /// <exception cref="ScenarioException">The scenario is invalid.</exception>
    public static Scenario FromFileBeside(string fileName, [CallerFilePath] string sourceFile = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        var places = new List<string>();
        if (Path.GetDirectoryName(sourceFile) is { Length: > 0 } sourceDir)
        {
            places.Add(Path.Combine(sourceDir, fileName));
        }

        places.Add(Path.Combine(AppContext.BaseDirectory, fileName));
        var found = places.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"{fileName}: not found beside the test source nor in the test output directory (looked for {string.Join(" and ", places)}); keep the scenario file beside the test, or copy it to the output directory", fileName);
        return ScenarioLoader.LoadFile(found);
    }

    /// <summary>
    /// <paramref name="scenario"/> with a mitigation on: a model switch of the scenario format set as <c>KEY[=VALUE]</c>
    /// (<see cref="Mitigation"/>: <c>deferred_tlb_flush</c>, <c>variant=v16</c>, <c>bounded_wait=10ms</c> …),
    /// validated as a scenario file with it would be.
    /// </summary>
    /// <exception cref="FormatException">An unknown switch or a bad value, a value the scenario already has, or a scenario invalid with it.</exception>
    public static Scenario WithMitigation(Scenario scenario, string mitigation)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(mitigation);
        return Mitigation.Parse(mitigation).ApplyTo(scenario);
    }

    /// <summary>The built-in scenario <paramref name="name"/> (<c>taskisol scenarios</c> lists them; the race library is <c>rNN-*</c>).</summary>
    /// <exception cref="KeyNotFoundException">No built-in scenario has that name.</exception>
    public static Scenario BuiltIn(string name) => BuiltInScenarios.Load(name);

    /// <summary>Reads and validates a scenario from YAML text; <paramref name="name"/> when the text names none.</summary>
    /// <exception cref="ScenarioException">The text is not a valid scenario (every problem with its line).</exception>
    public static Scenario FromYaml(string yaml, string name = "test") => ScenarioLoader.Load(yaml, $"<{name}>", name);

    /// <summary>Starts a machine built in code: <paramref name="cpus"/> CPUs of <paramref name="arch"/>, then tasks and noise.</summary>
    public static MachineBuilder Machine(int cpus = 4, MachineArch arch = MachineArch.X86_64) => new(cpus, arch);
}
