using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Actors.Tests;

/// <summary>The model's behaviours of docs/model.md §5–§8, each in both execution modes.</summary>
public sealed class MachineBehaviourTests : TestKit
{
    public MachineBehaviourTests()
        : base(SimulationConfig.Hocon)
    {
    }

    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    private static MachineOptions Opts(ExecutionMode mode, ModelSwitches? switches = null) =>
        new() { Mode = mode, Seed = 7, Switches = switches ?? new ModelSwitches() };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Syscall_while_isolated_kills_with_SIGKILL(ExecutionMode mode)
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe, typeof(TaskExited));
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable), new Compute(1_000_000), new Syscall("write"))));
        m.RunFor(50_000_000);

        var exit = probe.ExpectMsg<TaskExited>();
        Assert.Equal(Signal.SIGKILL, exit.Signal);
        Assert.Contains(m.Recorder.Events.OfType<KernelLogged>(), l => l.Text == "iso/101: task_isolation mode lost due to syscall 1");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void With_USERSIG_SIGUSR1_a_page_fault_kills_with_SIGUSR1(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, EnableUsr1), new Compute(1_000_000), new TouchPage(0x7f0000001000))));
        m.RunFor(50_000_000);

        Assert.Equal(Signal.SIGUSR1, m.Recorder.Events.OfType<TaskExited>().Single().Signal);
        Assert.Contains(m.Recorder.Events.OfType<KernelLogged>(), l => l.Text == "iso/101: task_isolation mode lost due to page fault at 0x7f0000001000");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Enabling_with_affinity_of_several_CPUs_or_on_cpu0_is_EINVAL(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("wide", CpuMask.Of(4, 1, 2), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable))));
        m.Start(new TaskSpec("boot", OnCpu(0), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable))));
        m.RunFor(20_000_000);

        var results = m.Recorder.Events.OfType<PrctlReturned>().ToDictionary(p => p.Task.Comm, p => p.Result);
        Assert.Equal(-Errno.EINVAL, results["wide"]);
        Assert.Equal(-Errno.EINVAL, results["boot"]);
        Assert.All(m.Recorder.Events.OfType<TaskExited>(), e => Assert.Equal(0, e.Signal));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Enable_then_disable_then_write_exits_normally(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable), new Compute(500_000), new Prctl(PrctlOptions.SetTaskIsolation, 0), new Syscall("write"), new Exit(0))));
        m.RunFor(20_000_000);

        var exit = m.Recorder.Events.OfType<TaskExited>().Single();
        Assert.Equal((0, 0), (exit.Signal, exit.Code));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void NOSIG_mode_allows_syscalls_without_a_signal(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, NoSig), new Syscall("write"), new Syscall("write"), new Exit(0))));
        m.RunFor(50_000_000);

        Assert.Equal(0, m.Recorder.Events.OfType<TaskExited>().Single().Signal);
        Assert.Empty(m.Recorder.Events.OfType<SignalSent>());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Sibling_munmap_shoots_down_the_isolated_cpu_on_x86(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Spawn("sibling", [new SetAffinity(CpuMask.Single(4, 0)), new Compute(500_000_000), new Munmap(0x1000), new Exit(0)], Thread: true),
            new Compute(20_000_000),
            new Prctl(PrctlOptions.SetTaskIsolation, Enable),
            new Compute(2_000_000_000))));
        m.RunFor(1_000_000_000);

        var v = m.Violations.First();
        Assert.Equal(InterruptKind.CallFunctionIpi, v.Kind);
        Assert.Equal(3, v.Cpu);
        Assert.StartsWith("task sibling/", v.Chain[0].What, StringComparison.Ordinal);
        Assert.EndsWith("munmap", v.Chain[0].What, StringComparison.Ordinal);
        Assert.Equal(Signal.SIGKILL, m.Recorder.Events.OfType<TaskExited>().Single(e => e.Task.Comm == "iso").Signal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Sibling_munmap_does_not_interrupt_the_isolated_cpu_on_arm64(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode), arch: ArchKind.Arm64);
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Spawn("sibling", [new SetAffinity(CpuMask.Single(4, 0)), new Compute(500_000_000), new Munmap(0x1000), new Exit(0)], Thread: true),
            new Compute(20_000_000),
            new Prctl(PrctlOptions.SetTaskIsolation, Enable),
            new Compute(800_000_000))));
        m.RunFor(900_000_000, () => false);

        Assert.DoesNotContain(m.Violations, v => v.Kind == InterruptKind.CallFunctionIpi);
        Assert.Contains(m.Recorder.Events.OfType<OperationStarted>(), o => o.Operation == "munmap");
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Residual_tick_reaches_the_isolated_task_about_once_a_second_with_1hz(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode, new ModelSwitches { ResidualTick = ResidualTick.OneHz }));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, NoSig), new Compute(3_500_000_000))));
        m.RunFor(3_400_000_000);

        var residual = m.Recorder.Events.OfType<InterruptTaken>().Where(i => i.Kind == InterruptKind.ResidualTick && i.State == CpuState.UserIsolated).ToList();
        Assert.Equal(3, residual.Count);
        Assert.All(residual.Zip(residual.Skip(1)), p => Assert.InRange(p.Second.Time - p.First.Time, 990_000_000, 1_010_000_000));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Offloaded_residual_tick_never_reaches_the_isolated_task(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode, new ModelSwitches { ResidualTick = ResidualTick.Offloaded }));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, NoSig), new Compute(3_500_000_000))));
        m.RunFor(3_400_000_000);

        Assert.Empty(m.Violations);
        Assert.DoesNotContain(m.Recorder.Events.OfType<InterruptTaken>(), i => i.Cpu == 3 && i.State == CpuState.UserIsolated);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Tick_stops_with_one_task_and_restarts_when_a_second_arrives(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode, new ModelSwitches { ResidualTick = ResidualTick.Offloaded }));
        m.Start(new TaskSpec("poll", OnCpu(2), Program(new Compute(100_000_000))));
        m.Start(new TaskSpec("late", OnCpu(0), Program(new Compute(20_000_000), new SetAffinity(OnCpu(2)), new Compute(10_000_000))));
        m.RunFor(60_000_000);

        var events = m.Recorder.Events.Where(e => e.Cpu == 2).ToList();
        var stopped = events.OfType<TickStopAttempted>().First(t => t.Success);
        Assert.True(stopped.Time < 20_000_000, "the tick stops while poll runs alone");
        var restarted = events.OfType<TickRestarted>().First(t => t.Time > 20_000_000);
        Assert.Equal("SCHED", restarted.Reason);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_task_forked_onto_a_cpu_whose_tick_is_stopped_kicks_it_back_on(ExecutionMode mode)
    {
        // wake_up_new_task() → add_nr_running() → sched_update_tick_dependency(): two runnable tasks set the SCHED bit,
        // and tick_nohz_dep_set_cpu() kicks the CPU (a self irq_work) so that its irq exit restarts the tick. No
        // interrupt path of its own brings the new task here, unlike a wake-up or migration IPI.
        var m = Boot(Sys, Opts(mode, new ModelSwitches { ResidualTick = ResidualTick.Offloaded }));
        m.Start(new TaskSpec("poll", OnCpu(2), Program(new Compute(10_000_000), new Spawn("child", [new Compute(30_000_000)]), new Compute(50_000_000))));
        m.RunFor(30_000_000);

        var events = m.Recorder.Events.Where(e => e.Cpu == 2).ToList();
        var stopped = events.OfType<TickStopAttempted>().First(t => t.Success);
        Assert.True(stopped.Time < 10_000_000, "the tick stops while poll runs alone");
        var restarted = events.OfType<TickRestarted>().FirstOrDefault(t => t.Time > 10_000_000);
        Assert.NotNull(restarted);
        Assert.Equal("SCHED", restarted.Reason);
        Assert.InRange(restarted.Time, 10_000_000, 10_100_000);
        Assert.Contains(m.Recorder.Events.OfType<InterruptTaken>(), i => i.Cpu == 2 && i.Kind == InterruptKind.IrqWork && i.Time >= 10_000_000 && i.Time <= restarted.Time);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_task_started_on_a_cpu_whose_tick_is_stopped_kicks_it_back_on(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode, new ModelSwitches { ResidualTick = ResidualTick.Offloaded }));
        m.Start(new TaskSpec("poll", OnCpu(2), Program(new Compute(100_000_000))));
        m.RunFor(10_000_000);
        m.Start(new TaskSpec("late", OnCpu(2), Program(new Compute(30_000_000))));
        m.RunFor(20_000_000);

        var events = m.Recorder.Events.Where(e => e.Cpu == 2).ToList();
        Assert.Contains(events.OfType<TickStopAttempted>(), t => t.Success && t.Time < 10_000_000);
        var restarted = events.OfType<TickRestarted>().FirstOrDefault(t => t.Time >= 10_000_000);
        Assert.NotNull(restarted);
        Assert.Equal("SCHED", restarted.Reason);
        Assert.InRange(restarted.Time, 10_000_000, 10_100_000);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Vmstat_work_runs_on_a_busy_cpu_and_is_quiesced_by_enter(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("busy", OnCpu(0), Program(new Loop(30, [new Syscall("write"), new Compute(100_000_000)]))));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Syscall("write"), new Prctl(PrctlOptions.SetTaskIsolation, NoSig), new Compute(2_500_000_000))));
        m.RunFor(2_600_000_000);

        Assert.Contains(m.Recorder.Events.OfType<WorkExecuted>(), w => w.Cpu == 0 && w.Function == WorkFunction.VmstatUpdate);
        Assert.DoesNotContain(m.Recorder.Events.OfType<WorkExecuted>(), w => w.Cpu == 3 && w.Function == WorkFunction.VmstatUpdate);
    }

    [Fact]
    public void Interrupts_held_while_disabled_are_taken_after()
    {
        // Many schedules of a sibling munmap racing the return path: whenever the IPI arrived during the
        // interrupts-off part, it is held and then taken — never lost.
        for (var seed = 1; seed <= 40; seed++)
        {
            var m = Boot(Sys, new MachineOptions { Mode = ExecutionMode.Controlled, Seed = seed });
            m.Start(new TaskSpec("iso", OnCpu(3), Program(
                new Spawn("sibling", [new SetAffinity(CpuMask.Single(4, 0)), new Loop(50, [new Compute(20_000), new Munmap(0x1000)])], Thread: true),
                new Loop(200, [new Syscall("getpid", WorkNs: 1_000), new Compute(5_000)]))));
            m.RunFor(30_000_000);
            var held = m.Recorder.Events.OfType<InterruptHeld>().Where(h => h.Cpu == 3).ToList();
            var taken = m.Recorder.Events.OfType<InterruptTaken>().Where(t => t.Held && t.Cpu == 3).ToList();
            Assert.Equal(held.Count, taken.Count);
            if (held.Count > 0)
            {
                return;
            }
        }

        Assert.Fail("no schedule of 40 held an interrupt");
    }

    [Fact]
    public void Same_seed_twice_gives_the_same_trace_and_decisions_replay_it()
    {
        string Run(ISchedulingStrategy? strategy, int seed, out IReadOnlyList<Decision> decisions)
        {
            var m = Boot(Sys, new MachineOptions { Mode = ExecutionMode.Controlled, Seed = seed, Strategy = strategy });
            m.Start(new TaskSpec("iso", OnCpu(3), Program(
                new Spawn("sibling", [new SetAffinity(CpuMask.Single(4, 0)), new Loop(20, [new Compute(30_000), new Munmap(0x1000)])], Thread: true),
                new Prctl(PrctlOptions.SetTaskIsolation, NoSig),
                new Loop(100, [new Syscall("getpid", WorkNs: 1_000), new Compute(5_000)]))));
            m.RunFor(20_000_000);
            decisions = m.Simulation.Decisions.ToList();
            return m.Recorder.Trace();
        }

        var a = Run(null, 11, out var decisions);
        var b = Run(null, 11, out _);
        var replayed = Run(new ReplayStrategy(decisions), 999, out _);
        var other = Run(null, 12, out _);

        Assert.True(decisions.Count > 10, $"a racy scenario takes decisions ({decisions.Count})");
        Assert.Equal(a, b);
        Assert.Equal(a, replayed);
        Assert.NotEqual(a, other);
    }

    [Fact]
    public void Replay_of_decisions_from_another_scenario_reports_the_divergence()
    {
        // Decisions recorded on a quiet scenario cannot drive a racy one: the first decision it asks for is past the record.
        var quiet = Boot(Sys, Controlled(5));
        quiet.Start(new TaskSpec("a", OnCpu(1), Program(new Compute(1_000_000))));
        quiet.RunFor(5_000_000);

        var m = Boot(Sys, new MachineOptions { Mode = ExecutionMode.Controlled, Strategy = new ReplayStrategy(quiet.Simulation.Decisions) });
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Spawn("sibling", [new SetAffinity(CpuMask.Single(4, 0)), new Loop(20, [new Compute(30_000), new Munmap(0x1000)])], Thread: true),
            new Loop(100, [new Syscall("getpid", WorkNs: 1_000), new Compute(5_000)]))));
        var ex = Assert.Throws<ReplayDivergedException>(() => m.RunFor(10_000_000));
        Assert.Equal(quiet.Simulation.Decisions.Count, ex.Index);
        Assert.Contains("replay diverged at decision", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_minute_of_a_four_cpu_machine_with_noise_runs_in_controlled_mode()
    {
        var m = Boot(Sys, Controlled(3));
        m.Start(new TaskSpec("hk", OnCpu(0), Program(new Loop(-1, [new Compute(9_000_000), new Syscall("write"), new Mmap(4096)]))));
        m.Start(new TaskSpec("dpdk", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, NoSig), new Loop(-1, [new Compute(1_000_000_000)]))));
        m.RunFor(60_000_000_000);

        Assert.Equal(60_000_000_000, m.Now);
        Assert.Equal(59, m.Violations.Count(v => v.Kind == InterruptKind.ResidualTick));
    }
}
