namespace TaskIsolation.Machine.Cpus;

/// <summary>
/// The kernel's <c>&lt;linux/ctype.h&gt;</c> tests that its parsers use, on ASCII. The kernel's table is Latin-1
/// and also counts 0xA0 as space and 0xC0–0xFF as letters; a command line is UTF-8, where those byte values only
/// occur inside multi-byte characters, so a non-ASCII <see cref="char"/> is neither.
/// </summary>
internal static class KernelCType
{
    /// <summary><c>isspace()</c>: space, \t, \n, \v, \f, \r.</summary>
    public static bool IsSpace(char c) => c == ' ' || (c >= '\t' && c <= '\r');

    /// <summary><c>isalpha()</c>.</summary>
    public static bool IsAlpha(char c) => char.IsAsciiLetter(c);
}
