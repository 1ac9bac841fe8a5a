using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Actors.Tests.Model;

/// <summary>
/// The ABI's edges in the actor machine, v13 and v16, in both execution modes (docs/model.md §6, §10): a syscall
/// skipped with -ERESTARTNOINTR restarts after the handler; without CONFIG_TASK_ISOLATION the prctl options are
/// -EINVAL; a notification signal above 64 is sent by nobody, yet the task loses isolation and goes on.
/// </summary>
public sealed class AbiRulesTests : TestKit
{
    /// <summary>v16 has no <c>task_isolation=</c>: its map is isolcpus ∩ nohz_full.</summary>
    private const string V16Cmdline = "nohz_full=1-3 isolcpus=1-3";

    public AbiRulesTests()
        : base(SimulationConfig.Hocon)
    {
    }

    public static TheoryData<ExecutionMode, KernelVariant> ModesAndVariants => new()
    {
        { ExecutionMode.Controlled, KernelVariant.V13 },
        { ExecutionMode.Concurrent, KernelVariant.V13 },
        { ExecutionMode.Controlled, KernelVariant.V16 },
        { ExecutionMode.Concurrent, KernelVariant.V16 },
    };

    private SimulatedMachine BootMachine(ExecutionMode mode, KernelVariant variant, KernelConfig? config = null) =>
        SimulatedMachine.Boot(
            Sys,
            BootedMachine.Boot(4, ArchKind.X86_64, config ?? KernelConfig.Default, variant == KernelVariant.V16 ? V16Cmdline : Cmdline),
            new MachineOptions { Mode = mode, Seed = 5, Variant = variant, Switches = new ModelSwitches { ResidualTick = ResidualTick.Offloaded } });

    /// <summary>
    /// The prctl argument that enables isolation with <paramref name="signal"/> as the notification: v13 needs
    /// <c>USERSIG</c> beside <c>SET_SIG</c>; v16 reads <c>GET_SIG</c> alone from its 16 bits.
    /// </summary>
    private static ulong EnableWith(KernelVariant variant, int signal) =>
        variant == KernelVariant.V16 ? IsolationFlags.EnableBit | IsolationFlags.SetSig(signal) : IsolationFlags.EnabledWithSignal(signal).Word;

    private static string LostLine(KernelVariant variant, string reason) =>
        variant == KernelVariant.V16 ? $"iso/101 (cpu 3): task_isolation lost due to {reason}" : $"iso/101: task_isolation mode lost due to {reason}";

    private static IEnumerable<SyscallEntered> Syscalls(SimulatedMachine m, string name) =>
        m.Recorder.Events.OfType<SyscallEntered>().Where(s => s.Task.Comm == "iso" && s.Name == name);

    private static TaskExited ExitOf(SimulatedMachine m) => m.Recorder.Events.OfType<TaskExited>().Single(e => e.Task.Comm == "iso");

    [Theory]
    [MemberData(nameof(ModesAndVariants))]
    public void A_syscall_skipped_with_ERESTARTNOINTR_restarts_when_the_handler_returns(ExecutionMode mode, KernelVariant variant)
    {
        // Given an isolated task that catches SIGUSR1 and is notified with it
        var m = BootMachine(mode, variant);
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Sigaction(Signal.SIGUSR1, [new Compute(1_000)]),
            new Prctl(PrctlOptions.SetTaskIsolation, EnableWith(variant, Signal.SIGUSR1)),
            new Compute(1_000_000),
            new Syscall("write"),
            new Syscall("getpid"),
            new Exit(7))));

        // When it calls write(): skipped, SIGUSR1 sent, the handler runs and returns through rt_sigreturn
        m.RunFor(20_000_000);

        // Then write runs again after rt_sigreturn, not isolated any more, and the program goes on to its exit
        var writes = Syscalls(m, "write").ToList();
        var sigreturn = Syscalls(m, "rt_sigreturn").Single();
        Assert.Equal(2, writes.Count);
        Assert.True(writes[0].Time < sigreturn.Time && sigreturn.Time < writes[1].Time, "the write restarts after rt_sigreturn");
        Assert.Contains(m.Recorder.Events.OfType<SignalDelivered>(), d => d.Task.Comm == "iso" && d.Signal == Signal.SIGUSR1 && d.Action == SignalAction.Handler);
        Assert.Single(Syscalls(m, "getpid"));
        Assert.Equal((7, 0), (ExitOf(m).Code, ExitOf(m).Signal));
        Assert.Equal([LostLine(variant, "syscall 1")], m.Recorder.Events.OfType<KernelLogged>().Select(l => l.Text));
        Assert.Empty(m.LivenessFailures);
    }

    [Theory]
    [MemberData(nameof(ModesAndVariants))]
    public void Without_CONFIG_TASK_ISOLATION_the_prctl_options_are_EINVAL_NOSIG_included(ExecutionMode mode, KernelVariant variant)
    {
        var m = BootMachine(mode, variant, KernelConfig.Default with { TaskIsolation = false });
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Prctl(PrctlOptions.SetTaskIsolation, NoSig),
            new Prctl(PrctlOptions.GetTaskIsolation, 0),
            new Prctl(PrctlOptions.SetTaskIsolation, Enable),
            new Prctl(PrctlOptions.SetTaskIsolation, 0),
            new Syscall("write"),
            new Exit(0))));
        m.RunFor(5_000_000);

        Assert.Equal([-Errno.EINVAL, -Errno.EINVAL, -Errno.EINVAL, -Errno.EINVAL], m.Recorder.Events.OfType<PrctlReturned>().Select(p => p.Result));
        Assert.Empty(m.Recorder.Events.OfType<KernelLogged>()); // no NOSIG warning: the case is compiled out
        Assert.Equal((0, 0), (ExitOf(m).Code, ExitOf(m).Signal));
        Assert.DoesNotContain(m.Recorder.Events.OfType<ReturnedToUser>(), r => r.Isolated);
    }

    [Theory]
    [MemberData(nameof(ModesAndVariants))]
    public void A_notification_signal_above_64_loses_isolation_on_a_syscall_but_sends_nothing(ExecutionMode mode, KernelVariant variant)
    {
        var m = BootMachine(mode, variant);
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Prctl(PrctlOptions.SetTaskIsolation, EnableWith(variant, 100)),
            new Compute(1_000_000),
            new Syscall("write"),
            new Syscall("getpid"),
            new Exit(7))));
        m.RunFor(20_000_000);

        Assert.Equal(0, m.Recorder.Events.OfType<PrctlReturned>().Single().Result); // SET_SIG(100) is stored unchecked
        Assert.Equal([LostLine(variant, "syscall 1")], m.Recorder.Events.OfType<KernelLogged>().Select(l => l.Text));
        Assert.Empty(m.Recorder.Events.OfType<SignalSent>()); // send_sig_info() refused it
        Assert.Single(Syscalls(m, "write")); // no signal pending: no restart, the program sees -ERESTARTNOINTR
        Assert.Single(Syscalls(m, "getpid"));
        Assert.Equal((7, 0), (ExitOf(m).Code, ExitOf(m).Signal));
        var write = Syscalls(m, "write").Single();
        Assert.False(m.Recorder.Events.OfType<ReturnedToUser>().First(r => r.Time >= write.Time).Isolated);
    }

    [Theory]
    [MemberData(nameof(ModesAndVariants))]
    public void A_notification_signal_above_64_loses_isolation_on_an_IPI_but_sends_nothing(ExecutionMode mode, KernelVariant variant)
    {
        // A sibling thread left on CPU 0 munmaps while the main thread is isolated on CPU 3: the TLB shootdown IPI
        // is reported (v13 by the sender, v16 on arrival), the flags are cleared, and the main thread computes on.
        var m = BootMachine(mode, variant);
        m.Start(new TaskSpec("iso", OnCpu(0), Program(
            new Spawn("sibling", [new Sleep(3_000_000), new Munmap(0x7f00_0000_1000)], Thread: true),
            new SetAffinity(OnCpu(3)),
            new Prctl(PrctlOptions.SetTaskIsolation, EnableWith(variant, 100)),
            new Compute(5_000_000),
            new Syscall("getpid"),
            new Exit(7))));
        m.RunFor(30_000_000);

        Assert.Contains(m.Violations, v => v.Cpu == 3 && v.Kind == InterruptKind.CallFunctionIpi);
        Assert.Contains(m.Recorder.Events.OfType<KernelLogged>(), l => l.Text.StartsWith(LostLine(variant, "IPI function"), StringComparison.Ordinal));
        Assert.Empty(m.Recorder.Events.OfType<SignalSent>());
        Assert.Single(Syscalls(m, "getpid"));
        Assert.Equal((7, 0), (ExitOf(m).Code, ExitOf(m).Signal));
    }
}
