using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Tests.Cpus;

/// <summary>The two print forms of a mask: <c>%*pbl</c> (<see cref="CpuMask.ToList"/>) and <c>%*pb</c> (<see cref="CpuMask.ToHex"/>).</summary>
public class CpuMaskFormatTests
{
    [Fact]
    public void Empty_set_prints_as_an_empty_list() => Assert.Equal("", CpuMask.Empty(8).ToList());

    [Fact]
    public void A_lone_cpu_prints_as_its_number() => Assert.Equal("5", CpuMask.Of(8, 5).ToList());

    [Fact]
    public void A_run_of_two_prints_as_a_range() => Assert.Equal("2-3", CpuMask.Of(8, 2, 3).ToList());

    [Fact]
    public void Runs_print_ascending_and_comma_separated() =>
        Assert.Equal("0,2-4,7", CpuMask.Of(8, 7, 3, 0, 2, 4).ToList());

    [Fact]
    public void A_full_mask_prints_as_one_range() => Assert.Equal("0-4095", CpuMask.Full(4096).ToList());

    [Fact]
    public void A_run_crossing_a_word_boundary_stays_one_range() =>
        Assert.Equal("62-65", CpuMask.Range(128, 62, 65).ToList());

    [Fact]
    public void Hex_of_23_bits_all_set_has_just_enough_digits() => Assert.Equal("7fffff", CpuMask.Full(23).ToHex());

    [Fact]
    public void Hex_of_23_bits_none_set_keeps_its_width() => Assert.Equal("000000", CpuMask.Empty(23).ToHex());

    [Fact]
    public void Hex_of_64_bits_is_two_words_most_significant_first()
    {
        var b = new CpuMask.Builder(64);
        const ulong value = 0x3333333311111111UL;
        for (var i = 0; i < 64; i++)
        {
            if ((value & (1UL << i)) != 0)
            {
                b.Set(i);
            }
        }

        Assert.Equal("33333333,11111111", b.ToMask().ToHex());
    }

    [Theory]
    [InlineData(1, "", "0")]
    [InlineData(1, "0", "1")]
    [InlineData(8, "0-3", "0f")]
    [InlineData(32, "0-31", "ffffffff")]
    [InlineData(33, "0-32", "1,ffffffff")]
    [InlineData(36, "32", "1,00000000")]
    [InlineData(96, "64", "00000001,00000000,00000000")]
    public void Hex_words_are_8_digits_except_the_top_one(int nbits, string list, string hex) =>
        Assert.Equal(hex, CpuList.ParseOrThrow(list, nbits).ToHex());
}
