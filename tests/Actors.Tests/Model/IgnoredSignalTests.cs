using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests.Model;

/// <summary>
/// A signal the task ignores by default (SIGCHLD, SIGURG, SIGWINCH, SIGCONT) is discarded by <c>sig_ignored()</c> when
/// it is sent: it is never pending, nobody is woken, and <c>get_signal()</c>, where the series clears the isolation
/// flags, never sees it. A handler for it makes it an ordinary signal again.
/// </summary>
public sealed class IgnoredSignalTests : TestKit
{
    public IgnoredSignalTests()
        : base(SimulationConfig.Hocon)
    {
    }

    public static TheoryData<ExecutionMode> Modes => new() { ExecutionMode.Controlled, ExecutionMode.Concurrent };

    private static MachineOptions Opts(ExecutionMode mode) => new() { Mode = mode, Seed = 1 };

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_sigchld_from_a_housekeeping_task_is_discarded_and_the_isolated_task_is_never_interrupted(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, Enable), new Compute(20_000_000), new Exit(0))));
        m.Start(new TaskSpec("sender", OnCpu(0), Program(new Compute(5_000_000), new Kill("iso", Signal.SIGCHLD), new Exit(0))));
        m.RunFor(40_000_000);

        var discarded = Assert.Single(m.Recorder.Events.OfType<SignalDiscarded>());
        Assert.Equal(("iso", Signal.SIGCHLD, 0), (discarded.Task.Comm, discarded.Signal, discarded.Cpu));
        Assert.DoesNotContain(m.Recorder.Events.OfType<SignalSent>(), s => s.Task.Comm == "iso");
        Assert.Empty(m.Recorder.Events.OfType<SignalDelivered>());
        Assert.DoesNotContain(m.Recorder.Events.OfType<InterruptSent>(), i => i.TargetCpu == 3 && i.Source is SignalWakeup);
        Assert.Empty(m.Violations);

        // kill() returned 0 to the sender, and iso ran to its exit isolated.
        Assert.All(m.Recorder.Events.OfType<TaskExited>(), x => Assert.Equal((0, 0), (x.Code, x.Signal)));
        Assert.True(m.Recorder.Events.OfType<ReturnedToUser>().Last(r => r.Task.Comm == "iso").Isolated);
        Assert.DoesNotContain(m.Recorder.Events.OfType<KernelLogged>(), l => l.Line.Loss is not null);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_sigchld_the_task_catches_is_sent_wakes_it_and_clears_its_isolation_before_the_handler(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Sigaction(Signal.SIGCHLD, [new Compute(10_000)]),
            new Prctl(PrctlOptions.SetTaskIsolation, NoSig),
            new Compute(20_000_000),
            new Exit(0))));
        m.Start(new TaskSpec("sender", OnCpu(0), Program(new Compute(5_000_000), new Kill("iso", Signal.SIGCHLD), new Exit(0))));
        m.RunFor(40_000_000);

        Assert.Empty(m.Recorder.Events.OfType<SignalDiscarded>());
        Assert.Single(m.Recorder.Events.OfType<SignalSent>(), s => s.Task.Comm == "iso" && s.Signal == Signal.SIGCHLD);
        Assert.Contains(m.Recorder.Events.OfType<InterruptSent>(), i => i.TargetCpu == 3 && i.Source is SignalWakeup);
        var handled = Assert.Single(m.Recorder.Events.OfType<SignalDelivered>());
        Assert.Equal((Signal.SIGCHLD, SignalAction.Handler), (handled.Signal, handled.Action));

        // The handler and the rest of the program run without isolation: the series cleared it in get_signal().
        Assert.Contains(m.Recorder.Events.OfType<ReturnedToUser>(), r => r.Task.Comm == "iso" && r.Time > handled.Time && !r.Isolated);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_forked_child_inherits_the_handler_so_its_sigchld_is_not_discarded(ExecutionMode mode)
    {
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("parent", OnCpu(2), Program(
            new Sigaction(Signal.SIGURG, [new Compute(1_000)]),
            new Spawn("child", Program(new Compute(10_000_000), new Exit(0))),
            new Compute(1_000_000),
            new Kill("child", Signal.SIGURG),
            new Exit(0))));
        m.RunFor(30_000_000);

        Assert.Empty(m.Recorder.Events.OfType<SignalDiscarded>());
        var handled = Assert.Single(m.Recorder.Events.OfType<SignalDelivered>());
        Assert.Equal(("child", Signal.SIGURG, SignalAction.Handler), (handled.Task.Comm, handled.Signal, handled.Action));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_break_notified_with_sigwinch_logs_and_clears_but_sends_nothing_so_the_skipped_syscall_sees_its_error(ExecutionMode mode)
    {
        // getpid() while isolated with SET_SIG(SIGWINCH) and no handler: the log and the clearing happen, send_sig_info()
        // discards the signal, and with nothing pending do_signal() does not restart the syscall: the program sees
        // -ERESTARTNOINTR and goes on, no longer isolated.
        var m = Boot(Sys, Opts(mode));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Prctl(PrctlOptions.SetTaskIsolation, IsolationFlags.EnabledWithSignal(Signal.SIGWINCH).Word),
            new Compute(1_000_000),
            new Syscall("getpid"),
            new Compute(1_000_000),
            new Exit(0))));
        m.RunFor(10_000_000);

        Assert.Single(m.Recorder.Events.OfType<KernelLogged>(), l => l.Line.Loss is not null);
        var discarded = Assert.Single(m.Recorder.Events.OfType<SignalDiscarded>());
        Assert.Equal((Signal.SIGWINCH, SignalReason.TaskIsolation), (discarded.Signal, discarded.Reason));
        Assert.Empty(m.Recorder.Events.OfType<SignalSent>());
        Assert.Empty(m.Recorder.Events.OfType<SignalDelivered>());
        Assert.Equal((0, 0), (m.Recorder.Events.OfType<TaskExited>().Single().Code, m.Recorder.Events.OfType<TaskExited>().Single().Signal));
    }
}
