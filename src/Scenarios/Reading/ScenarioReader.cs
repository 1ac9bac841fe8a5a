using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// Reads a scenario's top-level mapping by handing each section to its reader: the machine
/// (<see cref="MachineSectionReader"/>), <c>model</c> (<see cref="ModelSectionReader"/>), <c>tasks</c> and their
/// programs (<see cref="ProgramReader"/>), <c>noise</c> (<see cref="NoiseReader"/>), <c>osnoise</c>
/// (<see cref="OsnoiseSectionReader"/>), <c>monitors</c> (<see cref="MonitorReader"/>) and <c>expectations</c>
/// (<see cref="ExpectationReader"/>); then checks that every task name referenced is declared, and that the machine boots.
/// </summary>
internal sealed class ScenarioReader : SectionReader
{
    private readonly MachineSectionReader _machine;
    private readonly ModelSectionReader _model;
    private readonly ProgramReader _programs;
    private readonly NoiseReader _noise;
    private readonly OsnoiseSectionReader _osnoise;
    private readonly ExpectationReader _expectations;
    private readonly MonitorReader _monitors;

    /// <summary>A reader of one scenario, recording its problems in <paramref name="yaml"/>.</summary>
    public ScenarioReader(YamlReader yaml)
        : base(new ReadContext(yaml))
    {
        _machine = new MachineSectionReader(Context);
        _model = new ModelSectionReader(Context);
        _programs = new ProgramReader(Context);
        _noise = new NoiseReader(Context, _programs);
        _osnoise = new OsnoiseSectionReader(Context);
        _expectations = new ExpectationReader(Context);
        _monitors = new MonitorReader(Context, _expectations);
    }

    /// <summary>
    /// The scenario in <paramref name="root"/>, section by section in the order of the format; null when the root is
    /// not a mapping. Problems are in the reader; the machine is booted once to check it only when there are none.
    /// </summary>
    public Scenario? Read(YamlNode root, string defaultName)
    {
        var f = Yaml.Fields(root, "scenario", ScenarioLoader.Keys["scenario"]);
        if (f is null)
        {
            return null;
        }

        var s = _machine.Read(f, root, defaultName);
        if (f.TryGetValue("model", out var model))
        {
            s = s with { Model = _model.Read(model.Value) };
        }

        if (f.TryGetValue("duration", out var duration) && Yaml.Duration(duration.Value, "duration", positive: true) is { } dns)
        {
            s = s with { DurationNs = dns };
        }

        if (f.TryGetValue("tasks", out var tasks))
        {
            s = s with { Tasks = ReadList(tasks.Value, "tasks", _programs.ReadTask) };
        }

        if (f.TryGetValue("noise", out var noise))
        {
            s = s with { Noise = ReadList(noise.Value, "noise", _noise.Read) };
        }

        if (f.TryGetValue("osnoise", out var osnoise))
        {
            s = s with { Osnoise = _osnoise.Read(osnoise.Value) };
        }

        if (f.TryGetValue("monitors", out var monitors))
        {
            s = s with { Monitors = _monitors.ReadAll(monitors.Value) };
        }

        if (f.TryGetValue("expectations", out var expectations))
        {
            s = s with { Expectations = ReadList(expectations.Value, "expectations", _expectations.Read) };
        }

        Context.CheckNames();
        if (Yaml.Errors.Count == 0)
        {
            _machine.CheckBoots(s, f.GetValueOrDefault("cmdline").Value ?? root);
        }

        return s;
    }
}
