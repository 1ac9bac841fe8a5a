using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TaskIsolation.Host.Tests.Fuzz;

/// <summary>
/// Corrupted reproducers through <c>replay</c> (sometimes with <c>--check</c>) and <c>minimize</c>: a field removed,
/// of another type or out of range, a decision altered, the model version or the embedded scenario changed, the bytes
/// cut or not UTF-8. Beyond the common rules: a changed model version is said, an altered decision is named, and a
/// negative <c>findingsBefore</c> is bad input.
/// </summary>
public sealed partial class ReproducerSource : IFuzzSource
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonNode?[] OddValues =
    [
        null, -1, 0, 1, long.MaxValue, 1e300, "", "x", "\u2028", "a\nb", new JsonArray(), new JsonObject(), true,
    ];

    private static readonly string[] Fields = ["format", "modelVersion", "target", "run", "decisions", "finding"];

    public string Name => "reproducers";

    public int NormalCount => 60;

    public FuzzCase? Make(int index, Random random, string dir, out string? skipped)
    {
        ArgumentNullException.ThrowIfNull(random);
        skipped = null;
        var root = JsonNode.Parse(Fixtures.Reproducer)!.AsObject();
        string what;
        Func<Outcome, string?>? check = null;
        byte[]? bytes = null;
        switch (random.Next(12))
        {
            case 0 or 1:
                var version = random.Pick(["taskisolation-model/2 (v13, 4.7)", "taskisolation-model/4 (v16, 5.0)", "", "x\u2028y"]);
                root["modelVersion"] = version;
                what = "model version changed";
                check = o => (o.Out + o.Err).Contains("recorded with model", StringComparison.Ordinal)
                    ? null
                    : "a changed model version is not said ('recorded with model X, this is model Y')";
                break;
            case 2 or 3 or 4:
                what = AlterDecision(root, random);
                check = o => o.Exit == 0 || DecisionNamed().IsMatch(o.Out + o.Err) ? null : "an altered decision list, and the first divergent decision is not named";
                break;
            case 5:
                var before = random.Pick([-1, -1000, int.MinValue, 1, 3]);
                root["run"]!["findingsBefore"] = before;
                what = string.Create(CultureInfo.InvariantCulture, $"findingsBefore {before}");
                check = o => before >= 0 || o.Exit == 2 ? null : $"findingsBefore {before} is not bad input";
                break;
            case 6:
                var field = random.Pick(["strategy", "seed", "campaignSeed", "schedule", "depth", "pctSteps", "maxSteps"]);
                root["run"]![field] = random.Next(2) == 0 ? random.Pick([-1, 0, 1, 10]) : OddValues[random.Next(OddValues.Length)]?.DeepClone();
                what = $"run.{field} changed";
                break;
            case 7:
                var text = (string)root["target"]!["text"]!;
                root["target"]!["text"] = Mutations.MutateText(text, random);
                what = "embedded scenario mutated";
                break;
            case 8:
                var t = random.Pick(["kind", "name", "hash", "durationNs", "text"]);
                root["target"]![t] = OddValues[random.Next(OddValues.Length)]?.DeepClone();
                what = $"target.{t} changed";
                break;
            case 9:
                var f = random.Pick(["kind", "cpu", "task", "timeNs", "signature", "chain", "interrupt"]);
                root["finding"]![f] = OddValues[random.Next(OddValues.Length)]?.DeepClone();
                what = $"finding.{f} changed";
                break;
            case 10:
                var top = random.Pick(Fields);
                _ = random.Next(3) switch
                {
                    0 => root.Remove(top),
                    1 => root.TryAdd("extra", 1),
                    _ => (root[top] = OddValues[random.Next(OddValues.Length)]?.DeepClone()) is var _,
                };
                what = $"{top} removed, retyped or an extra field";
                break;
            default:
                var json = Encoding.UTF8.GetBytes(root.ToJsonString(Indented)).ToList();
                switch (random.Next(4))
                {
                    case 0:
                        json = json[..random.Next(json.Count)];
                        what = "cut short";
                        break;
                    case 1:
                        json.InsertRange(random.Next(json.Count), random.Pick(Mutations.InvalidUtf8));
                        what = "not UTF-8";
                        break;
                    case 2:
                        var at = json.IndexOf((byte)':') + 3;
                        json.InsertRange(at, Encoding.UTF8.GetBytes(random.Pick(["\u2028", "\u2029", "\u0085"])));
                        what = "a raw line separator in a string";
                        break;
                    default:
                        json = [.. Encoding.UTF8.GetBytes(random.Pick(["", "[]", "null", "{", "\"x\"", "42"]))];
                        what = "not a reproducer at all";
                        break;
                }

                bytes = [.. json];
                break;
        }

        var path = Path.Combine(dir, "repro.json");
        File.WriteAllBytes(path, bytes ?? Encoding.UTF8.GetBytes(root.ToJsonString(Indented)));
        var minimized = Path.Combine(dir, "min");
        string[] args = random.Next(20) switch
        {
            < 2 => ["replay", path, "--check"],
            < 5 => ["minimize", path, "--max-runs", "3", "--out", minimized],
            _ => ["replay", path],
        };
        return new FuzzCase(args) { What = what, Inputs = [path], Outputs = [minimized], Names = [path], Check = check };
    }

    /// <summary>One decision altered (another choice, option count or kind; not a decision; removed, doubled, cut after, or one more).</summary>
    private static string AlterDecision(JsonObject root, Random r)
    {
        var list = ((string)root["decisions"]!).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var k = r.Next(list.Count);
        var d = list[k];
        var chosen = int.Parse(d.AsSpan(1, d.IndexOf('/', StringComparison.Ordinal) - 1), CultureInfo.InvariantCulture);
        var of = int.Parse(d.AsSpan(d.IndexOf('/', StringComparison.Ordinal) + 1), CultureInfo.InvariantCulture);
        string what;
        switch (r.Next(8))
        {
            case 0:
                list[k] = string.Create(CultureInfo.InvariantCulture, $"{d[0]}{(chosen + 1) % of}/{of}");
                what = "another choice";
                break;
            case 1:
                list[k] = string.Create(CultureInfo.InvariantCulture, $"{d[0]}{chosen}/{of + 1}");
                what = "another option count";
                break;
            case 2:
                list[k] = (d[0] == 's' ? "c" : "s") + d[1..];
                what = "another kind";
                break;
            case 3:
                list[k] = r.Pick([string.Create(CultureInfo.InvariantCulture, $"{d[0]}{of}/{of}"), "zz", "s-1/2", "s1/99999999999"]);
                what = "not a decision";
                break;
            case 4:
                list.RemoveAt(k);
                what = "one removed";
                break;
            case 5:
                list.Insert(k, d);
                what = "one doubled";
                break;
            case 6:
                list = list[..k];
                what = "cut after";
                break;
            default:
                list.Add("s0/2");
                what = "one more";
                break;
        }

        root["decisions"] = string.Join(' ', list);
        return string.Create(CultureInfo.InvariantCulture, $"decision {k}: {what}");
    }

    [GeneratedRegex(@"decision \d+")]
    private static partial Regex DecisionNamed();
}
