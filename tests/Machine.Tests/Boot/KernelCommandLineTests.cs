using TaskIsolation.Machine.Boot;

namespace TaskIsolation.Machine.Tests.Boot;

/// <summary>Splitting as kernel/params.c's parse_args() and next_arg().</summary>
public class KernelCommandLineTests
{
    [Fact]
    public void Parameters_are_separated_by_whitespace_in_order()
    {
        var cmdline = KernelCommandLine.Parse("  nohz_full=1-7\tisolcpus=1-7\n quiet  ");

        Assert.Equal(["nohz_full=1-7", "isolcpus=1-7", "quiet"], Strings(cmdline));
    }

    [Fact]
    public void A_parameter_without_equals_has_no_value()
    {
        var p = Assert.Single(KernelCommandLine.Parse("task_isolation_debug").Parameters);

        Assert.Equal(new KernelParameter("task_isolation_debug", null), p);
    }

    [Fact]
    public void A_parameter_with_an_empty_value_has_an_empty_value() =>
        Assert.Equal(new KernelParameter("nohz_full", ""), Assert.Single(KernelCommandLine.Parse("nohz_full=").Parameters));

    [Fact]
    public void The_value_splits_at_the_first_equals() =>
        Assert.Equal(new KernelParameter("a", "b=c"), Assert.Single(KernelCommandLine.Parse("a=b=c").Parameters));

    [Fact]
    public void An_equals_in_first_position_is_not_a_split_as_in_next_arg()
    {
        Assert.Equal(new KernelParameter("=x", null), Assert.Single(KernelCommandLine.Parse("=x").Parameters));
        Assert.Equal(new KernelParameter("=a", "b"), Assert.Single(KernelCommandLine.Parse("=a=b").Parameters));
    }

    [Fact]
    public void Double_quotes_around_a_value_group_it_and_are_removed()
    {
        var cmdline = KernelCommandLine.Parse("dyndbg=\"file foo.c +p\" quiet");

        Assert.Equal([new KernelParameter("dyndbg", "file foo.c +p"), new KernelParameter("quiet", null)], cmdline.Parameters.ToArray());
    }

    [Fact]
    public void Double_quotes_around_a_whole_parameter_group_it_and_are_removed() =>
        Assert.Equal(
            new KernelParameter("a", "b c"),
            Assert.Single(KernelCommandLine.Parse("\"a=b c\"").Parameters));

    [Fact]
    public void A_quote_inside_a_value_stays()
    {
        Assert.Equal(new KernelParameter("a", "b\"c"), Assert.Single(KernelCommandLine.Parse("a=b\"c").Parameters));
        Assert.Equal(new KernelParameter("a", "b c\"d"), Assert.Single(KernelCommandLine.Parse("a=\"b c\"d").Parameters));
    }

    [Fact]
    public void An_unclosed_quote_runs_to_the_end() =>
        Assert.Equal(new KernelParameter("a", "b c"), Assert.Single(KernelCommandLine.Parse("a=\"b c").Parameters));

    [Fact]
    public void A_lone_quote_is_an_empty_value() =>
        Assert.Equal(new KernelParameter("a", ""), Assert.Single(KernelCommandLine.Parse("a=\"").Parameters));

    [Fact]
    public void Arguments_after_double_dash_go_to_init()
    {
        var cmdline = KernelCommandLine.Parse("quiet -- single x=1");

        Assert.Equal(["quiet"], Strings(cmdline));
        Assert.Equal(["single", "x=1"], cmdline.InitArguments.ToArray());
    }

    [Fact]
    public void A_second_double_dash_drops_the_rest_as_start_kernel_does()
    {
        var cmdline = KernelCommandLine.Parse("a -- b -- c");

        Assert.Equal(["b"], cmdline.InitArguments.ToArray());
    }

    [Fact]
    public void Double_dash_with_a_value_is_an_ordinary_parameter() =>
        Assert.Equal(["--=x", "y"], Strings(KernelCommandLine.Parse("--=x y")));

    [Fact]
    public void Nothing_after_a_nul_exists() =>
        Assert.Equal(["a"], Strings(KernelCommandLine.Parse("a\0b c")));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t\n")]
    public void A_blank_command_line_has_no_parameters(string text) =>
        Assert.Empty(KernelCommandLine.Parse(text).Parameters);

    [Fact]
    public void The_text_is_kept_as_given() =>
        Assert.Equal(" a  b ", KernelCommandLine.Parse(" a  b ").Text);

    private static string[] Strings(KernelCommandLine cmdline) => [.. cmdline.Parameters.Select(p => p.ToString())];
}
