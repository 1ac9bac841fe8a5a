using System.Collections.Immutable;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Boot;

/// <summary>
/// A kernel command line split as the kernel splits it (docs/model.md §2): <c>parse_args()</c> walking
/// <c>next_arg()</c> of kernel/params.c. Parameters are separated by whitespace; a double quote starts or ends a
/// quoted stretch in which whitespace does not separate; <c>param=value</c> splits at the first <c>=</c>;
/// <c>--</c> ends the kernel's parameters and the rest goes to init.
/// </summary>
public sealed class KernelCommandLine
{
    private KernelCommandLine(string text, ImmutableArray<KernelParameter> parameters, ImmutableArray<string> initArguments)
    {
        Text = text;
        Parameters = parameters;
        InitArguments = initArguments;
    }

    /// <summary>A command line with no parameters.</summary>
    public static KernelCommandLine Empty { get; } = Parse(string.Empty);

    /// <summary>The command line as given.</summary>
    public string Text { get; }

    /// <summary>The kernel's parameters, in order (everything before a lone <c>--</c>).</summary>
    public ImmutableArray<KernelParameter> Parameters { get; }

    /// <summary>The arguments after <c>--</c>, which the kernel hands to init as its argv, as <c>param[=value]</c>.</summary>
    public ImmutableArray<string> InitArguments { get; }

    /// <summary>Splits <paramref name="text"/>; never fails, as the kernel never rejects a command line.</summary>
    public static KernelCommandLine Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // The kernel holds the command line as a C string: nothing after a NUL exists for it.
        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        var s = nul >= 0 ? text[..nul] : text;

        var parameters = ImmutableArray.CreateBuilder<KernelParameter>();
        var init = ImmutableArray.CreateBuilder<string>();
        var afterDashes = false;
        var pos = SkipSpaces(s, 0);
        while (pos < s.Length)
        {
            var parameter = NextArg(s, ref pos);
            if (parameter.Value is null && parameter.Name == "--")
            {
                // as start_kernel(): parse_args() stops at "--" and the rest is parsed again for init, by a
                // parse_args() that also stops at "--" and whose remainder nobody reads: it is dropped.
                if (afterDashes)
                {
                    break;
                }

                afterDashes = true;
                continue;
            }

            if (afterDashes)
            {
                init.Add(parameter.ToString());
            }
            else
            {
                parameters.Add(parameter);
            }
        }

        return new KernelCommandLine(text, parameters.ToImmutable(), init.ToImmutable());
    }

    /// <summary>The command line as given.</summary>
    public override string ToString() => Text;

    /// <summary>
    /// As <c>next_arg()</c>: one parameter starting at <paramref name="pos"/> (not whitespace), which is moved past
    /// it and the whitespace after it. The kernel edits the buffer in place (a NUL over the <c>=</c>, over a
    /// closing quote, over the separating space); the offsets here reproduce what those edits leave.
    /// </summary>
    private static KernelParameter NextArg(string s, ref int pos)
    {
        var inQuote = false;
        var quoted = false;
        if (s[pos] == '"')
        {
            pos++;
            inQuote = true;
            quoted = true;
        }

        var start = pos;

        // Offset of the first '=' from start; 0 means "none", so an '=' in the very first position is not taken
        // as the split and a later '=' is (the kernel's own quirk: "=a=b" is parameter "=a" with value "b").
        var equals = 0;
        var i = 0;
        for (; start + i < s.Length; i++)
        {
            var c = s[start + i];
            if (KernelCType.IsSpace(c) && !inQuote)
            {
                break;
            }

            if (equals == 0 && c == '=')
            {
                equals = i;
            }

            if (c == '"')
            {
                inQuote = !inQuote;
            }
        }

        var end = start + i;
        var endsWithQuote = i > 0 && s[end - 1] == '"';
        KernelParameter parameter;
        if (equals == 0)
        {
            // A quoted parameter loses its closing quote.
            var nameEnd = quoted && endsWithQuote ? end - 1 : end;
            parameter = new KernelParameter(s[start..nameEnd], null);
        }
        else
        {
            var valueStart = start + equals + 1;
            var valueEnd = end;

            // "Don't include quotes in value": a value that starts with a quote loses it, and the closing quote
            // at the very end of the parameter goes too.
            if (valueStart < end && s[valueStart] == '"')
            {
                valueStart++;
                if (endsWithQuote)
                {
                    valueEnd = end - 1;
                }
            }

            if (quoted && endsWithQuote)
            {
                valueEnd = Math.Min(valueEnd, end - 1);
            }

            parameter = new KernelParameter(
                s[start..(start + equals)],
                valueEnd > valueStart ? s[valueStart..valueEnd] : string.Empty);
        }

        pos = SkipSpaces(s, end < s.Length ? end + 1 : end);
        return parameter;
    }

    private static int SkipSpaces(string s, int pos)
    {
        while (pos < s.Length && KernelCType.IsSpace(s[pos]))
        {
            pos++;
        }

        return pos;
    }
}
