using System.Collections.Immutable;
using System.Globalization;
using TaskIsolation.Machine.Cpus;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios.Reading;

/// <summary>
/// A reader of one section of the scenario format (docs/scenarios.md), with the helpers every section uses: a
/// required key, a list of items, a CPU list of this machine, a reference to a task by name.
/// </summary>
internal abstract class SectionReader(ReadContext context)
{
    /// <summary>What the sections of this scenario share.</summary>
    protected ReadContext Context { get; } = context;

    /// <summary>The reader of this file, which records every problem with its place.</summary>
    protected YamlReader Yaml => Context.Yaml;

    /// <summary>A list section (<c>tasks</c>, <c>noise</c>, <c>expectations</c>): each item read by <paramref name="item"/>; null or empty is none.</summary>
    protected ImmutableArray<T> ReadList<T>(YamlNode node, string what, Func<YamlNode, string, T?> item)
        where T : class
    {
        if (YamlReader.IsNull(node))
        {
            return [];
        }

        if (node is not YamlSequenceNode seq)
        {
            Yaml.Error(node, $"{what}: found {YamlReader.Shown(node)}, expected a list ('- ' items)");
            return [];
        }

        var items = ImmutableArray.CreateBuilder<T>();
        for (var i = 0; i < seq.Children.Count; i++)
        {
            if (item(seq.Children[i], string.Create(CultureInfo.InvariantCulture, $"{what}[{i}]")) is { } t)
            {
                items.Add(t);
            }
        }

        return items.ToImmutable();
    }

    /// <summary>The value of <paramref name="key"/> in <paramref name="f"/> read by <paramref name="read"/>, or an error that it is missing.</summary>
    protected T? Required<T>(Dictionary<string, (YamlNode Key, YamlNode Value)> f, YamlNode at, string what, string key, Func<YamlNode, T?> read)
    {
        if (f.TryGetValue(key, out var v))
        {
            return read(v.Value);
        }

        Yaml.Error(at, $"{what}: '{key}' is missing");
        return default;
    }

    /// <summary>A CPU list of this machine.</summary>
    protected CpuMask? CpusOf(YamlNode node, string what) => Yaml.Cpus(node, what, Context.NBits);

    /// <summary>A task name that must be declared somewhere in the scenario (checked once all is read).</summary>
    protected string? TaskRef(YamlNode node, string what)
    {
        var name = Yaml.TaskName(node, what);
        if (name is not null)
        {
            Context.Referenced.Add((name, node));
        }

        return name;
    }
}
