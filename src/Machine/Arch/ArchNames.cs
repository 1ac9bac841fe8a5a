namespace TaskIsolation.Machine.Arch;

/// <summary>
/// The canonical names of <see cref="Arch"/> as users write them in a machine configuration (docs/model.md §2):
/// <c>x86_64</c>, <c>arm64</c>, <c>tile</c> — the kernel's own <c>ARCH=</c> / <c>uname -m</c> spellings.
/// </summary>
public static class ArchNames
{
    /// <summary>The canonical names, in <see cref="Arch"/> order.</summary>
    public static IReadOnlyList<string> All { get; } = Array.AsReadOnly(Array.ConvertAll(Enum.GetValues<Arch>(), Name));

    /// <summary>The canonical name of <paramref name="arch"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="Arch"/>.</exception>
    public static string Name(Arch arch) => arch switch
    {
        Arch.X86_64 => "x86_64",
        Arch.Arm64 => "arm64",
        Arch.Tile => "tile",
        _ => throw new ArgumentOutOfRangeException(nameof(arch), arch, "not an architecture the model knows"),
    };

    /// <summary>
    /// The architecture named <paramref name="name"/>. Only the canonical names are accepted (compared without
    /// regard to case), so a configuration names one architecture exactly one way.
    /// </summary>
    /// <returns>False, with <paramref name="arch"/> at its default, when the name is not one of <see cref="All"/>.</returns>
    public static bool TryParse(string? name, out Arch arch)
    {
        foreach (var candidate in Enum.GetValues<Arch>())
        {
            if (string.Equals(name, Name(candidate), StringComparison.OrdinalIgnoreCase))
            {
                arch = candidate;
                return true;
            }
        }

        arch = default;
        return false;
    }

    /// <summary>The architecture named <paramref name="name"/>; see <see cref="TryParse"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="FormatException">The name is not one of <see cref="All"/>; the message lists them.</exception>
    public static Arch Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (TryParse(name, out var arch))
        {
            return arch;
        }

        throw new FormatException($"unknown architecture '{name}' (expected one of: {string.Join(", ", All)})");
    }
}
