using System.Globalization;
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Tests.Cpus;

/// <summary>Property tests of the CPU list parser and printers over random masks and random text.</summary>
public class CpuListProperties
{
    [Property(MaxTest = 300, Arbitrary = [typeof(CpuListArbitraries)])]
    public bool Printing_then_parsing_gives_the_same_mask(CpuMask mask) =>
        CpuList.ParseOrThrow(mask.ToList(), mask.NBits) == mask;

    [Property(MaxTest = 300, Arbitrary = [typeof(CpuListArbitraries)])]
    public bool Hex_form_reads_back_as_the_same_bits(CpuMask mask)
    {
        var hex = mask.ToHex();
        var chunks = hex.Split(',');
        var value = BigInteger.Parse("0" + string.Concat(chunks), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var expected = mask.Aggregate(BigInteger.Zero, (acc, cpu) => acc | (BigInteger.One << cpu));
        var topBits = mask.NBits - (32 * (chunks.Length - 1));
        return value == expected
            && chunks.Length == (mask.NBits + 31) / 32
            && chunks.Skip(1).All(c => c.Length == 8)
            && chunks[0].Length == (topBits + 3) / 4;
    }

    [Property(MaxTest = 500, Arbitrary = [typeof(CpuListArbitraries)])]
    public bool Arbitrary_text_never_throws_anything_but_the_parsers_own_error(ListText input)
    {
        var result = CpuList.Parse(input.Text, input.NBits);
        try
        {
            CpuList.ParseOrThrow(input.Text, input.NBits);
            return result.IsSuccess;
        }
        catch (CpuListException ex)
        {
            return !result.IsSuccess && ex.Result == result;
        }
    }

    [Property(MaxTest = 500, Arbitrary = [typeof(CpuListArbitraries)])]
    public bool A_failed_parse_keeps_exactly_the_regions_before_the_failing_one(ListText input)
    {
        var result = CpuList.Parse(input.Text, input.NBits);
        if (result.IsSuccess)
        {
            return result.Region is null && result.Mask.NBits == input.NBits;
        }

        var before = CpuList.Parse(input.Text[..result.RegionOffset], input.NBits);
        return before.IsSuccess
            && before.Mask == result.Mask
            && input.Text.AsSpan(result.RegionOffset).StartsWith(result.Region);
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(CpuListArbitraries)])]
    public bool Separators_around_a_printed_list_change_nothing(CpuMask mask)
    {
        var spaced = " ,\t" + mask.ToList().Replace(",", " , ", StringComparison.Ordinal) + ",\n";
        return CpuList.ParseOrThrow(spaced, mask.NBits) == mask;
    }
}

/// <summary>A string to parse and the mask size to parse it into.</summary>
public sealed record ListText(string Text, int NBits)
{
    /// <summary>Shown by FsCheck on failure; escapes make newlines and NULs visible.</summary>
    public override string ToString() =>
        $"\"{Text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal)}\" over {NBits} bits";
}

/// <summary>Generators: masks of 1 to 4096 bits built from random runs, and list-like text.</summary>
public static class CpuListArbitraries
{
    public static Arbitrary<CpuMask> Masks() =>
        Arb.From(
            from nbits in Gen.Frequency((3, Gen.Choose(1, 130)), (2, Gen.Choose(1, 4096)))
            from shape in Gen.Choose(0, 9)
            from runs in Gen.ListOf(Run(nbits))
            select Build(nbits, shape, runs));

    public static Arbitrary<ListText> Texts()
    {
        // Mostly the list alphabet, so the parser gets deep; sometimes any character at all.
        var listChar = Gen.Elements("0123456789012345-,,:/ N\nallALx\t\0+.".ToCharArray());
        var anyChar = Gen.Choose(0, 0xFFFF).Select(c => (char)c);
        var token = Gen.Frequency(
            (6, listChar.Select(c => c.ToString())),
            (1, anyChar.Select(c => c.ToString())),
            (2, Gen.Elements("all", "N", "4294967295", "4294967296", "99999999999", "0-7:1/2", "1-", "--")));
        var text = Gen.ListOf(token).Select(string.Concat);
        return Arb.From(
            from t in text
            from nbits in Gen.Frequency((4, Gen.Choose(1, 64)), (1, Gen.Choose(0, 4096)))
            select new ListText(t, nbits));
    }

    private static Gen<(int Start, int Length)> Run(int nbits) =>
        from start in Gen.Choose(0, nbits - 1)
        from length in Gen.Frequency((3, Gen.Choose(1, 3)), (1, Gen.Choose(1, Math.Max(1, nbits / 4))))
        select (start, length);

    private static CpuMask Build(int nbits, int shape, IEnumerable<(int Start, int Length)> runs)
    {
        // Empty and full masks are edge cases worth a steady share of the cases.
        if (shape == 0)
        {
            return CpuMask.Empty(nbits);
        }

        if (shape == 1)
        {
            return CpuMask.Full(nbits);
        }

        var b = new CpuMask.Builder(nbits);
        foreach (var (start, length) in runs)
        {
            for (var cpu = start; cpu < Math.Min(nbits, start + length); cpu++)
            {
                b.Set(cpu);
            }
        }

        return b.ToMask();
    }
}
