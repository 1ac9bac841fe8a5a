using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Actors.Tests.Model;

/// <summary>Selftest checks 7, 10 and 11 of docs/model.md §8, in both execution modes.</summary>
public sealed class SelftestTests : TestKit
{
    public SelftestTests()
        : base(SimulationConfig.Hocon)
    {
    }

    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    private static MachineOptions Opts(ExecutionMode mode, ResidualTick residual = ResidualTick.OneHz) =>
        new() { Mode = mode, Seed = 5, Switches = new ModelSwitches { ResidualTick = residual } };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Selftest7_an_unaligned_access_fixup_kills_the_isolated_task_on_tile(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode), arch: ArchKind.Tile);
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable), new Compute(1_000_000), new UnalignedAccess(0x7f0000000003, 0x10c48), new Exit(0))));
        m.RunFor(20_000_000);

        Assert.Equal(Signal.SIGKILL, m.Recorder.Events.OfType<TaskExited>().Single().Signal);
        Assert.Contains(m.Recorder.Events.OfType<KernelLogged>(), l => l.Text == "iso/101: task_isolation mode lost due to unaligned JIT at 0x10c48");
    }

    [Theory]
    [InlineData(ArchKind.X86_64)]
    [InlineData(ArchKind.Arm64)]
    public void An_unaligned_access_is_no_kernel_entry_where_the_hardware_does_it(ArchKind arch)
    {
        var m = Boot(Sys, Opts(ExecutionMode.Controlled), arch: arch);
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable), new Compute(1_000_000), new UnalignedAccess(0x7f0000000003, 0x10c48), new Exit(0))));
        m.RunFor(20_000_000);

        Assert.Equal((0, 0), (m.Recorder.Events.OfType<TaskExited>().Single().Signal, m.Recorder.Events.OfType<TaskExited>().Single().Code));
        Assert.Empty(m.Recorder.Events.OfType<KernelLogged>());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Selftest10_NOSIG_parent_waits_in_the_kernel_until_the_child_on_its_cpu_has_exited(ExecutionMode mode)
    {
        // The child inherits the parent's affinity (the isolated CPU) and lands there; the parent's fork cannot
        // return to user space while the SCHED dependency keeps the tick running.
        var m = Boot(Sys, Opts(mode, ResidualTick.Offloaded));
        m.Start(new TaskSpec("parent", OnCpu(3), Program(
            new Prctl(PrctlOptions.SetTaskIsolation, NoSig),
            new Compute(1_000_000),
            new Spawn("child", [new Compute(500_000_000), new Exit(0)]),
            new Compute(1_000_000),
            new Exit(0))));
        m.RunFor(1_000_000_000);

        var fork = m.Recorder.Events.OfType<OperationStarted>().Single(o => o.Task.Comm == "parent" && o.Operation.StartsWith("fork", StringComparison.Ordinal));
        var back = m.Recorder.Events.OfType<OperationStarted>().First(o => o.Task.Comm == "parent" && o.Time > fork.Time);
        var childExit = m.Recorder.Events.OfType<TaskExited>().Single(e => e.Task.Comm == "child");
        Assert.InRange(back.Time - fork.Time, 400_000_000, 600_000_000);
        Assert.True(back.Time > childExit.Time, "the parent returns only after the child exited");
        var tickStop = m.Recorder.Events.OfType<TickStopAttempted>().Last(t => t.Cpu == 3 && t.Success && t.Time <= back.Time);
        Assert.True(tickStop.Time > childExit.Time, "and after the tick stopped again");
        Assert.Empty(m.Recorder.Events.OfType<SignalSent>());
        Assert.All(m.Recorder.Events.OfType<TaskExited>(), e => Assert.Equal(0, e.Signal));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Selftest11_a_long_isolated_spin_sees_no_jitter_and_no_signal_with_the_residual_tick_offloaded(ExecutionMode mode)
    {
        const long spin = 3_000_000_000;
        var m = Boot(Sys, Opts(mode, ResidualTick.Offloaded));
        m.Start(new TaskSpec("noise", OnCpu(0), Program(new Loop(-1, [new Compute(5_000_000), new Syscall("write"), new Mmap(4096)]))));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, EnableUsr1), new Compute(spin), new Prctl(PrctlOptions.SetTaskIsolation, 0), new Exit(0))));
        m.RunFor(3_200_000_000);

        var started = m.Recorder.Events.OfType<OperationStarted>().Where(o => o.Task.Comm == "iso").ToList();
        var spinStart = started.Single(o => o.Operation.StartsWith("compute", StringComparison.Ordinal));
        var next = started.First(o => o.Time > spinStart.Time);
        Assert.Equal(spin, next.Time - spinStart.Time); // not one nanosecond of the spin was taken by the kernel
        Assert.DoesNotContain(m.Recorder.Events.OfType<InterruptTaken>(), i => i.Cpu == 3 && i.Time >= spinStart.Time && i.Time < next.Time);
        Assert.DoesNotContain(m.Recorder.Events.OfType<SignalSent>(), s => s.Task.Comm == "iso");
        Assert.Equal(0, m.Recorder.Events.OfType<TaskExited>().Single(e => e.Task.Comm == "iso").Signal);
    }
}
