namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol cpulist</c> through <see cref="Program.Run"/>.</summary>
public class CpulistCommandTests
{
    [Fact]
    public void A_list_prints_back_in_the_kernels_list_form()
    {
        var r = Taskisol.Run("cpulist", "5,0-3,4,8");

        Assert.Equal(new Outcome(0, "0-5,8\n", ""), r);
    }

    [Fact]
    public void Mask_option_prints_the_hex_form()
    {
        Assert.Equal("00000000,0000002f\n", Taskisol.Run("cpulist", "--mask", "0-3,5").Out);
        Assert.Equal("7fffff\n", Taskisol.Run("cpulist", "--nbits", "23", "--mask", "all").Out);
        Assert.Equal("000000\n", Taskisol.Run("cpulist", "--nbits", "23", "--mask", "").Out);
    }

    [Fact]
    public void Nbits_defaults_to_64() => Assert.Equal("63\n", Taskisol.Run("cpulist", "N").Out);

    [Fact]
    public void Nbits_sets_what_N_and_all_mean() =>
        Assert.Equal("0-7\n", Taskisol.Run("cpulist", "--nbits", "8", "all").Out);

    [Fact]
    public void An_empty_list_prints_an_empty_line() => Assert.Equal(new Outcome(0, "\n", ""), Taskisol.Run("cpulist", ""));

    [Fact]
    public void Double_dash_lets_a_list_begin_with_a_dash()
    {
        var r = Taskisol.Run("cpulist", "--", "-1");

        Assert.Equal(2, r.Exit);
        Assert.Equal("", r.Out);
        Assert.Equal("taskisol cpulist: invalid CPU list: EINVAL in region '-1' at offset 0 of '-1': expected a number, found '-'\n", r.Err);
    }

    [Theory]
    [InlineData("1-x", "EINVAL", "'1-x'")]
    [InlineData("0-3,1--2", "EINVAL", "'1--2' at offset 4")]
    [InlineData("0-7:3/2", "EINVAL", "'0-7:3/2'")]
    [InlineData("0,64", "ERANGE", "'64' at offset 2")]
    [InlineData("99999999999", "EOVERFLOW", "'99999999999'")]
    public void A_bad_list_exits_2_naming_the_errno_and_the_offending_text(string list, string errno, string where)
    {
        var r = Taskisol.Run("cpulist", list);

        Assert.Equal(2, r.Exit);
        Assert.Equal("", r.Out);
        Assert.StartsWith($"taskisol cpulist: invalid CPU list: {errno} in region {where}", r.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("8193")]
    [InlineData("-5")]
    public void Nbits_outside_the_model_exits_2(string nbits)
    {
        var r = Taskisol.Run("cpulist", "--nbits", nbits, "--", "1");

        Assert.Equal(2, r.Exit);
        Assert.Contains("--nbits", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Nbits_that_is_not_a_number_exits_2_naming_the_option()
    {
        var r = Taskisol.Run("cpulist", "--nbits", "x", "1");

        Assert.Equal(2, r.Exit);
        Assert.Contains("'x'", r.Err, StringComparison.Ordinal);
        Assert.Contains("--nbits", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_list_exits_2()
    {
        var r = Taskisol.Run("cpulist");

        Assert.Equal(2, r.Exit);
        Assert.Contains("LIST", r.Err, StringComparison.Ordinal);
        Assert.Contains("Try 'taskisol cpulist --help'.", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_describes_the_command_and_exits_0()
    {
        var r = Taskisol.Run("cpulist", "--help");

        Assert.Equal(0, r.Exit);
        Assert.Contains("--nbits", r.Out, StringComparison.Ordinal);
        Assert.Contains("--mask", r.Out, StringComparison.Ordinal);
    }
}

/// <summary>The program as a whole: unknown commands and no arguments.</summary>
public class ProgramTests
{
    [Fact]
    public void An_unknown_command_exits_2()
    {
        var r = Taskisol.Run("frobnicate");

        Assert.Equal(2, r.Exit);
        Assert.Contains("'frobnicate'", r.Err, StringComparison.Ordinal);
        Assert.Equal("", r.Out);
    }

    [Fact]
    public void No_arguments_exits_2_with_a_hint() =>
        Assert.Contains("Try 'taskisol --help'.", Taskisol.Run().Err, StringComparison.Ordinal);

    [Fact]
    public void Help_lists_the_commands()
    {
        var r = Taskisol.Run("--help");

        Assert.Equal(0, r.Exit);
        Assert.Contains("cpulist", r.Out, StringComparison.Ordinal);
        Assert.Contains("boot", r.Out, StringComparison.Ordinal);
    }
}
