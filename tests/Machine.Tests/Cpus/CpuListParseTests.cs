using TaskIsolation.Machine.Cpus;

namespace TaskIsolation.Machine.Tests.Cpus;

/// <summary>Table tests of <see cref="CpuList.Parse"/> against lib/bitmap.c's bitmap_parselist().</summary>
public class CpuListParseTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("0", "0")]
    [InlineData("0-3", "0-3")]
    [InlineData("0-3,5", "0-3,5")]
    [InlineData("1,3,5-7", "1,3,5-7")]
    [InlineData("1-3,2-4", "1-4")]
    [InlineData("5,1", "1,5")]
    [InlineData("0-0", "0")]
    [InlineData("007", "7")]
    [InlineData("00-03", "0-3")]
    public void Plain_lists_parse_to_their_cpus(string text, string expected) =>
        Assert.Equal(expected, ParseOk(text, 8));

    [Theory]
    [InlineData(",1,,2,", "1-2")]
    [InlineData(",,,", "")]
    [InlineData("   ", "")]
    [InlineData(" 1 2\t3 ", "1-3")]
    [InlineData("1 ,\t, 4", "1,4")]
    [InlineData("\v1\f2\r", "1-2")]
    public void Empty_regions_and_whitespace_separators_are_accepted(string text, string expected) =>
        Assert.Equal(expected, ParseOk(text, 8));

    [Fact]
    public void Trailing_separator_is_accepted() => Assert.Equal("1-2", ParseOk("1-2,", 8));

    [Fact]
    public void Leading_separator_is_accepted() => Assert.Equal("1-2", ParseOk(",1-2", 8));

    [Theory]
    [InlineData("1\n", "1")]
    [InlineData("1\n2", "1")]
    [InlineData("1-2\nx", "1-2")]
    [InlineData("all\n3", "0-7")]
    [InlineData("3\0garbage", "3")]
    [InlineData("\0", "")]
    public void A_newline_after_a_region_or_a_nul_ends_the_list(string text, string expected) =>
        Assert.Equal(expected, ParseOk(text, 8));

    [Theory]
    [InlineData("\n5", "5")]
    [InlineData("1,\n2", "1-2")]
    [InlineData("1 \n2", "1-2")]
    [InlineData("0-7:1/2\n5", "0,2,4-6")]
    public void A_newline_anywhere_else_is_whitespace_as_in_bitmap_find_region(string text, string expected) =>
        Assert.Equal(expected, ParseOk(text, 8));

    [Theory]
    [InlineData("all", "0-7")]
    [InlineData("ALL", "0-7")]
    [InlineData("aLl", "0-7")]
    [InlineData("all,3", "0-7")]
    [InlineData("all:1/2", "0,2,4,6")]
    [InlineData("ALL:2/4", "0-1,4-5")]
    public void All_in_any_case_is_every_cpu_and_takes_a_pattern(string text, string expected) =>
        Assert.Equal(expected, ParseOk(text, 8));

    [Theory]
    [InlineData("N", "7")]
    [InlineData("0-N", "0-7")]
    [InlineData("N-N", "7")]
    [InlineData("4-N", "4-7")]
    [InlineData("0-N:2/4", "0-1,4-5")]
    [InlineData("0-N:N/N", "0-7")]
    public void N_stands_for_the_last_cpu_wherever_a_number_may(string text, string expected) =>
        Assert.Equal(expected, ParseOk(text, 8));

    [Theory]
    [InlineData("0-7:1/2", "0,2,4,6")]
    [InlineData("1-7:1/2", "1,3,5,7")]
    [InlineData("0-6:2/3", "0-1,3-4,6")]
    [InlineData("0-7:0/4", "")]
    [InlineData("0-7:4/4", "0-7")]
    [InlineData("2-3:1/100", "2")]
    [InlineData("1-5:1/4294967295", "1")]
    public void Used_over_group_sets_the_first_bits_of_each_group_never_past_the_end(string text, string expected) =>
        Assert.Equal(expected, ParseOk(text, 8));

    [Fact]
    public void Kernel_documentation_example_of_a_pattern_holds() =>
        Assert.Equal("0-1,256-257,512-513,768-769", ParseOk("0-1023:2/256", 1024));

    [Theory]
    // A missing number.
    [InlineData("1-", CpuListError.EINVAL, "1-", 0)]
    [InlineData("-1", CpuListError.EINVAL, "-1", 0)]
    [InlineData("1--2", CpuListError.EINVAL, "1--2", 0)]
    [InlineData("1-2:", CpuListError.EINVAL, "1-2:", 0)]
    [InlineData("1-2:1/", CpuListError.EINVAL, "1-2:1/", 0)]
    [InlineData("x", CpuListError.EINVAL, "x", 0)]
    [InlineData("+1", CpuListError.EINVAL, "+1", 0)]
    [InlineData("n", CpuListError.EINVAL, "n", 0)]
    [InlineData("al", CpuListError.EINVAL, "al", 0)]
    [InlineData("1-\n", CpuListError.EINVAL, "1-", 0)]
    // A number past 32 bits.
    [InlineData("4294967296", CpuListError.EOVERFLOW, "4294967296", 0)]
    [InlineData("0-99999999999", CpuListError.EOVERFLOW, "0-99999999999", 0)]
    [InlineData("0-7:99999999999/1", CpuListError.EOVERFLOW, "0-7:99999999999/1", 0)]
    [InlineData("0-7:1/99999999999999999999999", CpuListError.EOVERFLOW, "0-7:1/99999999999999999999999", 0)]
    // An unexpected character.
    [InlineData("0x3", CpuListError.EINVAL, "0x3", 0)]
    [InlineData("1.5", CpuListError.EINVAL, "1.5", 0)]
    [InlineData("1-2x", CpuListError.EINVAL, "1-2x", 0)]
    [InlineData("1-2:1", CpuListError.EINVAL, "1-2:1", 0)]
    [InlineData("1-2:1-2", CpuListError.EINVAL, "1-2:1-2", 0)]
    [InlineData("allx", CpuListError.EINVAL, "allx", 0)]
    [InlineData("all-3", CpuListError.EINVAL, "all-3", 0)]
    [InlineData("NN", CpuListError.EINVAL, "NN", 0)]
    [InlineData("5:1/2", CpuListError.EINVAL, "5:1/2", 0)]
    [InlineData("1;2", CpuListError.EINVAL, "1;2", 0)]
    // A malformed region.
    [InlineData("5-1", CpuListError.EINVAL, "5-1", 0)]
    [InlineData("0-7:1/0", CpuListError.EINVAL, "0-7:1/0", 0)]
    [InlineData("0-7:3/2", CpuListError.EINVAL, "0-7:3/2", 0)]
    // Past the mask.
    [InlineData("8", CpuListError.ERANGE, "8", 0)]
    [InlineData("0-8", CpuListError.ERANGE, "0-8", 0)]
    [InlineData("6-4294967295", CpuListError.ERANGE, "6-4294967295", 0)]
    [InlineData("4294967295", CpuListError.ERANGE, "4294967295", 0)]
    public void Each_error_kind_is_reported_with_its_region(string text, CpuListError error, string region, int offset)
    {
        var result = CpuList.Parse(text, 8);

        Assert.False(result.IsSuccess);
        Assert.Equal(error, result.Error);
        Assert.Equal(region, result.Region);
        Assert.Equal(offset, result.RegionOffset);
        Assert.False(string.IsNullOrEmpty(result.Reason));
    }

    [Theory]
    // Per region: the first number is read before the second, so it decides.
    [InlineData("99999999999-x", CpuListError.EOVERFLOW)]
    [InlineData("9-x", CpuListError.EINVAL)]
    [InlineData("9-99999999999", CpuListError.EOVERFLOW)]
    // The shape is checked before the range.
    [InlineData("9-1", CpuListError.EINVAL)]
    [InlineData("0-9:3/2", CpuListError.EINVAL)]
    [InlineData("0-9:1/0", CpuListError.EINVAL)]
    [InlineData("9x", CpuListError.EINVAL)]
    public void Errors_are_checked_in_the_kernels_order(string text, CpuListError error) =>
        Assert.Equal(error, CpuList.Parse(text, 8).Error);

    [Fact]
    public void A_failing_list_keeps_the_regions_before_the_failure()
    {
        var result = CpuList.Parse("0-2,5,9,1", 8);

        Assert.Equal(CpuListError.ERANGE, result.Error);
        Assert.Equal("9", result.Region);
        Assert.Equal(6, result.RegionOffset);
        Assert.Equal("0-2,5", result.Mask.ToList());
    }

    [Fact]
    public void Garbage_after_a_pattern_is_parsed_as_the_next_region()
    {
        var result = CpuList.Parse("0-7:1/2x,3", 8);

        Assert.Equal(CpuListError.EINVAL, result.Error);
        Assert.Equal("x", result.Region);
        Assert.Equal(7, result.RegionOffset);
        Assert.Equal("0,2,4,6", result.Mask.ToList());
    }

    [Fact]
    public void A_space_inside_a_range_splits_it_into_regions()
    {
        var result = CpuList.Parse("1 -2", 8);

        Assert.Equal(CpuListError.EINVAL, result.Error);
        Assert.Equal("-2", result.Region);
        Assert.Equal(2, result.RegionOffset);
        Assert.Equal("1", result.Mask.ToList());
    }

    [Fact]
    public void A_mask_of_no_bits_accepts_only_empty_lists()
    {
        Assert.True(CpuList.Parse(" , ", 0).IsSuccess);
        Assert.Equal(CpuListError.ERANGE, CpuList.Parse("0", 0).Error);
        Assert.Equal(CpuListError.ERANGE, CpuList.Parse("N", 0).Error);
        Assert.Equal(CpuListError.ERANGE, CpuList.Parse("all", 0).Error);
    }

    [Fact]
    public void The_mask_has_the_requested_size()
    {
        var result = CpuList.Parse("1", 4096);

        Assert.Equal(4096, result.Mask.NBits);
        Assert.Equal(CpuMask.Of(4096, 1), result.Mask);
    }

    [Fact]
    public void Describe_names_the_errno_the_region_and_the_offset()
    {
        var result = CpuList.Parse("0,1-x", 8);

        Assert.Equal("EINVAL in region '1-x' at offset 2 of '0,1-x': expected a number, found 'x'", result.Describe());
    }

    [Fact]
    public void Describe_shows_a_newline_as_an_escape()
    {
        var result = CpuList.Parse("1-\n", 8);

        Assert.Equal("EINVAL in region '1-' at offset 0 of '1-\\n': missing number", result.Describe());
    }

    [Fact]
    public void Errno_values_are_the_linux_numbers()
    {
        Assert.Equal(22, (int)CpuListError.EINVAL);
        Assert.Equal(34, (int)CpuListError.ERANGE);
        Assert.Equal(75, (int)CpuListError.EOVERFLOW);
    }

    [Fact]
    public void TryParse_reports_failure_and_still_gives_the_partial_mask()
    {
        Assert.True(CpuList.TryParse("1-3", 8, out var ok));
        Assert.Equal("1-3", ok.ToList());

        Assert.False(CpuList.TryParse("1-3,x", 8, out var partial));
        Assert.Equal("1-3", partial.ToList());
    }

    [Fact]
    public void ParseOrThrow_throws_a_CpuListException_carrying_the_result()
    {
        var ex = Assert.Throws<CpuListException>(() => CpuList.ParseOrThrow("0-2,5,9", 8));

        Assert.Equal(CpuListError.ERANGE, ex.Error);
        Assert.Equal("0-2,5", ex.Result.Mask.ToList());
        Assert.Contains("ERANGE", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'9'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseOrThrow_returns_the_mask_of_a_good_list() =>
        Assert.Equal(CpuMask.Range(16, 4, 15), CpuList.ParseOrThrow("4-N", 16));

    private static string ParseOk(string text, int nbits)
    {
        var result = CpuList.Parse(text, nbits);
        Assert.True(result.IsSuccess, result.Describe());
        Assert.Null(result.Region);
        Assert.Equal(-1, result.RegionOffset);
        return result.Mask.ToList();
    }
}
