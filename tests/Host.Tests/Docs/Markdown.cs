using System.Text.RegularExpressions;

namespace TaskIsolation.Host.Tests.Docs;

/// <summary>One fenced code block of a Markdown file, with the doc-test directive written just above it, if any.</summary>
/// <param name="Language">The info string after the opening fence (<c>console</c>, <c>csharp</c>, <c>sh</c>, ...), or empty.</param>
/// <param name="Directive">The text of a <c>&lt;!-- doctest: ... --&gt;</c> comment on the last non-blank line before the fence.</param>
/// <param name="DirectiveLine">The 0-based line of that comment, or -1.</param>
/// <param name="FenceLine">The 0-based line of the opening fence; the content starts on the next line.</param>
/// <param name="Lines">The content, without the fences.</param>
internal sealed record FencedBlock(string Language, string? Directive, int DirectiveLine, int FenceLine, IReadOnlyList<string> Lines)
{
    /// <summary>The 0-based file line of the block's content line <paramref name="i"/>.</summary>
    public int FileLine(int i) => FenceLine + 1 + i;
}

/// <summary>Splits a Markdown text into its fenced code blocks (fences of three backticks at the start of a line).</summary>
internal static partial class Markdown
{
    public static IReadOnlyList<FencedBlock> Blocks(IReadOnlyList<string> lines)
    {
        var blocks = new List<FencedBlock>();
        for (var i = 0; i < lines.Count; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            var language = lines[i][3..].Trim();
            var end = i + 1;
            while (end < lines.Count && lines[end].TrimEnd() != "```")
            {
                end++;
            }

            if (end == lines.Count)
            {
                throw new FormatException($"line {i + 1}: the code block is never closed");
            }

            var (directive, directiveLine) = DirectiveAbove(lines, i);
            blocks.Add(new FencedBlock(language, directive, directiveLine, i, [.. lines.Skip(i + 1).Take(end - i - 1)]));
            i = end;
        }

        return blocks;
    }

    /// <summary>Every doc-test directive of the text, wherever it stands (one not followed by a block is a mistake).</summary>
    public static IEnumerable<int> DirectiveLines(IReadOnlyList<string> lines) =>
        Enumerable.Range(0, lines.Count).Where(i => DirectiveComment().IsMatch(lines[i]));

    private static (string? Text, int Line) DirectiveAbove(IReadOnlyList<string> lines, int fence)
    {
        var j = fence - 1;
        while (j >= 0 && lines[j].Trim().Length == 0)
        {
            j--;
        }

        if (j < 0)
        {
            return (null, -1);
        }

        var m = DirectiveComment().Match(lines[j]);
        return m.Success ? (m.Groups[1].Value.Trim(), j) : (null, -1);
    }

    [GeneratedRegex(@"^<!--\s*doctest:(.*?)-->\s*$")]
    private static partial Regex DirectiveComment();
}
