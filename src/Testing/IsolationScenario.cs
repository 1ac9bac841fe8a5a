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

    /// <summary>The built-in scenario <paramref name="name"/> (<c>taskisol scenarios</c> lists them; the race library is <c>rNN-*</c>).</summary>
    /// <exception cref="KeyNotFoundException">No built-in scenario has that name.</exception>
    public static Scenario BuiltIn(string name) => BuiltInScenarios.Load(name);

    /// <summary>Reads and validates a scenario from YAML text; <paramref name="name"/> when the text names none.</summary>
    /// <exception cref="ScenarioException">The text is not a valid scenario (every problem with its line).</exception>
    public static Scenario FromYaml(string yaml, string name = "test") => ScenarioLoader.Load(yaml, $"<{name}>", name);

    /// <summary>Starts a machine built in code: <paramref name="cpus"/> CPUs of <paramref name="arch"/>, then tasks and noise.</summary>
    public static MachineBuilder Machine(int cpus = 4, MachineArch arch = MachineArch.X86_64) => new(cpus, arch);
}
