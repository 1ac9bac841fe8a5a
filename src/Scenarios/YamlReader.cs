using System.Globalization;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using YamlDotNet.RepresentationModel;

namespace TaskIsolation.Scenarios;

/// <summary>
/// Typed reads of YAML nodes that never throw: a value of the wrong type is recorded as an error at the node's place
/// and the read returns null, so the loader goes on and reports every problem of a file at once.
/// </summary>
internal sealed class YamlReader(string file)
{
    private readonly List<ScenarioError> _errors = [];

    public IReadOnlyList<ScenarioError> Errors => _errors;

    public void Error(YamlNode? node, string message)
    {
        var (line, col) = node is null ? (1, 1) : ((int)Math.Max(1, node.Start.Line), (int)Math.Max(1, node.Start.Column));
        _errors.Add(new ScenarioError(file, line, col, OneLine(message)));
    }

    public void Error(int line, int column, string message) =>
        _errors.Add(new ScenarioError(file, Math.Max(1, line), Math.Max(1, column), OneLine(message)));

    /// <summary>A message quoting user text on one line: control characters as C escapes.</summary>
    private static string OneLine(string message) =>
        message.Any(char.IsControl)
            ? string.Concat(message.Select(c => c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            }))
            : message;

    /// <summary>A YAML null: an empty plain scalar, <c>~</c> or <c>null</c>.</summary>
    public static bool IsNull(YamlNode? node) =>
        node is null || (node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any } s
            && (s.Value is null or "" or "~" or "null" or "Null" or "NULL"));

    /// <summary>How a node reads in a message: <c>a mapping</c>, <c>'abc'</c>.</summary>
    public static string Shown(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ when IsNull(node) => "nothing",
        YamlScalarNode s => "'" + Clip(s.Value ?? string.Empty) + "'",
        _ => "an alias",
    };

    /// <summary>
    /// Text from the file as a message quotes it: on one line (line breaks, the Unicode line and paragraph separators
    /// and other control characters escaped) and at most <paramref name="max"/> characters.
    /// </summary>
    public static string Clip(string s, int max = 60)
    {
        var one = new System.Text.StringBuilder(s.Length);
        foreach (var c in s)
        {
            _ = c switch
            {
                '\n' => one.Append("\\n"),
                '\r' => one.Append("\\r"),
                '\t' => one.Append("\\t"),
                _ when char.IsControl(c) || c is '\u2028' or '\u2029' => one.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => one.Append(c),
            };
        }

        return one.Length > max ? one.ToString(0, max - 3) + "..." : one.ToString();
    }

    /// <summary>
    /// The fields of a mapping, checked against <paramref name="known"/>: an unknown key is an error with a
    /// suggestion, a key that is not a plain word is an error, a duplicate is an error.
    /// </summary>
    public Dictionary<string, (YamlNode Key, YamlNode Value)>? Fields(YamlNode node, string what, IReadOnlyList<string> known)
    {
        if (node is not YamlMappingNode map)
        {
            Error(node, $"{what}: found {Shown(node)}, expected a mapping with keys {string.Join(", ", known)}");
            return null;
        }

        var fields = new Dictionary<string, (YamlNode, YamlNode)>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode { Value: { } key })
            {
                Error(k, $"{what}: found {Shown(k)} as a key, expected one of {string.Join(", ", known)}");
                continue;
            }

            if (!known.Contains(key))
            {
                Error(k, $"{what}: unknown key '{Clip(key)}'{ScenarioNames.DidYouMean(key, known)}, expected one of {string.Join(", ", known)}");
                continue;
            }

            if (!fields.TryAdd(key, (k, v)))
            {
                Error(k, $"{what}: key '{key}' given twice");
            }
        }

        return fields;
    }

    /// <summary>The single key of a one-key mapping (<c>compute: 2ms</c>), or a bare word (<c>wait</c>).</summary>
    public (string Key, YamlNode KeyNode, YamlNode? Value)? Tagged(YamlNode node, string what, IReadOnlyList<string> known)
    {
        switch (node)
        {
            case YamlScalarNode { Value: { Length: > 0 } word } s when !IsNull(s):
                if (!known.Contains(word))
                {
                    Error(node, $"{what}: unknown '{Clip(word)}'{ScenarioNames.DidYouMean(word, known)}, expected one of {string.Join(", ", known)}");
                    return null;
                }

                return (word, node, null);
            case YamlMappingNode { Children.Count: 1 } map:
                var (k, v) = map.Children.First();
                if (k is not YamlScalarNode { Value: { } key })
                {
                    Error(k, $"{what}: found {Shown(k)} as a key, expected one of {string.Join(", ", known)}");
                    return null;
                }

                if (!known.Contains(key))
                {
                    Error(k, $"{what}: unknown '{Clip(key)}'{ScenarioNames.DidYouMean(key, known)}, expected one of {string.Join(", ", known)}");
                    return null;
                }

                return (key, k, v);
            case YamlMappingNode map:
                Error(node, $"{what}: found a mapping with {map.Children.Count} keys, expected exactly one of {string.Join(", ", known)} (start a new '- ' item for each)");
                return null;
            default:
                Error(node, $"{what}: found {Shown(node)}, expected one of {string.Join(", ", known)}");
                return null;
        }
    }

    public string? Scalar(YamlNode node, string what, string expected)
    {
        if (node is YamlScalarNode { Value: { } v } && !IsNull(node))
        {
            return v;
        }

        Error(node, $"{what}: found {Shown(node)}, expected {expected}");
        return null;
    }

    /// <summary>A string (a quoted or plain scalar; empty is allowed when quoted).</summary>
    public string? Text(YamlNode node, string what)
    {
        if (node is YamlScalarNode s && !IsNull(s))
        {
            return s.Value ?? string.Empty;
        }

        Error(node, $"{what}: found {Shown(node)}, expected text");
        return null;
    }

    public long? Integer(YamlNode node, string what, long min, long max)
    {
        var s = Scalar(node, what, "a whole number");
        if (s is null)
        {
            return null;
        }

        if (!TryParseInteger(s, out var value))
        {
            Error(node, $"{what}: found '{Clip(s)}', expected a whole number");
            return null;
        }

        if (value < min || value > max)
        {
            Error(node, string.Create(CultureInfo.InvariantCulture, $"{what}: {value} is out of range, expected {min} to {max}"));
            return null;
        }

        return value;
    }

    /// <summary>An unsigned 64-bit value, decimal or <c>0x</c> hex (addresses, lengths, prctl arguments).</summary>
    public ulong? Unsigned(YamlNode node, string what, ulong min = 0)
    {
        var s = Scalar(node, what, "a whole number (decimal or 0x hex)");
        if (s is null)
        {
            return null;
        }

        var t = s.Trim();
        var ok = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)
            : ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok)
        {
            Error(node, $"{what}: found '{Clip(s)}', expected a whole number 0 to 18446744073709551615 (decimal or 0x hex)");
            return null;
        }

        if (v < min)
        {
            Error(node, string.Create(CultureInfo.InvariantCulture, $"{what}: {v} is too small, expected at least {min}"));
            return null;
        }

        return v;
    }

    public bool? Bool(YamlNode node, string what)
    {
        var s = Scalar(node, what, "true or false");
        switch (s)
        {
            case null:
                return null;
            case "true" or "True" or "TRUE" or "yes" or "y" or "on":
                return true;
            case "false" or "False" or "FALSE" or "no" or "n" or "off":
                return false;
            default:
                Error(node, $"{what}: found '{Clip(s)}', expected true or false");
                return null;
        }
    }

    public long? Duration(YamlNode node, string what, bool positive)
    {
        var s = Scalar(node, what, "a duration such as 500us, 2ms, 1.5s or 10m");
        if (s is null)
        {
            return null;
        }

        var ns = ScenarioNames.ParseDuration(s, out var error);
        if (ns is null)
        {
            Error(node, $"{what}: {error}");
            return null;
        }

        if (positive && ns == 0)
        {
            Error(node, $"{what}: found '{Clip(s)}', expected a duration above 0");
            return null;
        }

        return ns;
    }

    /// <summary>A CPU list over <paramref name="nbits"/> CPUs (<c>cpulist_parse()</c>, §3); a YAML list of numbers is
    /// read as the same list joined with commas.</summary>
    public CpuMask? Cpus(YamlNode node, string what, int nbits, bool nonEmpty = true)
    {
        string? text;
        if (node is YamlSequenceNode seq)
        {
            var parts = new List<string>();
            foreach (var item in seq.Children)
            {
                if (Scalar(item, what, "a CPU number") is { } p)
                {
                    parts.Add(p);
                }
                else
                {
                    return null;
                }
            }

            text = string.Join(",", parts);
        }
        else
        {
            text = Scalar(node, what, "a CPU list such as 1-3 or 0,2");
        }

        if (text is null)
        {
            return null;
        }

        var result = CpuList.Parse(text, nbits);
        if (!result.IsSuccess)
        {
            Error(node, $"{what}: invalid CPU list: {result.Describe()}");
            return null;
        }

        if (nonEmpty && result.Mask.IsEmpty)
        {
            Error(node, $"{what}: '{Clip(text)}' names no CPU, expected at least one");
            return null;
        }

        return result.Mask;
    }

    /// <summary>A signal name (<c>SIGUSR1</c>, <c>usr1</c>) or number within [<paramref name="min"/>, 64].</summary>
    public int? SignalNumber(YamlNode node, string what, int min)
    {
        var s = Scalar(node, what, "a signal such as SIGKILL, SIGUSR1 or 10");
        if (s is null)
        {
            return null;
        }

        if (!Signal.TryParse(s, out var sig) || sig < min)
        {
            Error(node, $"{what}: found '{Clip(s)}', expected a signal name such as SIGKILL or SIGUSR1, or a number {min} to {Signal.Max}");
            return null;
        }

        return sig;
    }

    /// <summary>A task name: 1 to 15 characters (TASK_COMM_LEN - 1) of letters, digits and <c>_ . - + :</c>.</summary>
    public string? TaskName(YamlNode node, string what)
    {
        var s = Scalar(node, what, "a task name");
        if (s is null)
        {
            return null;
        }

        if (s.Length is 0 or > 15 || !s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '+' or ':'))
        {
            Error(node, $"{what}: '{Clip(s)}' is not a task name: 1 to 15 characters (the kernel's comm), letters, digits and _ . - + :");
            return null;
        }

        return s;
    }

    public static bool TryParseInteger(string s, out long value)
    {
        var t = s.Trim();
        var negative = t.StartsWith('-');
        var body = negative || t.StartsWith('+') ? t[1..] : t;
        bool ok;
        ulong magnitude;
        if (body.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            ok = ulong.TryParse(body.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out magnitude);
        }
        else
        {
            ok = ulong.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out magnitude);
        }

        value = 0;
        if (!ok || body.Length == 0 || magnitude > (ulong)long.MaxValue)
        {
            return false;
        }

        value = negative ? -(long)magnitude : (long)magnitude;
        return true;
    }
}
