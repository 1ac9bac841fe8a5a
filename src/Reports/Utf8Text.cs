using System.Globalization;
using System.Text;

namespace TaskIsolation.Reports;

/// <summary>Where a file stops being UTF-8: the first invalid byte, by its offset and by line and column.</summary>
/// <param name="Offset">0-based byte offset of the first invalid byte.</param>
/// <param name="Value">That byte.</param>
/// <param name="Line">1-based line it is on.</param>
/// <param name="Column">1-based column (in characters of the valid text before it on that line).</param>
public sealed record Utf8Error(long Offset, byte Value, int Line, int Column)
{
    /// <summary>One line for a message: <c>invalid UTF-8 at byte offset 12 (0xFF), line 2, column 5</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"invalid UTF-8 at byte offset {Offset} (0x{Value:X2}), line {Line}, column {Column}");
}

/// <summary>
/// Input files (scenarios, reproducers, HOCON configuration) are UTF-8: decoded strictly, so that a file in another
/// encoding is refused naming its first invalid byte rather than read with replacement characters. A byte order mark
/// is skipped, as <see cref="File.ReadAllText(string)"/> skips it.
/// </summary>
public static class Utf8Text
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The text of <paramref name="bytes"/>, or null with where it is not UTF-8 in <paramref name="error"/>.</summary>
    public static string? Decode(byte[] bytes, out Utf8Error? error)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        try
        {
            error = null;
            return Strict.GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException)
        {
            error = Find(bytes, start);
            return null;
        }
    }

    /// <summary>The first invalid byte from <paramref name="start"/> on, found sequence by sequence.</summary>
    private static Utf8Error Find(byte[] bytes, int start)
    {
        int line = 1, column = 1;
        var i = start;
        while (i < bytes.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(bytes.AsSpan(i), out var rune, out var consumed);
            if (status != System.Buffers.OperationStatus.Done)
            {
                return new Utf8Error(i, bytes[i], line, column);
            }

            if (rune.Value == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column += rune.Utf16SequenceLength;
            }

            i += consumed;
        }

        // The decoder refused what Rune accepts: should not happen; point at the end.
        return new Utf8Error(bytes.Length, 0, line, column);
    }
}
