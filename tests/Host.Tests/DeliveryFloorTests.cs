using TaskIsolation.Host.Bench;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Host.Tests;

/// <summary>The bench's floor: distinct (CPU, instant) pairs with an event, plus the operations asked of task actors.</summary>
public class DeliveryFloorTests
{
    private static readonly TaskRef Task = new(100, "t");

    [Fact]
    public void Events_of_one_CPU_at_one_instant_are_one_delivery_and_each_operation_is_one_more()
    {
        var floor = new DeliveryFloor { Counting = true };
        floor.Observe(new SyscallExited(1, 1_000, 0, 0, Task, 1, 0));
        floor.Observe(new ReturnedToUser(2, 1_000, 0, 1, Task, false, 0));
        floor.Observe(new OperationStarted(3, 1_000, 0, 2, Task, TaskStep.Of(OperationKind.Syscall), "write"));
        floor.Observe(new SyscallEntered(4, 1_000, 1, 0, Task, 1, "write"));
        floor.Observe(new SyscallExited(5, 2_000, 0, 4, Task, 1, 0));

        Assert.Equal(5, floor.Events);
        Assert.Equal(3, floor.CpuInstants); // (0, 1000), (1, 1000), (0, 2000)
        Assert.Equal(1, floor.OperationsStarted);
        Assert.Equal(4, floor.Deliveries);
    }

    [Fact]
    public void The_periodic_ticks_instants_drop_out_of_the_closed_form_floor_and_no_other_interrupts_do()
    {
        var floor = new DeliveryFloor { Counting = true };
        floor.Observe(new InterruptTaken(1, 1_000_000, 0, 0, TimerExpiry.Tick, CpuState.User, Task, false));
        floor.Observe(new HandlerReturned(2, 1_002_000, 0, 1, TimerExpiry.Tick));
        floor.Observe(new InterruptTaken(3, 2_000_000, 0, 0, TimerExpiry.ResidualTick, CpuState.User, Task, false));

        // A tick that shares its instant with another event leaves that instant in the closed-form floor.
        floor.Observe(new InterruptTaken(4, 3_000_000, 0, 0, TimerExpiry.Tick, CpuState.User, Task, false));
        floor.Observe(new ContextSwitched(5, 3_000_000, 0, 4, Task, null));

        Assert.Equal(4, floor.CpuInstants);
        Assert.Equal(2, floor.CpuInstantsWithoutTicks);
        Assert.Equal(2, floor.DeliveriesWithoutTicks);
    }

    [Fact]
    public void Findings_and_events_before_counting_starts_are_not_counted()
    {
        var floor = new DeliveryFloor();
        floor.Observe(new SyscallExited(1, 1_000, 0, 0, Task, 1, 0));
        floor.Counting = true;
        floor.Observe(new LivenessViolated(2, 5_000, 3, 0, Task, 0, 1_000));

        Assert.Equal(0, floor.Events);
        Assert.Equal(0, floor.Deliveries);
    }
}
