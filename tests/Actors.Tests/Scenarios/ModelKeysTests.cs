using System.Reflection;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// The loader and the writer read and write the model's switches and timings through the explicit table of
/// <see cref="ModelKeys"/>: every settable property has its row, each row sets the property it reads, and a
/// scenario that sets a key reads back with it set.
/// </summary>
public sealed class ModelKeysTests
{
    [Fact]
    public void Every_timing_property_has_a_key_that_sets_it()
    {
        var properties = typeof(ModelTimings).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.PropertyType == typeof(long) || p.PropertyType == typeof(int)).ToList();

        Assert.Equal(properties.Count, ModelKeys.Timings.Length);
        foreach (var k in ModelKeys.Timings)
        {
            var set = k.Set(new ModelTimings(), 7);
            var changed = properties.Where(p => !Equals(p.GetValue(set), p.GetValue(new ModelTimings()))).ToList();
            var property = Assert.Single(changed);
            Assert.Equal(7L, Convert.ToInt64(property.GetValue(set), System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(7L, k.Get(set));
            Assert.Equal(Snake(property.Name).Replace("_ns", string.Empty, StringComparison.Ordinal), k.Key);
        }
    }

    [Fact]
    public void Every_switch_property_has_a_key_that_sets_it()
    {
        var properties = typeof(ModelSwitches).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.PropertyType == typeof(bool)).ToList();

        Assert.Equal(properties.Count, ModelKeys.Switches.Length);
        foreach (var k in ModelKeys.Switches)
        {
            var set = k.Set(new ModelSwitches(), true);
            var property = Assert.Single(properties, p => (bool)p.GetValue(set)!);
            Assert.True(k.Get(set));
            Assert.Equal(Snake(property.Name), k.Key);
        }
    }

    [Fact]
    public void Each_timing_key_read_from_a_file_sets_its_value_and_writes_back()
    {
        foreach (var k in ModelKeys.Timings)
        {
            var text = $"cpus: 2\nmodel:\n  timings:\n    {k.Key}: {(k.IsCount ? "7" : "7ns")}\n";

            var scenario = ScenarioLoader.Load(text);

            Assert.Equal(7L, k.Get(scenario.Model.Timings));
            Assert.Equal(scenario.Model.Timings, ScenarioLoader.Load(ScenarioWriter.Write(scenario)).Model.Timings);
        }
    }

    private static string Snake(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
