using System.Text;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Host.Tests.Fuzz;

/// <summary>The seed texts and the mutations the fuzz sources share.</summary>
public static class Mutations
{
    /// <summary>Values put in place of a YAML value: other types, edge numbers, odd durations and CPU lists.</summary>
    public static readonly string[] YamlValues =
    [
        "[]", "{}", "~", "\"\"", "-1", "0", "1", "4", "99999999999999999999", "-99999999999999999999", "1e309", "0x",
        "1.5.5s", "-0ms", "NaN", ".inf", "x", "all", "N", "0-", "1-3:2/0", "3-1", "[1, [2, [3]]]", "{a: {b: c}}",
        "&a x", "*a", "!!binary aGk=", "!custom x", "'quoted'", "\"\\u0000\"", "|\n  block", ">-", "? k", "- item",
        "true", "forever", "SIGKILL", "-EINVAL", "write", "prctl", "compute: 1ms", "10m", "500us", "\t", "#", "%YAML 1.2",
        "\"a\u2028b\"", "a\u2029b", "\"\\u2028\"", "x\u0085y", "\"\\x01\"", "1_000", "0s", "1ns",
    ];

    /// <summary>Characters put in place of others: YAML syntax, digits, line separators, a NUL.</summary>
    public static readonly char[] Chars = ":-[]{},#&*!|>'\"%@` \t\n\r0123456789abcxyzNs.\\\u00e9\u2028\u2029\u0085\u000b\u000c\0".ToCharArray();

    /// <summary>Byte sequences that are not UTF-8: a lone continuation byte, bytes never used, a truncated sequence, an overlong form, a surrogate.</summary>
    public static readonly byte[][] InvalidUtf8 =
    [
        [0x80], [0xFF], [0xFE], [0xC3], [0xE2, 0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80],
    ];

    /// <summary>The repository's root (where TaskIsolation.sln is).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The example scenario files, then the built-in scenarios' texts.</summary>
    public static IReadOnlyList<string> ScenarioSeeds { get; } =
        [.. Directory.GetFiles(Path.Combine(Root, "scenarios"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText),
         .. BuiltInScenarios.All.Select(s => BuiltInScenarios.Text(s.Name))];

    /// <summary>One to three text mutations: characters flipped, lines dropped, duplicated, re-indented or moved, a value swapped, a cut.</summary>
    public static string MutateText(string text, Random r)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(r);
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

    /// <summary>
    /// <paramref name="text"/> as UTF-8, sometimes with bytes that are not UTF-8 put in (or a byte order mark); whether
    /// the result is valid UTF-8 is in <paramref name="valid"/>.
    /// </summary>
    public static byte[] ToBytes(string text, Random r, out bool valid)
    {
        ArgumentNullException.ThrowIfNull(r);
        var bytes = new UTF8Encoding(false).GetBytes(text).ToList();
        switch (r.Next(10))
        {
            case 0:
                var bad = InvalidUtf8[r.Next(InvalidUtf8.Length)];
                bytes.InsertRange(r.Next(bytes.Count + 1), bad);
                break;
            case 1:
                bytes.InsertRange(0, [0xEF, 0xBB, 0xBF]);
                break;
        }

        var array = bytes.ToArray();
        valid = IsUtf8(array);
        return array;
    }

    /// <summary>Whether <paramref name="bytes"/> is valid UTF-8.</summary>
    public static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>A random element.</summary>
    public static T Pick<T>(this Random r, IReadOnlyList<T> items)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(items);
        return items[r.Next(items.Count)];
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
        return colon < 0 ? line + ": " + r.Pick(YamlValues) : line[..(colon + 2)] + r.Pick(YamlValues);
    }

    private static string OnLines(string text, Random r, Action<List<string>, int> edit)
    {
        var lines = text.Split('\n').ToList();
        edit(lines, r.Next(lines.Count));
        return string.Join('\n', lines);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TaskIsolation.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("no TaskIsolation.sln above the test binaries");
    }
}
