using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Sched;

namespace TaskIsolation.Machine.Tests.Sched;

public sealed class AffinityTests
{
    [Fact]
    public void A_non_empty_mask_of_the_machines_size_is_accepted() =>
        Assert.Equal(0, Affinity.Check(CpuMask.Of(4, 3), 4));

    [Fact]
    public void An_empty_mask_is_einval() =>
        Assert.Equal(Errno.EINVAL, Affinity.Check(CpuMask.Empty(4), 4));

    [Fact]
    public void A_mask_of_another_size_is_einval() =>
        Assert.Equal(Errno.EINVAL, Affinity.Check(CpuMask.Of(8, 3), 4));

    [Fact]
    public void A_task_pushed_off_its_cpu_goes_to_the_first_cpu_of_its_new_mask() =>
        Assert.Equal(2, Affinity.MigrationTarget(CpuMask.Of(4, 2, 3)));
}
