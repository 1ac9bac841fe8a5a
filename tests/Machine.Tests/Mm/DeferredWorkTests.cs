using TaskIsolation.Machine.Mm;

namespace TaskIsolation.Machine.Tests.Mm;

public sealed class DeferredWorkTests
{
    [Theory]
    [InlineData(true, false, false, true)]
    [InlineData(true, true, false, true)] // v13: no flag to look at
    [InlineData(true, true, true, false)] // mitigation: the flag is up, the item is taken back
    [InlineData(true, false, true, true)]
    [InlineData(false, false, false, false)]
    public void The_drain_is_queued_on_non_empty_batches_unless_the_cpu_refuses_new_work(bool nonEmpty, bool refuses, bool mitigation, bool queued) =>
        Assert.Equal(queued, DeferredWork.DrainQueues(nonEmpty, refuses, mitigation));

    [Theory]
    [InlineData(true, 0, true, true)]
    [InlineData(true, 1, true, false)] // an item queued before the flag went up is still on its way
    [InlineData(true, 1, false, true)] // v13 does not wait for it
    [InlineData(false, 0, true, false)]
    public void Ready_waits_for_queued_work_only_with_the_mitigation(bool ready, int queued, bool mitigation, bool expected) =>
        Assert.Equal(expected, DeferredWork.Ready(ready, queued, mitigation));
}
