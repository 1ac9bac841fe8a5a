using System.Text.RegularExpressions;

namespace TaskIsolation.Host.Tests.Docs;

/// <summary>A line of command output, or a run of explore's progress lines, with the key it compares by.</summary>
internal sealed record OutputUnit(string Key, IReadOnlyList<string> Lines);

/// <summary>
/// The masking rule of the doc tests: what in a command's output depends on the wall clock and so may differ between
/// the document and a run. Each pattern's matches compare equal whatever their text; nothing else is masked. Keep
/// this list short and the same as docs/architecture.md's "Docs are tested" section.
/// </summary>
internal static partial class OutputMasks
{
    /// <summary>The volatile parts: wall times, and rates per wall second.</summary>
    public static IReadOnlyList<(string What, Regex Pattern)> Volatile { get; } =
    [
        ("run: the wall time after 'simulated in'", RunWall()),
        ("explore: the campaign's wall time", ExploreWall()),
        ("explore, bench: schedules per wall second", SchedulesPerSecond()),
        ("soak: simulated seconds per wall second", SimPerWall()),
        ("soak: the wall time", SoakWall()),
        ("soak: events per wall second, '(N/s)'", PerSecond()),
    ];

    /// <summary>
    /// Explore prints a progress line once a wall-clock second, so how many there are is volatile: a run of them is one
    /// unit that compares equal to any other run of them.
    /// </summary>
    [GeneratedRegex(@"^  [0-9]+/[0-9]+ schedules  [0-9]+ schedules/s  [0-9]+ distinct findings?$")]
    public static partial Regex ExploreProgress();

    /// <summary>The line as it is compared: every volatile part replaced by <c>#</c>.</summary>
    public static string Key(string line)
    {
        foreach (var (_, pattern) in Volatile)
        {
            line = pattern.Replace(line, "#");
        }

        return line;
    }

    /// <summary>The lines as compared: one unit per line, except a run of progress lines, which is one unit.</summary>
    public static IReadOnlyList<OutputUnit> Units(IReadOnlyList<string> lines)
    {
        var units = new List<OutputUnit>();
        for (var i = 0; i < lines.Count; i++)
        {
            if (ExploreProgress().IsMatch(lines[i]))
            {
                var j = i;
                while (j + 1 < lines.Count && ExploreProgress().IsMatch(lines[j + 1]))
                {
                    j++;
                }

                units.Add(new OutputUnit("<explore progress lines>", [.. lines.Skip(i).Take(j - i + 1)]));
                i = j;
            }
            else
            {
                units.Add(new OutputUnit(Key(lines[i]), [lines[i]]));
            }
        }

        return units;
    }

    /// <summary>
    /// The document's output brought to the program's: units that compare equal keep the document's text (so its
    /// wall times do not churn), every other unit is the program's. A longest common subsequence pairs them.
    /// </summary>
    public static IReadOnlyList<string> Merge(IReadOnlyList<string> documented, IReadOnlyList<string> actual)
    {
        var d = Units(documented);
        var a = Units(actual);
        var lcs = new int[d.Count + 1, a.Count + 1];
        for (var i = d.Count - 1; i >= 0; i--)
        {
            for (var j = a.Count - 1; j >= 0; j--)
            {
                lcs[i, j] = d[i].Key == a[j].Key ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var merged = new List<string>();
        int x = 0, y = 0;
        while (y < a.Count)
        {
            if (x < d.Count && d[x].Key == a[y].Key)
            {
                merged.AddRange(d[x].Lines);
                x++;
                y++;
            }
            else if (x < d.Count && lcs[x + 1, y] >= lcs[x, y + 1])
            {
                x++;
            }
            else
            {
                merged.AddRange(a[y].Lines);
                y++;
            }
        }

        return merged;
    }

    /// <summary>Null when the two outputs compare equal, else where they first differ.</summary>
    public static string? Difference(IReadOnlyList<string> documented, IReadOnlyList<string> actual)
    {
        var d = Units(documented);
        var a = Units(actual);
        var line = 0;
        for (var i = 0; i < Math.Max(d.Count, a.Count); i++)
        {
            var dk = i < d.Count ? d[i].Key : null;
            var ak = i < a.Count ? a[i].Key : null;
            if (dk != ak)
            {
                var dl = i < d.Count ? string.Join("\n            ", d[i].Lines) : "<end of output>";
                var al = i < a.Count ? string.Join("\n            ", a[i].Lines) : "<end of output>";
                return $"output line {line + 1} differs ({documented.Count} lines documented, {actual.Count} printed)\n  document: {dl}\n  program:  {al}";
            }

            line += d[i].Lines.Count;
        }

        return null;
    }

    [GeneratedRegex(@"(?<= simulated in )[0-9.]+(?= s$)")]
    private static partial Regex RunWall();

    [GeneratedRegex(@"(?<=^schedules: [0-9]+ in )[0-9.]+(?= s )")]
    private static partial Regex ExploreWall();

    [GeneratedRegex(@"[0-9.]+(?= schedules/s)")]
    private static partial Regex SchedulesPerSecond();

    [GeneratedRegex(@"[0-9.]+(?= sim s(/| per )wall s)")]
    private static partial Regex SimPerWall();

    [GeneratedRegex(@"(?<= in )[0-9.]+(?= s wall)")]
    private static partial Regex SoakWall();

    [GeneratedRegex(@"(?<=\()[0-9]+(?=/s\))")]
    private static partial Regex PerSecond();
}
