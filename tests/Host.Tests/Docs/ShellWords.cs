using System.Text;

namespace TaskIsolation.Host.Tests.Docs;

/// <summary>A word of a shell command line; <see cref="Plain"/> when no part of it was quoted or escaped.</summary>
internal sealed record ShellWord(string Text, bool Plain)
{
    /// <summary>Whether the word is a shell operator that ends a command (a pipe, a list, a redirection, a comment).</summary>
    public bool IsOperator => Plain && (Text is "|" or "||" or "&" or "&&" or ";" || Text.StartsWith('>') || Text.StartsWith("2>", StringComparison.Ordinal) || Text.StartsWith('<') || Text.StartsWith('#'));
}

/// <summary>Splits a command line into words as a POSIX shell does for the forms the docs use: blanks, single and
/// double quotes, backslash escapes; no expansion.</summary>
internal static class ShellWords
{
    public static IReadOnlyList<ShellWord> Split(string line)
    {
        var words = new List<ShellWord>();
        var current = new StringBuilder();
        var inWord = false;
        var plain = true;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c is ' ' or '\t')
            {
                Flush();
                continue;
            }

            inWord = true;
            switch (c)
            {
                case '\'':
                    plain = false;
                    var close = line.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        throw new FormatException($"unclosed ' in: {line}");
                    }

                    current.Append(line, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    plain = false;
                    for (i++; i < line.Length && line[i] != '"'; i++)
                    {
                        if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            i++;
                        }

                        current.Append(line[i]);
                    }

                    if (i >= line.Length)
                    {
                        throw new FormatException($"unclosed \" in: {line}");
                    }

                    break;
                case '\\' when i + 1 < line.Length:
                    plain = false;
                    current.Append(line[++i]);
                    break;
                default:
                    current.Append(c);
                    break;
            }
        }

        Flush();
        return words;

        void Flush()
        {
            if (inWord)
            {
                words.Add(new ShellWord(current.ToString(), plain));
            }

            current.Clear();
            inWord = false;
            plain = true;
        }
    }
}
