using System.Collections.Immutable;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;

namespace TaskIsolation.Machine.Tests.Kernel;

public sealed class SignalDeliveryTests
{
    private static readonly TaskStruct Isolated = new()
    {
        Pid = 101,
        Tgid = 101,
        Comm = "iso",
        Affinity = CpuMask.Single(4, 3),
        IsolationFlags = IsolationFlags.EnabledWithSignal(Signal.SIGUSR1).Word,
        PendingSignals = [new PendingSignal(Signal.SIGUSR1, 7), new PendingSignal(Signal.SIGTERM, 8)],
    };

    [Fact]
    public void Get_signal_takes_the_first_pending_signal_and_clears_isolation_whatever_the_signal_does()
    {
        var (t, p) = SignalDelivery.Dequeue(Isolated);

        Assert.Equal(new PendingSignal(Signal.SIGUSR1, 7), p);
        Assert.Equal([new PendingSignal(Signal.SIGTERM, 8)], t.PendingSignals);
        Assert.Equal(0u, t.IsolationFlags);
        Assert.False(t.Isolated);
    }

    [Fact]
    public void Get_signal_with_nothing_pending_is_a_model_error()
    {
        var quiet = Isolated with { PendingSignals = [] };

        Assert.Throws<InvalidOperationException>(() => SignalDelivery.Dequeue(quiet));
    }

    [Theory]
    [InlineData(Signal.SIGUSR1, true, SignalDisposition.Handler)]
    [InlineData(Signal.SIGUSR1, false, SignalDisposition.Terminate)]
    [InlineData(Signal.SIGKILL, true, SignalDisposition.Terminate)] // SIGKILL cannot be caught
    [InlineData(Signal.SIGSTOP, true, SignalDisposition.Terminate)] // nor SIGSTOP (the model has no stopped state)
    [InlineData(Signal.SIGCHLD, false, SignalDisposition.Ignore)]
    [InlineData(Signal.SIGCHLD, true, SignalDisposition.Handler)]
    [InlineData(Signal.SIGSEGV, false, SignalDisposition.Terminate)]
    public void The_disposition_is_the_handler_if_one_is_installed_else_the_default(int signal, bool caught, SignalDisposition expected)
    {
        var t = caught ? Isolated with { CaughtSignals = [signal] } : Isolated;

        Assert.Equal(expected, SignalDelivery.Disposition(t, signal));
    }

    [Fact]
    public void A_handler_saves_what_it_interrupts_and_rt_sigreturn_restores_it()
    {
        var t = Isolated with { Resume = ResumeKind.Compute, UserRemainingNs = 5_000, PendingResult = 3 };

        var inHandler = SignalDelivery.EnterHandler(t, Signal.SIGUSR1);
        Assert.Equal(ResumeKind.Handler, inHandler.Resume);
        Assert.Equal(Signal.SIGUSR1, inHandler.HandlerSignal);

        var back = SignalDelivery.Sigreturn(inHandler with { Resume = ResumeKind.Result, UserRemainingNs = 0, PendingResult = 0, RestartOp = null });
        Assert.NotNull(back);
        Assert.Equal(ResumeKind.Compute, back.Resume);
        Assert.Equal(5_000, back.UserRemainingNs);
        Assert.Equal(3, back.PendingResult);
        Assert.Null(back.RestartOp);
        Assert.True(back.Frames.IsEmpty);
    }

    [Fact]
    public void A_skipped_syscall_returns_ERESTARTNOINTR_and_keeps_its_step_for_a_restart()
    {
        var write = new Syscall("write");

        var skipped = SignalDelivery.SkipSyscall(Isolated with { Resume = ResumeKind.AwaitingOp }, write);

        Assert.Equal(ResumeKind.Result, skipped.Resume);
        Assert.Equal(-Errno.ERESTARTNOINTR, skipped.PendingResult);
        Assert.Same(write, skipped.RestartOp);
    }

    [Fact]
    public void A_handler_delivered_over_a_skipped_syscall_restarts_it_when_rt_sigreturn_restores_the_frame()
    {
        // handle_signal(): -ERESTARTNOINTR → the pc goes back onto the syscall before the frame is saved.
        var write = new Syscall("write");
        var skipped = SignalDelivery.SkipSyscall(Isolated, write);

        var inHandler = SignalDelivery.EnterHandler(skipped, Signal.SIGUSR1);
        Assert.Equal(ResumeKind.Handler, inHandler.Resume);
        Assert.Null(inHandler.RestartOp); // the handler's own steps restart nothing

        var back = SignalDelivery.Sigreturn(inHandler with { Resume = ResumeKind.Result, PendingResult = 0 })!;
        Assert.Equal(ResumeKind.Restart, back.Resume);
        Assert.Same(write, back.RestartOp);
    }

    [Fact]
    public void Back_in_user_mode_without_a_signal_the_program_sees_ERESTARTNOINTR_and_nothing_restarts()
    {
        // No signal pending: do_signal() does not run, so nothing rewinds the pc.
        var skipped = SignalDelivery.SkipSyscall(Isolated with { PendingSignals = [] }, new Syscall("write"));

        var back = SignalDelivery.BackInUser(skipped);

        Assert.Null(back.RestartOp);
        Assert.Equal((ResumeKind.Result, -Errno.ERESTARTNOINTR), (back.Resume, back.PendingResult));
        Assert.Same(Isolated, SignalDelivery.BackInUser(Isolated)); // nothing to forget: the same task
    }

    [Theory]
    [InlineData(Signal.SIGKILL, true)]
    [InlineData(Signal.SIGUSR1, true)]
    [InlineData(64, true)]
    [InlineData(65, false)] // SET_SIG(65..127) is stored unchecked; send_sig_info() refuses it (valid_signal())
    [InlineData(100, false)]
    [InlineData(127, false)]
    [InlineData(0, false)]
    public void Send_sig_info_generates_only_a_valid_signal(int signal, bool generated) =>
        Assert.Equal(generated, SignalDelivery.Generates(signal));

    [Theory]
    [InlineData(ResumeKind.AwaitingOp)]
    [InlineData(ResumeKind.Handler)]
    public void A_handler_that_interrupted_a_wait_for_the_next_step_or_another_handler_returns_a_result(ResumeKind interrupted)
    {
        var inHandler = SignalDelivery.EnterHandler(Isolated with { Resume = interrupted }, Signal.SIGUSR1);

        Assert.Equal(ResumeKind.Result, SignalDelivery.Sigreturn(inHandler)!.Resume);
    }

    [Fact]
    public void Nested_handlers_return_innermost_first()
    {
        var outer = SignalDelivery.EnterHandler(Isolated with { Resume = ResumeKind.Compute, UserRemainingNs = 1 }, Signal.SIGUSR1);
        var inner = SignalDelivery.EnterHandler(outer with { Resume = ResumeKind.Compute, UserRemainingNs = 2 }, Signal.SIGUSR2);

        var once = SignalDelivery.Sigreturn(inner)!;
        Assert.Equal(2, once.UserRemainingNs);
        Assert.Equal(1, SignalDelivery.Sigreturn(once)!.UserRemainingNs);
    }

    [Fact]
    public void Rt_sigreturn_without_a_frame_restores_nothing()
    {
        Assert.Null(SignalDelivery.Sigreturn(Isolated with { Frames = ImmutableStack<SignalFrame>.Empty }));
    }

    [Fact]
    public void A_standard_signal_already_pending_is_merged_a_realtime_one_is_queued_again()
    {
        var quiet = Isolated with { PendingSignals = [] };

        var (once, queued) = SignalDelivery.Pend(quiet, new PendingSignal(Signal.SIGKILL, 1));
        var (twice, again) = SignalDelivery.Pend(once, new PendingSignal(Signal.SIGKILL, 2));
        Assert.True(queued);
        Assert.False(again);
        Assert.Equal([new PendingSignal(Signal.SIGKILL, 1)], twice.PendingSignals);

        var (rt, _) = SignalDelivery.Pend(quiet, new PendingSignal(Signal.RtMin + 2, 1));
        var (rt2, rtAgain) = SignalDelivery.Pend(rt, new PendingSignal(Signal.RtMin + 2, 2));
        Assert.True(rtAgain);
        Assert.Equal(2, rt2.PendingSignals.Count);

        // The last standard signal below SIGRTMIN merges; another standard signal is queued beside it.
        var (usr, _) = SignalDelivery.Pend(quiet, new PendingSignal(Signal.SIGSYS, 1));
        Assert.False(SignalDelivery.Pend(usr, new PendingSignal(Signal.SIGSYS, 2)).Queued);
        Assert.True(SignalDelivery.Pend(usr, new PendingSignal(Signal.SIGUSR1, 2)).Queued);
    }

    [Fact]
    public void Once_the_first_is_delivered_the_same_standard_signal_is_pending_again()
    {
        var quiet = Isolated with { PendingSignals = [] };
        var (pending, _) = SignalDelivery.Pend(quiet, new PendingSignal(Signal.SIGUSR1, 1));

        var (delivered, _) = SignalDelivery.Dequeue(pending);
        var (again, queued) = SignalDelivery.Pend(delivered, new PendingSignal(Signal.SIGUSR1, 2));

        Assert.True(queued);
        Assert.Equal([new PendingSignal(Signal.SIGUSR1, 2)], again.PendingSignals);
    }
}
