using System.Diagnostics;
using System.Text;
using TaskIsolation.Scenarios;
using Xunit.Abstractions;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// Thousands of seeded mutations of the example and built-in scenarios (character flips, dropped, duplicated and
/// re-indented lines, values swapped for other YAML types, truncation): the loader must answer each with a scenario
/// or a ScenarioException with placed errors, each on one line (no line break, line separator or other control
/// character in a message), nothing else; and whatever loads must write and load back equal.
/// </summary>
public sealed class ScenarioFuzzTests(ITestOutputHelper output)
{
    private const int Mutations = 6000;

    private static readonly string[] Values =
    [
        "[]", "{}", "~", "\"\"", "-1", "0", "1", "4", "99999999999999999999", "-99999999999999999999", "1e309", "0x",
        "1.5.5s", "-0ms", "NaN", ".inf", "x", "all", "N", "0-", "1-3:2/0", "3-1", "[1, [2, [3]]]", "{a: {b: c}}",
        "&a x", "*a", "!!binary aGk=", "!custom x", "'quoted'", "\"\\u0000\"", "|\n  block", ">-", "? k", "- item",
        "true", "forever", "SIGKILL", "-EINVAL", "write", "prctl", "compute: 1ms", "10m", "500us", "\t", "#", "%YAML 1.2",
    ];

    private static readonly char[] Chars = ":-[]{},#&*!|>'\"%@` \t\n0123456789abcxyzNs.\\\u00e9\u2028\0".ToCharArray();

    [Fact]
    public void Mutated_scenarios_give_a_scenario_or_a_placed_ScenarioException_and_nothing_else()
    {
        var seeds = ScenarioFiles.Examples().Select(File.ReadAllText)
            .Concat(BuiltInScenarios.All.Select(s => BuiltInScenarios.Text(s.Name)))
            .ToArray();
        var random = new Random(20_161_104);
        var clock = Stopwatch.StartNew();
        int loaded = 0, rejected = 0;
        for (var i = 0; i < Mutations; i++)
        {
            var text = Mutate(seeds[random.Next(seeds.Length)], random);
            try
            {
                var s = ScenarioLoader.Load(text, "fuzz.yaml");
                loaded++;
                var canonical = ScenarioWriter.Write(s);
                var again = ScenarioLoader.Load(canonical, "canonical.yaml");
                Assert.True(s.Equals(again), $"mutation {i} loads but its canonical text loads back different:\n{text}\n---\n{canonical}");
            }
            catch (ScenarioException ex)
            {
                rejected++;
                Assert.NotEmpty(ex.Errors);
                Assert.All(ex.Errors, e => Assert.True(e.Line >= 1 && e.Column >= 1 && e.Message.Length > 0 && !e.Message.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029'), $"mutation {i}: {e}"));
            }
            catch (Exception ex)
            {
                Assert.Fail($"mutation {i} threw {ex.GetType().Name}: {ex.Message}\n--- input ---\n{text}");
            }
        }

        output.WriteLine($"{Mutations} mutations: {loaded} loaded, {rejected} rejected, {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(loaded > Mutations / 20, "the mutations should not all be rejected: some must keep the file valid");
        Assert.True(rejected > Mutations / 4);
    }

    private static string Mutate(string text, Random r)
    {
        var rounds = 1 + r.Next(3);
        for (var i = 0; i < rounds; i++)
        {
            text = r.Next(7) switch
            {
                0 => FlipChars(text, r),
                1 => OnLines(text, r, (lines, at) => lines.RemoveAt(at)),
                2 => OnLines(text, r, (lines, at) => lines.Insert(at, lines[at])),
                3 => OnLines(text, r, (lines, at) => lines[at] = (r.Next(2) == 0 ? "  " : string.Empty) + (lines[at].StartsWith("  ", StringComparison.Ordinal) && r.Next(2) == 0 ? lines[at][2..] : lines[at])),
                4 => OnLines(text, r, (lines, at) => lines[at] = SwapValue(lines[at], r)),
                5 => text[..r.Next(text.Length + 1)],
                _ => OnLines(text, r, (lines, at) => lines.Insert(at, lines[r.Next(lines.Count)])),
            };
        }

        return text;
    }

    private static string FlipChars(string text, Random r)
    {
        if (text.Length == 0)
        {
            return text;
        }

        var sb = new StringBuilder(text);
        for (var n = 1 + r.Next(4); n > 0; n--)
        {
            sb[r.Next(sb.Length)] = Chars[r.Next(Chars.Length)];
        }

        return sb.ToString();
    }

    private static string SwapValue(string line, Random r)
    {
        var colon = line.IndexOf(": ", StringComparison.Ordinal);
        return colon < 0 ? line + ": " + Values[r.Next(Values.Length)] : line[..(colon + 2)] + Values[r.Next(Values.Length)];
    }

    private static string OnLines(string text, Random r, Action<List<string>, int> edit)
    {
        var lines = text.Split('\n').ToList();
        if (lines.Count == 0)
        {
            return text;
        }

        edit(lines, r.Next(lines.Count));
        return string.Join('\n', lines);
    }
}
