using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Sched;

namespace TaskIsolation.Machine.Tests.Sched;

public sealed class CfsTests
{
    private static readonly long Slice = new ModelTimings().TimeSliceNs;

    [Theory]
    [InlineData(1, 0, false)]
    [InlineData(1, -1, false)]
    [InlineData(1, 1, true)] // the slice is used up exactly: preempt
    [InlineData(0, 1_000, false)] // no one waits: the task keeps the CPU however long it ran
    [InlineData(3, 1, true)]
    public void A_task_is_preempted_once_it_has_had_its_slice_while_another_waits(int waiting, long ranPastSlice, bool preempt) =>
        Assert.Equal(preempt, Cfs.SliceExpired(waiting, Slice + ranPastSlice - 1, Slice));
}
