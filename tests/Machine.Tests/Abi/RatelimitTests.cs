using TaskIsolation.Machine.Abi;

namespace TaskIsolation.Machine.Tests.Abi;

public class RatelimitTests
{
    private const long Second = 1_000_000_000L;

    [Fact]
    public void Debug_limiter_passes_one_message_per_second()
    {
        var s = RatelimitState.TaskIsolationDebug;

        var first = s.Check(5 * Second);
        var second = first.Next.Check((5 * Second) + 1);
        var third = second.Next.Check((5 * Second) + 999_999_999);

        Assert.True(first.Allowed);
        Assert.False(second.Allowed);
        Assert.False(third.Allowed);
    }

    [Fact]
    public void A_check_exactly_one_interval_later_is_still_in_the_window()
    {
        var opened = RatelimitState.TaskIsolationDebug.Check(0).Next;

        Assert.False(opened.Check(Second).Allowed);
        Assert.True(opened.Check(Second + 1).Allowed);
    }

    [Fact]
    public void A_new_window_reports_how_many_were_suppressed()
    {
        var s = RatelimitState.TaskIsolationDebug;
        var v = s.Check(0);
        v = v.Next.Check(100);
        v = v.Next.Check(200);
        Assert.Equal(2, v.Next.Missed);

        var reopened = v.Next.Check(2 * Second);

        Assert.True(reopened.Allowed);
        Assert.Equal(2, reopened.SuppressedReported);
        Assert.Equal(0, reopened.Next.Missed);
        Assert.Equal(
            KernelLogLine.Warn("task_isolation_debug_task: 2 callbacks suppressed"),
            reopened.SuppressedMessage("task_isolation_debug_task"));
        Assert.Null(v.SuppressedMessage("task_isolation_debug_task"));
    }

    [Fact]
    public void The_window_opens_at_the_first_check_not_at_zero()
    {
        var v = RatelimitState.TaskIsolationDebug.Check(10 * Second);

        Assert.Equal(10 * Second, v.Next.BeginNs);
        Assert.False(v.Next.Check((10 * Second) + (Second / 2)).Allowed);
    }

    [Fact]
    public void Checking_does_not_change_the_original_state()
    {
        var s = RatelimitState.TaskIsolationDebug;

        _ = s.Check(0);

        Assert.Null(s.BeginNs);
        Assert.True(s.Check(0).Allowed);
    }

    [Fact]
    public void Zero_interval_never_limits_and_zero_burst_always_does()
    {
        Assert.True(new RatelimitState(0, 0).Check(1).Allowed);
        Assert.False(new RatelimitState(Second, 0).Check(1).Allowed);
    }

    [Fact]
    public void A_larger_burst_passes_that_many_per_window()
    {
        var v = new RatelimitState(5 * Second, 10).Check(0);
        var passed = v.Allowed ? 1 : 0;
        for (var i = 1; i < 15; i++)
        {
            v = v.Next.Check(i);
            passed += v.Allowed ? 1 : 0;
        }

        Assert.Equal(10, passed);
    }
}
