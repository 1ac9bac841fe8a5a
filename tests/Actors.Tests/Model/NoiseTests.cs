using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Noise;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests.Model;

/// <summary>Device interrupts and NMIs as noise sources (docs/model.md §5, §7, §9 R12), in both execution modes.</summary>
public sealed class NoiseTests : TestKit
{
    public NoiseTests()
        : base(SimulationConfig.Hocon)
    {
    }

    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    private static MachineOptions Opts(ExecutionMode mode) => new() { Mode = mode, Seed = 3 };

    [Theory]
    [MemberData(nameof(Modes))]
    public async System.Threading.Tasks.Task A_noise_source_whose_construction_throws_fails_the_run_naming_it_instead_of_hanging(ExecutionMode mode)
    {
        // A spec the machine's public checks would refuse, handed straight to the actor: its constructor throws on the
        // actor's dispatcher, after the machine took it (in concurrent mode, after AddNoiseSource has returned). Its
        // first firing is then a message no actor will ever handle: concurrent mode used to wait for it for ever, and
        // controlled mode ran on silently without the device.
        var m = Boot(Sys, Opts(mode), cpus: 2);
        m.Start(new TaskSpec("spin", OnCpu(0, 2), Program(new Compute(50_000_000), new Exit(0))));
        var bad = new DeviceIrqSpec(99, "ghost", CpuMask.Single(8, 5), PeriodNs: 1_000_000, FirstAtNs: 1_000_000);
        m.AddNoiseSource((sim, topology) => NoiseSourceActor.ForDeviceIrq(sim, topology, bad), "irq-99", bad.FirstAtNs);

        // A guard against the hang this test is about, not a wait for something to happen.
        var run = System.Threading.Tasks.Task.Run(() => m.RunFor(100_000_000));
        var failed = await Assert.ThrowsAsync<SimulationFaultedException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal("irq-99 could not be created: irq 99 (ghost): affinity '5' has no CPU of this 2-CPU machine", failed.Message);
        Assert.IsType<ArgumentException>(failed.InnerException);

        // It stays failed: a second run fails the same way at once, it does not wait for the lost firing.
        var again = System.Threading.Tasks.Task.Run(() => m.RunFor(1_000_000));
        Assert.Same(failed, await Assert.ThrowsAsync<SimulationFaultedException>(() => again.WaitAsync(TimeSpan.FromSeconds(30))));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_device_irq_on_the_isolated_cpu_kills_the_task_with_its_irq_reason(ExecutionMode mode)
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe, typeof(ViolationDetected));
        var m = Boot(Sys, Opts(mode));
        m.AddDeviceIrq(new DeviceIrqSpec(24, "eth0", OnCpu(3), PeriodNs: 100_000_000, FirstAtNs: 10_000_000));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable), new Compute(50_000_000))));
        m.RunFor(60_000_000);

        var v = probe.ExpectMsg<ViolationDetected>();
        Assert.Equal((InterruptKind.DeviceIrq, 3, "irq 24 (eth0)"), (v.Kind, v.Cpu, v.Detail));
        Assert.Equal(10_000_000, v.Time);
        Assert.Equal("device raises irq 24 (eth0) → cpu 3", v.Chain[0].What);
        Assert.Contains(m.Recorder.Events.OfType<KernelLogged>(), l => l.Text == "iso/101: task_isolation mode lost due to irq 24 (eth0)");
        Assert.Equal(Signal.SIGKILL, m.Recorder.Events.OfType<TaskExited>().Single().Signal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_device_irq_goes_to_the_first_cpu_of_its_affinity(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.AddDeviceIrq(new DeviceIrqSpec(30, "nvme0q1", CpuMask.Of(4, 1, 3), PeriodNs: 2_000_000, FirstAtNs: 1_000_000));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable), new Compute(20_000_000), new Exit(0))));
        m.RunFor(30_000_000);

        var taken = m.Recorder.Events.OfType<InterruptTaken>().Where(i => i.Kind == InterruptKind.DeviceIrq).ToList();
        Assert.InRange(taken.Count, 10, 15);
        Assert.All(taken, i => Assert.Equal(1, i.Cpu));
        Assert.Empty(m.Violations);
        Assert.Equal(0, m.Recorder.Events.OfType<TaskExited>().Single().Signal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void An_NMI_on_the_isolated_task_is_a_violation_that_dumps_and_sends_no_signal(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.AddNmi(new NmiSpec(OnCpu(3), PeriodNs: 1_000_000_000, FirstAtNs: 10_000_000));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable), new Compute(20_000_000), new Prctl(PrctlOptions.GetTaskIsolation, 0), new Exit(0))));
        m.RunFor(40_000_000);

        var v = Assert.Single(m.Violations);
        Assert.Equal((InterruptKind.Nmi, 3), (v.Kind, v.Cpu));
        Assert.Equal("NMI source raises NMI → cpu 3", v.Chain[0].What);
        Assert.Empty(m.Recorder.Events.OfType<SignalSent>());
        var logs = m.Recorder.Events.OfType<KernelLogged>().Select(l => l.Text).ToList();
        Assert.Equal(["cpu 3: NMI violating task isolation for iso/101 on cpu 3", "CPU: 3 PID: 101 Comm: iso Not tainted 4.7.0 #1"], logs);

        // The flags stay: the task is still isolated when it asks, and exits normally.
        var get = m.Recorder.Events.OfType<PrctlReturned>().Single(p => p.Option == 49);
        Assert.Equal(1, get.Result);
        Assert.Equal(0, m.Recorder.Events.OfType<TaskExited>().Single().Signal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void NMIs_are_not_held_while_interrupts_are_disabled(ExecutionMode mode)
    {
        // A dense NMI source against a task that keeps going in and out of the kernel: some NMIs land in the
        // interrupts-off part of the exit path, and are taken there, not held.
        var m = Boot(Sys, Opts(mode));
        m.AddNmi(new NmiSpec(OnCpu(2), PeriodNs: 1_370, FirstAtNs: 100_000));
        m.Start(new TaskSpec("busy", OnCpu(2), Program(new Loop(500, [new Syscall("getpid", WorkNs: 500), new Compute(700)]), new Exit(0))));
        m.RunFor(12_000_000);

        var nmis = m.Recorder.Events.OfType<InterruptTaken>().Where(i => i.Kind == InterruptKind.Nmi).ToList();
        Assert.Contains(nmis, i => i.State == CpuState.ReturnReady);
        Assert.DoesNotContain(m.Recorder.Events.OfType<InterruptHeld>(), h => h.Kind == InterruptKind.Nmi);
        Assert.Equal(0, m.Recorder.Events.OfType<TaskExited>().Single().Signal);
    }

    [Fact]
    public void Bad_noise_specs_are_refused_with_the_problem_named()
    {
        var m = Boot(Sys, Controlled());
        m.AddDeviceIrq(new DeviceIrqSpec(24, "eth0", OnCpu(0), 1_000_000));

        Assert.Contains("already in use", Assert.Throws<ArgumentException>(() => m.AddDeviceIrq(new DeviceIrqSpec(24, "eth1", OnCpu(0), 1_000_000))).Message, StringComparison.Ordinal);
        Assert.Contains("0 or more", Assert.Throws<ArgumentException>(() => m.AddDeviceIrq(new DeviceIrqSpec(-1, "x", OnCpu(0), 1_000_000))).Message, StringComparison.Ordinal);
        Assert.Contains("name is empty", Assert.Throws<ArgumentException>(() => m.AddDeviceIrq(new DeviceIrqSpec(25, " ", OnCpu(0), 1_000_000))).Message, StringComparison.Ordinal);
        Assert.Contains("not a non-empty mask of 4 CPUs", Assert.Throws<ArgumentException>(() => m.AddDeviceIrq(new DeviceIrqSpec(26, "x", OnCpu(0, nbits: 8), 1_000_000))).Message, StringComparison.Ordinal);
        Assert.Contains("period 0 ns is not positive", Assert.Throws<ArgumentException>(() => m.AddNmi(new NmiSpec(OnCpu(1), 0))).Message, StringComparison.Ordinal);
        Assert.Contains("is negative", Assert.Throws<ArgumentException>(() => m.AddNmi(new NmiSpec(OnCpu(1), 10, FirstAtNs: -1))).Message, StringComparison.Ordinal);
        Assert.Contains("not a non-empty mask", Assert.Throws<ArgumentException>(() => m.AddNmi(new NmiSpec(CpuMask.Empty(4), 10))).Message, StringComparison.Ordinal);
    }
}
