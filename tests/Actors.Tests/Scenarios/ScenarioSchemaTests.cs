using System.Globalization;
using System.Text.Json.Nodes;
using Json.Schema;
using TaskIsolation.Scenarios;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// docs/scenario.schema.json describes what the loader reads: every example, built-in and canonical text validates
/// against it, files with unknown keys do not, and each of its object definitions names exactly the keys the loader
/// accepts for that mapping.
/// </summary>
public sealed class ScenarioSchemaTests
{
    private static readonly string SchemaPath = Path.Combine(ScenarioFiles.RepositoryRoot, "docs", "scenario.schema.json");
    private static readonly JsonSchema Schema = JsonSchema.FromText(File.ReadAllText(SchemaPath));

    public static TheoryData<string> Texts()
    {
        var data = new TheoryData<string>();
        foreach (var f in ScenarioFiles.Examples())
        {
            data.Add("file:" + Path.GetFileName(f));
        }

        foreach (var s in BuiltInScenarios.All)
        {
            data.Add("builtin:" + s.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void Every_example_and_built_in_validates_as_written_and_canonical(string which)
    {
        var text = which.StartsWith("file:", StringComparison.Ordinal)
            ? File.ReadAllText(Path.Combine(ScenarioFiles.ExamplesDirectory, which[5..]))
            : BuiltInScenarios.Text(which[8..]);

        AssertValid(text, which);
        AssertValid(ScenarioWriter.Write(ScenarioLoader.Load(text)), which + " (canonical)");
    }

    [Theory]
    [InlineData("unknown-top-key.yaml")]
    [InlineData("unknown-task-key.yaml")]
    [InlineData("unknown-operation.yaml")]
    [InlineData("two-keys-one-item.yaml")]
    [InlineData("wrong-type-tasks.yaml")]
    [InlineData("too-many-cpus.yaml")]
    [InlineData("bad-model-switch.yaml")]
    public void Broken_files_the_schema_can_judge_are_invalid(string file)
    {
        var json = ToJson(File.ReadAllText(Path.Combine(BrokenCorpus.Directory, file)));

        Assert.False(Schema.Evaluate(json).IsValid, file);
    }

    [Fact]
    public void Every_definition_names_exactly_the_keys_the_loader_accepts()
    {
        var defs = JsonNode.Parse(File.ReadAllText(SchemaPath))!["$defs"]!.AsObject();
        foreach (var (name, keys) in ScenarioLoader.Keys)
        {
            Assert.True(defs.ContainsKey(name), $"the schema has no definition '{name}'");
            var properties = PropertyNames(defs[name]!).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(keys.Order(StringComparer.Ordinal).ToArray(), properties);
        }
    }

    private static void AssertValid(string yaml, string what)
    {
        var result = Schema.Evaluate(ToJson(yaml), new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
        Assert.True(result.IsValid, $"{what}:\n{string.Join("\n", errors.Take(20))}");
    }

    /// <summary>The property names of an object definition, or of the object branch of a oneOf/anyOf.</summary>
    private static IEnumerable<string> PropertyNames(JsonNode def)
    {
        if (def["properties"] is JsonObject props)
        {
            foreach (var (k, _) in props)
            {
                yield return k;
            }
        }

        foreach (var combinator in new[] { "oneOf", "anyOf" })
        {
            if (def[combinator] is JsonArray branches)
            {
                foreach (var b in branches)
                {
                    foreach (var k in PropertyNames(b!))
                    {
                        yield return k;
                    }
                }
            }
        }
    }

    /// <summary>YAML as JSON, with plain scalars typed as YAML 1.2's core schema types them (int, bool, null).</summary>
    internal static JsonNode? ToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
        YamlSequenceNode s => new JsonArray([.. s.Children.Select(Convert)]),
        YamlScalarNode { Style: ScalarStyle.Plain } p => Plain(p.Value ?? string.Empty),
        YamlScalarNode q => JsonValue.Create(q.Value ?? string.Empty),
        _ => null,
    };

    private static JsonNode? Plain(string v) =>
        v switch
        {
            "" or "~" or "null" => null,
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            _ when long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
            _ => JsonValue.Create(v),
        };
}
