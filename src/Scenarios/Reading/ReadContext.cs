using System.Globalization;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Cpus;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// What the section readers of one scenario share: the YAML reader that collects every problem, what the machine
/// section decided that later sections check against (its size, its syscall table), and the task names declared and
/// referenced anywhere, matched against each other once every section is read.
/// </summary>
internal sealed class ReadContext(YamlReader yaml)
{
    /// <summary>The reader of this file: its errors carry file, line and column.</summary>
    public YamlReader Yaml { get; } = yaml;

    /// <summary>How many CPUs a CPU list may name: the scenario's <c>cpus</c>, or the largest machine when that is invalid.</summary>
    public int NBits { get; set; } = CpuMask.MaxBits;

    /// <summary>The syscall table of the scenario's arch.</summary>
    public SyscallTable Syscalls { get; set; } = SyscallTable.X86_64;

    /// <summary>Task names as declared (tasks, fork/thread, periodic and POSIX-timer noise), with where.</summary>
    public List<(string Name, YamlNode Node)> Declared { get; } = [];

    /// <summary>Task names as referenced (kill, affinity, expectations), with where.</summary>
    public List<(string Name, YamlNode Node)> Referenced { get; } = [];

    /// <summary>IRQ numbers of the noise sources so far, with the line that took each.</summary>
    public Dictionary<long, long> Irqs { get; } = [];

    /// <summary>Every task name declared once, and every name referenced declared somewhere.</summary>
    public void CheckNames()
    {
        var seen = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (name, node) in Declared)
        {
            if (seen.TryGetValue(name, out var first))
            {
                Yaml.Error(node, string.Create(CultureInfo.InvariantCulture, $"task name '{name}' is already used at line {first.Start.Line}: names must be unique (they are how kill, affinity and expectations find a task)"));
            }
            else
            {
                seen[name] = node;
            }
        }

        foreach (var (name, node) in Referenced)
        {
            if (!seen.ContainsKey(name))
            {
                Yaml.Error(node, $"no task named '{name}'{ScenarioNames.DidYouMean(name, seen.Keys)}; tasks: {(seen.Count == 0 ? "none" : string.Join(", ", seen.Keys))}");
            }
        }
    }

}
