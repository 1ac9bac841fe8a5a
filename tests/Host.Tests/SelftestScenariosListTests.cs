namespace TaskIsolation.Host.Tests;

/// <summary><c>taskisol scenarios</c> lists the kernel selftest's checks (docs/model.md §8) together, each with its summary.</summary>
public sealed class SelftestScenariosListTests
{
    [Fact]
    public void Scenarios_lists_every_selftest_check_together_with_a_one_line_summary()
    {
        var r = Taskisol.Run("scenarios");

        Assert.Equal(0, r.Exit);
        var lines = r.Out.TrimEnd('\n').Split('\n');
        var selftests = lines.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("selftest-", StringComparison.Ordinal)).ToList();
        for (var check = 1; check <= 11; check++)
        {
            var line = Assert.Single(selftests, x => x.l.StartsWith($"selftest-{check:00}-", StringComparison.Ordinal) && !x.l.Contains("-arm64 ", StringComparison.Ordinal)).l;
            Assert.Matches($@"^selftest-{check:00}-[a-z0-9-]+ +Selftest {check}[ :(]", line);
        }

        Assert.Contains(selftests, x => x.l.StartsWith("selftest-06-tlb-shootdown-arm64 ", StringComparison.Ordinal) && x.l.Contains("arm64", StringComparison.Ordinal));
        Assert.Equal(12, selftests.Count);
        Assert.Equal(Enumerable.Range(selftests[0].i, selftests.Count), selftests.Select(x => x.i)); // listed together, in order
    }

    [Fact]
    public void Run_takes_a_selftest_by_name_and_exits_0_when_it_holds()
    {
        var r = Taskisol.Run("run", "selftest-05-syscall", "--quiet");

        Assert.Equal(0, r.Exit);
        Assert.Contains("held    write-kill killed by SIGKILL after losing isolation due to syscall 1", r.Out, StringComparison.Ordinal);
        Assert.Contains("9 of 9 expectations held", r.Out, StringComparison.Ordinal);
    }
}
