using System.Globalization;
using System.Text;

namespace TaskIsolation.Host;

/// <summary>
/// Error messages as <c>taskisol</c> prints them: one line each. Text a user gave (a path, an option's value, a key of
/// a scenario) is echoed with its line breaks and other control characters escaped, so that no message spans two
/// lines and none can forge a line of its own: <c>\n</c>, <c>\r</c>, <c>\t</c>, and <c>\uXXXX</c> for the rest,
/// including the Unicode line and paragraph separators (U+2028, U+2029) and NEL (U+0085).
/// </summary>
internal static class ErrorText
{
    /// <summary><paramref name="text"/> on one line, its line breaks and control characters escaped.</summary>
    public static string OneLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var i = 0;
        while (i < text.Length && !NeedsEscape(text[i]))
        {
            i++;
        }

        if (i == text.Length)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16).Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            var c = text[i];
            _ = c switch
            {
                '\n' => sb.Append("\\n"),
                '\r' => sb.Append("\\r"),
                '\t' => sb.Append("\\t"),
                _ when NeedsEscape(c) => sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => sb.Append(c),
            };
        }

        return sb.ToString();
    }

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
