using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using TaskIsolation.Scenarios;

namespace TaskIsolation.Host;

/// <summary>
/// Options that mean the same in every command, built in one place so that they also have one type: <c>--seed</c> is
/// a 64-bit whole number wherever it is taken. Numbers are parsed here, not by System.CommandLine, so that a bad value
/// is reported in the project's words (<c>--seed: found 'abc', expected a whole number</c>) and never by a .NET type
/// name.
/// </summary>
internal static class CliOptions
{
    /// <summary>
    /// <c>--seed N</c>: a whole number from -2^63 to 2^63-1, default 1. <c>run</c> and <c>soak</c> seed a 32-bit
    /// schedule: see <see cref="RunSeed"/>.
    /// </summary>
    public static Option<long> Seed(string description) => Number<long>("--seed", description, "N", 1);

    /// <summary>
    /// The 32-bit seed of one run for a <c>--seed</c> value: the value itself from -2^31 to 2^31-1 (so that every seed
    /// a run took before keeps its run), otherwise its high half XORed into its low half.
    /// </summary>
    public static int RunSeed(long seed) =>
        seed is >= int.MinValue and <= int.MaxValue ? (int)seed : unchecked((int)(seed ^ (seed >> 32)));

    /// <summary>A whole-number option of type <typeparamref name="T"/> with its placeholder and, if given, its default.</summary>
    public static Option<T> Number<T>(string name, string description, string helpName, T? defaultValue = null)
        where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
    {
        var option = new Option<T>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = r => ParseNumber<T>(name, r) ?? default,
        };
        if (defaultValue is { } d)
        {
            option.DefaultValueFactory = _ => d;
        }

        return option;
    }

    /// <summary>A whole-number option with no default: null when it is not given.</summary>
    public static Option<T?> OptionalNumber<T>(string name, string description, string helpName)
        where T : struct, IBinaryInteger<T>, IMinMaxValue<T> => new(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = r => ParseNumber<T>(name, r),
        };

    /// <summary>
    /// The scenario argument of <c>run</c>, <c>explore</c> and <c>soak</c>, which completes the built-in scenarios'
    /// names (shell completion, <c>[suggest]</c>).
    /// </summary>
    public static Argument<T> Scenario<T>(string description)
    {
        var argument = new Argument<T>("scenario") { Description = description, HelpName = "FILE|NAME" };
        argument.CompletionSources.Add(_ => BuiltInScenarios.All.Select(s => new System.CommandLine.Completions.CompletionItem(s.Name, detail: s.Summary)));
        return argument;
    }

    private static T? ParseNumber<T>(string name, ArgumentResult r)
        where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
    {
        if (r.Tokens.Count == 0)
        {
            return null;
        }

        var text = r.Tokens[^1].Value;
        if (T.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        // Too large or too small for the option, or not a number at all: say which, in numbers.
        var range = string.Create(CultureInfo.InvariantCulture, $"{T.MinValue} to {T.MaxValue}");
        r.AddError(BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? $"{name}: '{ErrorText.OneLine(text)}' is out of range, expected a whole number from {range}"
            : $"{name}: found '{ErrorText.OneLine(text)}', expected a whole number");
        return null;
    }
}
