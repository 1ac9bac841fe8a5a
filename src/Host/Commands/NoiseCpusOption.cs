using System.CommandLine;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>--cpus LIST</c> of <c>run</c> and <c>soak</c>: the CPUs the noise table and the HTML report measure, as
/// <c>rtla osnoise -c</c> takes them (docs/reports.md), in the kernel's list syntax (docs/model.md §3). It replaces the
/// scenario's <c>osnoise.cpus</c>; the scenario's period and warm-up stay. <c>--noise-cpus</c>, its earlier name, is
/// kept as an alias so command lines written for it still run.
/// </summary>
internal static class NoiseCpusOption
{
    public const string Name = "--cpus";

    /// <summary>The earlier name, an alias.</summary>
    public const string Alias = "--noise-cpus";

    public static Option<string?> Create() => new(Name, Alias)
    {
        Description = "CPUs to measure noise on, as rtla osnoise -c takes them (0-3, 1,3, all); default: the scenario's osnoise.cpus, else every CPU",
        HelpName = "LIST",
    };

    /// <summary>
    /// The scenario's noise settings with <paramref name="list"/> as their CPUs (unchanged when null); a list that does
    /// not parse on the scenario's machine, or names no CPU, is bad input naming the option.
    /// </summary>
    /// <exception cref="UsageException">The list is bad.</exception>
    public static OsnoiseSettings Apply(Scenario scenario, string? list)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (list is null)
        {
            return scenario.Osnoise;
        }

        var result = CpuList.Parse(list, scenario.Cpus);
        if (!result.IsSuccess)
        {
            throw new UsageException($"{Name}: invalid CPU list: {result.Describe()}");
        }

        if (result.Mask.IsEmpty)
        {
            throw new UsageException($"{Name}: '{list}' names no CPU, expected at least one of 0-{scenario.Cpus - 1}");
        }

        return scenario.Osnoise with { Cpus = result.Mask };
    }
}
