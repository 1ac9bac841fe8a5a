namespace TaskIsolation.Host.Tests;

/// <summary>The built <c>taskisol</c> run as its own process: exit codes reach the shell.</summary>
public class EndToEndTests
{
    [Fact]
    public void A_good_list_exits_0_with_the_list_on_stdout() =>
        Assert.Equal(new Outcome(0, "0-3\n", ""), Taskisol.RunProcess("cpulist", "3,2,1,0"));

    [Fact]
    public void A_bad_list_exits_2_with_the_error_on_stderr()
    {
        var r = Taskisol.RunProcess("cpulist", "--nbits", "4", "0-4");

        Assert.Equal(2, r.Exit);
        Assert.Equal("", r.Out);
        Assert.Equal("taskisol cpulist: invalid CPU list: ERANGE in region '0-4' at offset 0 of '0-4': CPU 4 is past the last CPU 3\n", r.Err);
    }

    [Fact]
    public void Boot_without_a_cpu_count_exits_2_without_a_stack_trace()
    {
        var r = Taskisol.RunProcess("boot");

        Assert.Equal(2, r.Exit);
        Assert.DoesNotContain("Exception", r.Err, StringComparison.Ordinal);
    }
}
