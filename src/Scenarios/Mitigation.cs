using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;

namespace TaskIsolation.Scenarios;

/// <summary>
/// A model switch of the scenario format's <c>model:</c> section set to a value that changes the kernel's behaviour:
/// the fix a two-sided regression test checks (<c>taskisol minimize --mitigation</c>, docs/exploration.md). Written
/// <c>KEY[=VALUE]</c> as on the command line: <c>deferred_tlb_flush</c> (a boolean switch, <c>true</c> when no value is
/// given), <c>variant=v16</c>, <c>residual_tick=offloaded</c>, <c>bounded_wait=10ms</c>. The liveness bound and the
/// timings are not mitigations: the first is the judge's bound, the others are costs.
/// </summary>
/// <param name="Key">The key of <c>model:</c> (docs/scenarios.md).</param>
/// <param name="Value">Its value as the scenario file writes it.</param>
public sealed record Mitigation(string Key, string Value)
{
    /// <summary>Every key a mitigation may set, in the order docs/scenarios.md lists them.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["variant", "residual_tick", .. ModelKeys.Switches.Select(s => s.Key), "bounded_wait"];

    /// <summary><c>KEY=VALUE</c>, as <see cref="Parse"/> reads it.</summary>
    public override string ToString() => $"{Key}={Value}";

    /// <summary>Reads <c>KEY[=VALUE]</c>.</summary>
    /// <exception cref="FormatException">
    /// An unknown key (with a did-you-mean), a key that is not a mitigation, a missing or bad value: one line.
    /// </exception>
    public static Mitigation Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        var key = (eq < 0 ? text : text[..eq]).Trim();
        var value = eq < 0 ? null : text[(eq + 1)..].Trim();
        if (key.Length == 0)
        {
            throw new FormatException($"'{YamlReader.Clip(text)}' names no model switch, expected KEY[=VALUE] with KEY one of {string.Join(", ", Keys)}");
        }

        if (key is "liveness_bound")
        {
            throw new FormatException("liveness_bound is not a mitigation: it is the liveness monitor's bound, and widening it hides a liveness failure rather than removing it");
        }

        if (key is "timings" || key.StartsWith("timings.", StringComparison.Ordinal) || ModelKeys.Timings.Any(t => t.Key == key))
        {
            throw new FormatException($"'{YamlReader.Clip(key)}' is a timing (model.timings), not a mitigation: expected one of {string.Join(", ", Keys)}");
        }

        if (!Keys.Contains(key))
        {
            throw new FormatException($"unknown model switch '{YamlReader.Clip(key)}'{ScenarioNames.DidYouMean(key, Keys)}, expected one of {string.Join(", ", Keys)}");
        }

        switch (key)
        {
            case "variant":
                return value is "v13" or "v16"
                    ? new(key, value)
                    : throw new FormatException($"variant {(value is null ? "needs a value" : $"'{YamlReader.Clip(value)}' is not a variant")}: expected variant=v13 or variant=v16");
            case "residual_tick":
                return value is "1hz" or "offloaded"
                    ? new(key, value)
                    : throw new FormatException($"residual_tick {(value is null ? "needs a value" : $"'{YamlReader.Clip(value)}' is not a residual tick")}: expected residual_tick=1hz or residual_tick=offloaded");
            case "bounded_wait":
                if (value is null)
                {
                    throw new FormatException("bounded_wait needs a value: a duration, as bounded_wait=10ms");
                }

                var ns = ScenarioNames.ParseDuration(value, out var error);
                return ns is > 0
                    ? new(key, Durations.Format(ns.Value))
                    : throw new FormatException($"bounded_wait: {error ?? $"'{YamlReader.Clip(value)}' is not a positive duration"}, expected a duration such as 10ms");
            default:
                return value switch
                {
                    null or "true" => new(key, "true"),
                    "false" => new(key, "false"),
                    _ => throw new FormatException($"{key}: '{YamlReader.Clip(value)}' is not a boolean, expected {key}=true or {key}=false"),
                };
        }
    }

    /// <summary>
    /// <paramref name="scenario"/> with this setting, validated as a scenario file with it would be (written in canonical
    /// form and read back: under <c>variant=v16</c>, for one, a <c>task_isolation=</c> parameter is refused).
    /// </summary>
    /// <exception cref="FormatException">The scenario already has this value, or is invalid with it: one line.</exception>
    public Scenario ApplyTo(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var m = scenario.Model;
        var sw = m.Switches;
        var changed = Key switch
        {
            "variant" => m with { Variant = Value == "v16" ? KernelVariant.V16 : KernelVariant.V13 },
            "residual_tick" => m with { Switches = sw with { ResidualTick = Value == "offloaded" ? ResidualTick.Offloaded : ResidualTick.OneHz } },
            "bounded_wait" => m with { Switches = sw with { BoundedWaitNs = ScenarioNames.ParseDuration(Value, out _)!.Value } },
            _ => m with { Switches = ModelKeys.Switches.Single(s => s.Key == Key).Set(sw, Value == "true") },
        };
        var result = scenario with { Model = changed };
        var text = ScenarioWriter.Write(result);
        if (text == ScenarioWriter.Write(scenario))
        {
            throw new FormatException($"scenario {scenario.Name} already has {Key}: {Value}; a mitigation must change the model");
        }

        try
        {
            return ScenarioLoader.Load(text, $"<{scenario.Name} with {this}>", scenario.Name);
        }
        catch (ScenarioException ex)
        {
            throw new FormatException($"scenario {scenario.Name} is invalid with {this}: {string.Join("; ", ex.Errors)}", ex);
        }
    }
}
