using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Noise;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests.Model;

/// <summary>
/// Where interrupts come back on and where an interrupt returns to (docs/model.md §5, §7), in both execution modes: a
/// held interrupt is taken the moment interrupts are enabled, and an interrupt or NMI returns to whatever it interrupted.
/// </summary>
public sealed class InterruptReturnTests : TestKit
{
    public InterruptReturnTests()
        : base(SimulationConfig.Hocon)
    {
    }

    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    private static MachineOptions Opts(ExecutionMode mode, ModelTimings? timings = null) =>
        new() { Mode = mode, Seed = 1, Timings = timings ?? new ModelTimings() };

    [Theory]
    [MemberData(nameof(Modes))]
    public void An_NMI_on_a_task_that_lost_isolation_and_handled_its_signal_is_taken_and_returns(ExecutionMode mode)
    {
        // iso asked for SIGUSR1 on a break and catches it; its getpid breaks isolation (the syscall is skipped with
        // -ERESTARTNOINTR), the handler runs and returns with rt_sigreturn. NMIs come every 10 us all along, so some land
        // in each of those activities, including the ones after the handler: each is taken and returns (do_nmi() and
        // its iret), whatever the CPU was doing.
        var m = Boot(Sys, Opts(mode));
        m.AddNmi(new NmiSpec(OnCpu(3), PeriodNs: 10_000, FirstAtNs: 5_000));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Sigaction(Signal.SIGUSR1, [new Compute(20_000)]),
            new Prctl(48, EnableUsr1),
            new Compute(1_000_000),
            new Syscall("getpid"),
            new Compute(1_000_000),
            new Exit(0))));
        m.RunFor(4_000_000);

        var handled = Assert.Single(m.Recorder.Events.OfType<SignalDelivered>());
        Assert.Equal((Signal.SIGUSR1, SignalAction.Handler), (handled.Signal, handled.Action));
        var nmis = m.Recorder.Events.OfType<InterruptTaken>().Where(i => i.Kind == InterruptKind.Nmi).ToList();
        Assert.Equal(400, nmis.Count);
        Assert.Contains(nmis, n => n.Time > handled.Time + 100_000);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_device_interrupt_on_a_task_that_lost_isolation_and_handled_its_signal_is_taken_and_returns(ExecutionMode mode)
    {
        // As above with a maskable interrupt, from 2.505 ms (after the handler): its return path resumes what it
        // interrupted in the same way.
        var m = Boot(Sys, Opts(mode));
        m.AddDeviceIrq(new DeviceIrqSpec(24, "eth0", OnCpu(3), PeriodNs: 10_000, FirstAtNs: 2_505_000));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Sigaction(Signal.SIGUSR1, [new Compute(20_000)]),
            new Prctl(48, EnableUsr1),
            new Compute(1_000_000),
            new Syscall("getpid"),
            new Compute(1_000_000),
            new Exit(0))));
        m.RunFor(4_000_000);

        Assert.Equal(Signal.SIGUSR1, Assert.Single(m.Recorder.Events.OfType<SignalDelivered>()).Signal);
        Assert.Equal(150, m.Recorder.Events.OfType<InterruptTaken>().Count(i => i.Kind == InterruptKind.DeviceIrq));
    }
}
