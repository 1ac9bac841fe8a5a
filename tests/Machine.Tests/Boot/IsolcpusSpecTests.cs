using TaskIsolation.Machine.Boot;

namespace TaskIsolation.Machine.Tests.Boot;

public class IsolcpusSpecTests
{
    [Fact]
    public void A_plain_list_is_the_4_7_domain_form()
    {
        var spec = IsolcpusSpec.Parse("1-7");

        Assert.Equal(IsolcpusFlags.Domain, spec.Flags);
        Assert.Equal("1-7", spec.List);
    }

    [Theory]
    [InlineData("nohz,domain,1-7", IsolcpusFlags.Nohz | IsolcpusFlags.Domain)]
    [InlineData("nohz,1-7", IsolcpusFlags.Nohz)]
    [InlineData("managed_irq,1-7", IsolcpusFlags.ManagedIrq)]
    [InlineData("domain,managed_irq,nohz,1-7", IsolcpusFlags.Domain | IsolcpusFlags.ManagedIrq | IsolcpusFlags.Nohz)]
    public void Flags_before_the_list_say_what_to_isolate_from(string value, IsolcpusFlags flags)
    {
        var spec = IsolcpusSpec.Parse(value);

        Assert.Equal(flags, spec.Flags);
        Assert.Equal("1-7", spec.List);
        Assert.Null(spec.InvalidFlag);
    }

    [Fact]
    public void An_unknown_flag_of_letters_is_skipped()
    {
        var spec = IsolcpusSpec.Parse("foo_bar,nohz,2");

        Assert.Equal(["foo_bar"], spec.SkippedFlags.ToArray());
        Assert.Equal(IsolcpusFlags.Nohz, spec.Flags);
        Assert.Equal("2", spec.List);
    }

    [Fact]
    public void An_unknown_flag_with_other_characters_is_invalid() =>
        Assert.Equal("dom4in", IsolcpusSpec.Parse("nohz,dom4in,1-3").InvalidFlag);

    [Fact]
    public void A_list_starting_with_a_letter_is_read_as_a_flag_as_the_kernel_does()
    {
        Assert.Equal(["all"], IsolcpusSpec.Parse("all").SkippedFlags.ToArray());
        Assert.Equal("N-7", IsolcpusSpec.Parse("N-7").InvalidFlag);
    }

    [Fact]
    public void A_flag_without_its_comma_is_not_that_flag() =>
        Assert.Equal(["nohz"], IsolcpusSpec.Parse("nohz").SkippedFlags.ToArray());

    [Fact]
    public void Flags_are_case_sensitive() =>
        Assert.Equal(["NOHZ"], IsolcpusSpec.Parse("NOHZ,1").SkippedFlags.ToArray());

    [Fact]
    public void Two_parses_of_the_same_value_are_equal() =>
        Assert.Equal(IsolcpusSpec.Parse("foo,nohz,1-3"), IsolcpusSpec.Parse("foo,nohz,1-3"));
}
