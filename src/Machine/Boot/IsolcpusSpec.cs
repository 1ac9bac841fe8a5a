using System.Collections.Immutable;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Boot;

/// <summary>What an <c>isolcpus=</c> value asks to isolate the CPUs from.</summary>
[Flags]
public enum IsolcpusFlags
{
    /// <summary>No flag given.</summary>
    None = 0,

    /// <summary><c>domain</c>: out of the scheduler's load-balancing domains (the 4.7 meaning, and the default).</summary>
    Domain = 1,

    /// <summary><c>nohz</c>: full dynticks, as <c>nohz_full=</c> (needs CONFIG_NO_HZ_FULL).</summary>
    Nohz = 2,

    /// <summary><c>managed_irq</c>: kept out of managed device interrupts' affinity where possible.</summary>
    ManagedIrq = 4,
}

/// <summary>
/// An <c>isolcpus=</c> value split into its flags and its CPU list. 4.7 knows only the plain list; the flag forms
/// (<c>isolcpus=nohz,domain,1-7</c>) come from 4.15's <c>housekeeping_isolcpus_setup()</c>, followed here with the
/// 5.13 fix that skips an unknown flag's comma only when there is one.
/// </summary>
/// <param name="Flags">The flags; <see cref="IsolcpusFlags.Domain"/> when none is given.</param>
/// <param name="List">The CPU list after the flags.</param>
/// <param name="SkippedFlags">Unknown all-letter flags, skipped with an info message each.</param>
/// <param name="InvalidFlag">An unknown flag with a character other than a letter or '_', which makes the kernel
/// reject the whole parameter; null when there is none.</param>
public sealed record IsolcpusSpec(IsolcpusFlags Flags, string List, ImmutableArray<string> SkippedFlags, string? InvalidFlag)
{
    /// <summary>Splits <paramref name="value"/> as <c>housekeeping_isolcpus_setup()</c>: flags are read while the
    /// text starts with a letter, so a list must start with a digit (not <c>all</c> or <c>N</c>) to be one.</summary>
    public static IsolcpusSpec Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var flags = IsolcpusFlags.None;
        var skipped = ImmutableArray.CreateBuilder<string>();
        var pos = 0;
        while (pos < value.Length && KernelCType.IsAlpha(value[pos]))
        {
            if (TryFlag(value, ref pos, "nohz,"))
            {
                flags |= IsolcpusFlags.Nohz;
                continue;
            }

            if (TryFlag(value, ref pos, "domain,"))
            {
                flags |= IsolcpusFlags.Domain;
                continue;
            }

            if (TryFlag(value, ref pos, "managed_irq,"))
            {
                flags |= IsolcpusFlags.ManagedIrq;
                continue;
            }

            var start = pos;
            var illegal = false;
            while (pos < value.Length && value[pos] != ',' && value[pos] != '\0')
            {
                illegal |= !KernelCType.IsAlpha(value[pos]) && value[pos] != '_';
                pos++;
            }

            var flag = value[start..pos];
            if (illegal)
            {
                return new IsolcpusSpec(flags, string.Empty, skipped.ToImmutable(), flag);
            }

            skipped.Add(flag);
            if (pos < value.Length && value[pos] == ',')
            {
                pos++;
            }
        }

        if (flags == IsolcpusFlags.None)
        {
            flags = IsolcpusFlags.Domain;
        }

        return new IsolcpusSpec(flags, value[pos..], skipped.ToImmutable(), null);
    }

    /// <summary>Value equality, including the skipped flags' contents (an <see cref="ImmutableArray{T}"/> alone
    /// compares by reference).</summary>
    public bool Equals(IsolcpusSpec? other) =>
        other is not null
        && Flags == other.Flags
        && List == other.List
        && InvalidFlag == other.InvalidFlag
        && SkippedFlags.SequenceEqual(other.SkippedFlags);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Flags, List, InvalidFlag, SkippedFlags.Length);

    private static bool TryFlag(string value, ref int pos, string flag)
    {
        // strncmp(str, flag, strlen(flag)): case-sensitive, comma included.
        if (!value.AsSpan(pos).StartsWith(flag, StringComparison.Ordinal))
        {
            return false;
        }

        pos += flag.Length;
        return true;
    }
}
