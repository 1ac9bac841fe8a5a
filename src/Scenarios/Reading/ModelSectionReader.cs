using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using YamlDotNet.RepresentationModel;
using SimCore = TaskIsolation.Simulation.Simulation;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// <c>model:</c>: the kernel variant, the residual tick, the mitigation switches of docs/model.md §9, the bounded wait, the liveness
/// bound and the timings table (<see cref="ModelKeys"/> lists the switch and timing keys).
/// </summary>
internal sealed class ModelSectionReader(ReadContext context) : SectionReader(context)
{
    /// <summary>The longest a timing may be: each is the cost of a kernel path, not a run length.</summary>
    private const long MaxTimingNs = 60_000_000_000;

    public ScenarioModel Read(YamlNode node)
    {
        var model = new ScenarioModel();
        var f = Yaml.Fields(node, "model", ScenarioLoader.Keys["model"]);
        if (f is null)
        {
            return model;
        }

        var switches = new ModelSwitches();
        foreach (var (key, (_, value)) in f)
        {
            switch (key)
            {
                case "variant":
                    var variant = Yaml.Scalar(value, "model.variant", "v13 or v16");
                    if (variant is "v13" or "V13")
                    {
                        model = model with { Variant = KernelVariant.V13 };
                    }
                    else if (variant is "v16" or "V16")
                    {
                        model = model with { Variant = KernelVariant.V16 };
                    }
                    else if (variant is not null)
                    {
                        Yaml.Error(value, $"model.variant: found '{YamlReader.Clip(variant)}', expected v13 or v16");
                    }

                    break;
                case "residual_tick":
                    var rt = Yaml.Scalar(value, "model.residual_tick", "1hz or offloaded");
                    if (rt is "1hz" or "1Hz")
                    {
                        switches = switches with { ResidualTick = ResidualTick.OneHz };
                    }
                    else if (rt is "offloaded")
                    {
                        switches = switches with { ResidualTick = ResidualTick.Offloaded };
                    }
                    else if (rt is not null)
                    {
                        Yaml.Error(value, $"model.residual_tick: found '{YamlReader.Clip(rt)}', expected 1hz (4.7) or offloaded (4.17+)");
                    }

                    break;
                case "bounded_wait":
                    if (Yaml.Duration(value, "model.bounded_wait", positive: true) is { } wait)
                    {
                        switches = switches with { BoundedWaitNs = wait };
                    }

                    break;
                case "liveness_bound":
                    if (Yaml.Duration(value, "model.liveness_bound", positive: true) is { } bound)
                    {
                        model = model with { LivenessBoundNs = bound };
                    }

                    break;
                case "max_instant_deliveries":
                    if (Yaml.Integer(value, "model.max_instant_deliveries", SimCore.MinMaxInstantDeliveries, SimCore.MaxMaxInstantDeliveries) is { } most)
                    {
                        model = model with { MaxInstantDeliveries = most };
                    }

                    break;
                case "timings":
                    model = model with { Timings = ReadTimings(value) };
                    break;
                default:
                    // A mitigation switch of docs/model.md §9 (ModelKeys.Switches).
                    var sw = ModelKeys.Switches.First(s => s.Key == key);
                    if (Yaml.Bool(value, $"model.{key}") is { } on)
                    {
                        switches = sw.Set(switches, on);
                    }

                    break;
            }
        }

        return model with { Switches = switches };
    }

    private ModelTimings ReadTimings(YamlNode node)
    {
        var timings = new ModelTimings();
        var f = Yaml.Fields(node, "model.timings", ScenarioLoader.Keys["timings"]);
        if (f is null)
        {
            return timings;
        }

        foreach (var (key, (_, value)) in f)
        {
            var timing = ModelKeys.Timings.First(k => k.Key == key);
            if (timing.IsCount)
            {
                if (Yaml.Integer(value, $"model.timings.{key}", 1, 1024) is { } steps)
                {
                    timings = timing.Set(timings, steps);
                }
            }
            else if (Yaml.Duration(value, $"model.timings.{key}", positive: false) is { } ns)
            {
                if (ns > MaxTimingNs)
                {
                    Yaml.Error(value, $"model.timings.{key}: {Durations.Format(ns)} is longer than a minute, expected the cost of a kernel path");
                }
                else if (ns == 0 && timing.NonZeroBecause is { } because)
                {
                    // Simulated time moves only when something costs time (docs/model.md §12).
                    Yaml.Error(value, $"model.timings.{key}: 0 makes this kernel path free: {because}; expected a duration above 0");
                }
                else
                {
                    timings = timing.Set(timings, ns);
                }
            }
        }

        return timings;
    }
}
