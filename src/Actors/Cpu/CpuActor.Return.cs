using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Task;
using TaskIsolation.Actors.Tick;
using TaskIsolation.Actors.Vmstat;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Abi.V13;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Mm;

namespace TaskIsolation.Actors.Cpu;

/// <summary>The exit-to-user loop, signal delivery and the scheduler.</summary>
internal sealed partial class CpuActor
{
    // ---------------------------------------------------------------- exit to user

    /// <summary>
    /// <c>prepare_exit_to_usermode()</c> with the series' hooks: loop { with interrupts on, schedule if asked, deliver
    /// signals, run <c>task_isolation_enter()</c>; with interrupts off, re-check the work flags and
    /// <c>task_isolation_ready()</c> } until nothing is left, then return to user mode.
    /// </summary>
    private void BeginReturnToUser(long cause)
    {
        var t = _rq.Curr!;
        if (t.SyscallNr >= 0)
        {
            // syscall_return_slowpath() → trace_sys_exit(): the syscall's return, before the exit-to-user loop. A task
            // that slept or migrated in the syscall returns from it here, where it runs again.
            var nr = t.SyscallNr;
            var ret = t.Resume == ResumeKind.Result ? t.PendingResult : 0;
            _rq.Curr = t = t with { SyscallNr = -1 };
            Publish(new SyscallExited(Sim.NewEventId(), Now, _cpu, cause, t.Ref, nr, ret));
        }

        if (t.ReturnSince == 0)
        {
            _rq.Curr = t with { ReturnSince = Now, KernelCause = cause };
            if (t.Isolated)
            {
                Publish(new ReturnToUserBegan(Sim.NewEventId(), Now, _cpu, cause, t.Ref));
            }
        }

        ExitLoopWork(cause);
    }

    /// <summary>
    /// A pass of <c>exit_to_usermode_loop()</c>: <c>local_irq_enable()</c> first, so an interrupt held since the last
    /// check (one that came while it had interrupts off) is taken here, in the kernel, and the pass starts again when
    /// its handler returns; then the loop's work.
    /// </summary>
    private void ExitLoopWork(long cause)
    {
        SetState(CpuState.Kernel);
        if (EnableInterrupts(new Next(Then.ExitLoopWork, cause)))
        {
            return;
        }

        if (_rq.PendingMigration >= 0 && !_rq.Curr!.Affinity.Test(_cpu))
        {
            var target = _rq.PendingMigration;
            _rq.PendingMigration = -1;
            MigrateCurrent(target, cause);
            return;
        }

        if (_rq.NeedResched || _deferred.Queue.Count > 0)
        {
            Schedule(cause, new Next(Then.ExitLoopWork, cause));
            return;
        }

        if (!_rq.Curr!.PendingSignals.IsEmpty)
        {
            if (!DeliverSignal(cause))
            {
                return;
            }
        }

        if (_rq.Curr.Isolated && !V16)
        {
            // task_isolation_enter(): drain this CPU's LRU pagevecs, quiet vmstat synchronously (a request to this
            // CPU's vmstat worker, waited for with interrupts on), ask to reschedule while the tick still runs.
            SetState(CpuState.ReturnEnter);
            if (_m.Switches.NoNewDeferredWork)
            {
                // R7's mitigation: no new deferred work from here on, raised before this CPU drains its own batches.
                _shared.RefuseNewWork();
            }

            _deferred.LruNonEmpty = false;
            _shared.LruNonEmpty = false;
            var request = ++_waits.LastRequestId;
            _deferred.VmstatIdle = false;
            Send(_deferred.Vmstat, new QuietVmstat(cause, request));
            WaitForVmstat(request, cause);
            return;
        }

        Run(Activity.Kernel, CpuState.Kernel, _m.Timings.ReturnReadyNs, new Next(Then.ExitLoopCheck, cause));
    }

    private void WaitForVmstat(long request, long cause)
    {
        WaitFor(request, 1, new Next(Then.VmstatQuieted, cause));
        SetState(CpuState.ReturnEnter);
    }

    /// <summary>
    /// <c>quiet_vmstat_sync()</c> returned: the rest of <c>task_isolation_enter()</c> (ask to reschedule while the tick
    /// still runs), then the loop's check.
    /// </summary>
    private void VmstatQuieted(long cause)
    {
        if (ReturnToUserV13.Enter(_tick.Stopped).SetNeedResched)
        {
            _rq.NeedResched = true;
        }

        Run(Activity.Kernel, CpuState.ReturnEnter, _m.Timings.ReturnEnterNs, new Next(Then.ExitLoopCheck, cause));
    }

    /// <summary>Interrupts off: re-read the flags and, for an isolated task, <c>task_isolation_ready()</c>.</summary>
    private void ExitLoopCheck(long cause)
    {
        _irqs.On = false;
        var t = _rq.Curr!;
        var ready = !t.Isolated || V16 || TaskIsolation.Machine.Mm.DeferredWork.Ready(
            TaskIsolationRules.Ready(lruEmpty: !_deferred.LruNonEmpty, vmstatIdle: _deferred.VmstatIdle, tickStopped: _tick.Stopped), _shared.QueuedWork, _m.Switches.NoNewDeferredWork);
        if (!ready && _deferred.Queue.Count == 0 && t.PendingSignals.IsEmpty && ReturnToUserV13.WaitExpired(Now - t.ReturnSince, _m.Switches.BoundedWaitNs))
        {
            GiveUpWaiting(cause);
            return;
        }

        if (_rq.NeedResched || _deferred.Queue.Count > 0 || !t.PendingSignals.IsEmpty || !ready)
        {
            Run(Activity.Kernel, CpuState.ReturnReady, _m.Timings.ReturnReadyNs, new Next(Then.ExitLoopWork, cause));
            return;
        }

        if (V16 && t.Isolated)
        {
            TaskIsolationStartV16(cause);
            return;
        }

        if (!V16 && t.PrctlInFlight is { } p)
        {
            // Bounded wait: the enabling prctl got its ready return, so it succeeds.
            _rq.Curr = t with { PrctlInFlight = null };
            Publish(new PrctlReturned(Sim.NewEventId(), Now, _cpu, cause, t.Ref, p.Option, p.Arg, 0));
        }

        Run(Activity.Kernel, CpuState.ReturnReady, _m.Timings.ReturnToUserNs, new Next(Then.EnterUser, cause));
    }

    /// <summary>
    /// The bounded wait (model switch <c>bounded_wait</c>, R1's mitigation) ran out with <c>task_isolation_ready()</c>
    /// still false: stop isolating. The enabling prctl's own return fails with <c>-EAGAIN</c> and stops isolation
    /// quietly, as v16's <c>task_isolation_start()</c> does; any other return loses isolation as a break does (log,
    /// clear, signal). Either way the task is no longer isolated, so the loop then finishes like any task's return.
    /// </summary>
    private void GiveUpWaiting(long cause)
    {
        var t = _rq.Curr!;
        if (t.PrctlInFlight is { } p)
        {
            t = t with { PrctlInFlight = null, IsolationFlags = 0, PendingResult = -Errno.EAGAIN };
            Replace(t);
            Publish(new PrctlReturned(Sim.NewEventId(), Now, _cpu, cause, t.Ref, p.Option, p.Arg, -Errno.EAGAIN));
        }
        else
        {
            var blockers = ReturnToUserV13.Blockers(new ReadinessSnapshot(!_deferred.LruNonEmpty, !_deferred.VmstatIdle, false, _tick.Stopped));
            ApplyResponse(t, ReturnToUserV13.GiveUp(TaskIsolationRules.Identity(t), new IsolationFlags(t.IsolationFlags), blockers), cause);
        }

        Run(Activity.Kernel, CpuState.ReturnReady, _m.Timings.ReturnReadyNs, new Next(Then.ExitLoopWork, cause));
    }

    /// <summary>The iret: user mode, interrupts on; anything held since the ready check is taken now.</summary>
    private void EnterUser(long cause)
    {
        var t = _rq.Curr!;
        var waited = Now - t.ReturnSince;
        _rq.Curr = t = t with { ReturnSince = 0 };
        _irqs.On = true;
        SetState(UserState());
        _shared.Quiesced = t.Isolated;
        Publish(new ReturnedToUser(Sim.NewEventId(), Now, _cpu, cause, t.Ref, t.Isolated, waited));

        StartUserWork(cause);
        if (_irqs.Held.Count > 0)
        {
            TakeIrq(_irqs.Held.Dequeue(), held: true);
        }
    }

    private void StartUserWork(long cause)
    {
        var t = _rq.Curr!;
        switch (t.Resume)
        {
            case ResumeKind.Compute:
                Run(Activity.User, UserState(), t.UserRemainingNs, new Next(Then.UserComputeDone));
                break;
            case ResumeKind.Handler:
                AwaitOp(new EnterHandler(cause, t.Pid, t.Seq + 1, t.HandlerSignal));
                break;
            case ResumeKind.AwaitingOp:
                _exec.Act = Activity.UserAwaitingOp;
                NextGeneration();
                if (t.StashedOp is { } stashed)
                {
                    _rq.Curr = t with { StashedOp = null };
                    OnUserOp(new UserOp(stashed.Cause, t.Pid, stashed.Seq, stashed.Op));
                }

                break;
            case ResumeKind.Restart when t.RestartOp is { } again:
                // The restart moved the user pc back onto the syscall instruction: the task issues the same step again,
                // as if its program had just answered (an interrupt held since the ready check is taken first).
                _rq.Curr = t with { Seq = t.Seq + 1, RestartOp = null, Resume = ResumeKind.AwaitingOp };
                _exec.Act = Activity.UserAwaitingOp;
                NextGeneration();
                Send(Self, new UserOp(cause, t.Pid, t.Seq + 1, again));
                break;
            default:
                AwaitOp(new ResumeUser(cause, t.Pid, t.Seq + 1, t.Resume == ResumeKind.Start ? 0 : t.PendingResult));
                break;
        }
    }

    private void AwaitOp(ITaskProtocol ask)
    {
        var t = SignalDelivery.BackInUser(_rq.Curr!);
        _rq.Curr = t with { Seq = t.Seq + 1, Resume = ResumeKind.AwaitingOp };
        _exec.Act = Activity.UserAwaitingOp;
        NextGeneration();
        Send(_m.TaskActors[t.Pid], ask);
    }

    /// <summary>A step finished in the kernel: return to user with <paramref name="result"/>.</summary>
    private void SyscallReturn(long result, long cause)
    {
        _rq.Curr = _rq.Curr! with { Resume = ResumeKind.Result, PendingResult = result };
        BeginReturnToUser(cause);
    }

    /// <summary>User compute finished: ask the program for its next step, in user mode.</summary>
    private void OpCompleted(long result)
    {
        _rq.Curr = _rq.Curr! with { Resume = ResumeKind.Result, PendingResult = result };
        StartUserWork(_exec.LastCause);
    }

    // ---------------------------------------------------------------- signals

    /// <summary>
    /// <c>get_signal()</c>: deliver the first pending signal. The series clears the task's isolation here, before
    /// the handler runs, so a handler that wants isolation back must ask again. Returns false when the task is gone.
    /// </summary>
    private bool DeliverSignal(long cause)
    {
        var (t, p) = SignalDelivery.Dequeue(_rq.Curr!);
        _rq.Curr = t;
        _shared.SetCurrent(t.Pid, t.Comm, t.IsolationFlags);
        var disposition = SignalDelivery.Disposition(t, p.Signal);
        if (disposition == SignalDisposition.Handler)
        {
            Publish(new SignalDelivered(Sim.NewEventId(), Now, _cpu, p.Cause, t.Ref, p.Signal, SignalAction.Handler));
            _rq.Curr = SignalDelivery.EnterHandler(t, p.Signal);
            return true;
        }

        if (disposition == SignalDisposition.Ignore)
        {
            // The kernel discards a default-ignored signal when it is sent, so no restart follows from it.
            Publish(new SignalDelivered(Sim.NewEventId(), Now, _cpu, p.Cause, t.Ref, p.Signal, SignalAction.Ignored));
            return true;
        }

        Publish(new SignalDelivered(Sim.NewEventId(), Now, _cpu, p.Cause, t.Ref, p.Signal, SignalAction.Terminate));
        ExitTask(0, p.Signal, p.Cause);
        return false;
    }

    /// <summary>A signal generated for <paramref name="pid"/> on this CPU (or forwarded to where the task now runs).</summary>
    private void QueueSignal(int pid, int sig, SignalReason reason, long cause)
    {
        if (sig != Signal.None && !SignalDelivery.Generates(sig))
        {
            // send_sig_info() refuses a number above 64 (a SET_SIG(65..127) nobody validated): nothing is generated.
            return;
        }

        if (sig != Signal.None && DiscardedWhenSent(pid, sig))
        {
            Publish(new SignalDiscarded(Sim.NewEventId(), Now, _cpu, cause, new TaskRef(pid, CommOf(pid)), sig, reason));
            return;
        }

        var e = new SignalSent(Sim.NewEventId(), Now, _cpu, cause, new TaskRef(pid, CommOf(pid)), sig, reason);
        Publish(e);
        if (sig == Signal.None)
        {
            return;
        }

        SignalArrived(new SignalPayload(pid, sig, reason.Text), e.Id);
    }

    /// <summary>
    /// <c>sig_ignored()</c> as the sender runs it: it reads the target's handlers (shared memory, wherever the target
    /// runs) and discards a default-ignored signal (<see cref="SignalDelivery.DiscardedWhenSent"/>).
    /// </summary>
    private bool DiscardedWhenSent(int pid, int sig) => SignalDelivery.DiscardedWhenSent(_m.Memory.CatchesSignal(pid, sig), sig);

    private string CommOf(int pid)
    {
        if (_rq.Curr?.Pid == pid)
        {
            return _rq.Curr.Comm;
        }

        var q = _rq.Runnable.Find(t => t.Pid == pid);
        return q?.Comm ?? (_rq.Sleeping.TryGetValue(pid, out var s) ? s.Task.Comm : "?");
    }

    /// <summary><c>signal_wake_up()</c> on this CPU: mark the signal pending on the task, waking it if it sleeps.</summary>
    private void SignalArrived(SignalPayload s, long cause)
    {
        var pending = new PendingSignal(s.Signal, cause);
        if (s.IsolationBreak)
        {
            IsolationBreakArrived(s, cause);
            return;
        }

        if (_rq.Curr?.Pid == s.Pid)
        {
            _rq.Curr = SignalDelivery.Pend(_rq.Curr, pending).Task;
            return;
        }

        var i = _rq.Runnable.FindIndex(t => t.Pid == s.Pid);
        if (i >= 0)
        {
            _rq.Runnable[i] = SignalDelivery.Pend(_rq.Runnable[i], pending).Task;
            return;
        }

        if (_rq.Sleeping.TryGetValue(s.Pid, out var sl))
        {
            _rq.Sleeping.Remove(s.Pid);
            _m.Memory.SetTaskAsleep(s.Pid, false);
            Enqueue(SignalDelivery.Pend(sl.Task, pending).Task with { Resume = ResumeKind.Result, PendingResult = -Errno.EINTR }, cause);
            return;
        }

        ForwardSignal(s, cause);
    }

    private void ForwardSignal(SignalPayload s, long cause)
    {
        var where = _m.Memory.TaskCpu(s.Pid);
        if (where < 0)
        {
            return; // exited: the signal has no one to go to
        }

        if (where == _cpu)
        {
            // The task is on its way here (its migration message is still in flight): hand it over on arrival.
            if (!_rq.SignalsForArrivals.TryGetValue(s.Pid, out var list))
            {
                _rq.SignalsForArrivals[s.Pid] = list = [];
            }

            list.Add(s);
            return;
        }

        SendIrq(where, new Irq(cause, new SignalWakeup(s.Signal), _cpu, s));
    }

    /// <summary>
    /// The signal of a report of a broken isolation reached the task's CPU (<c>send_sig_info()</c>'s wake-up). The
    /// sender has logged and cleared the flags already (<see cref="DeliverRemoteReport"/>); here the signal becomes
    /// pending, merged into the same one if that is still pending (<see cref="SignalDelivery.Pend"/>). A second report
    /// (§9 R14) brings a second signal, which the task takes again only if it took the first in between.
    /// </summary>
    private void IsolationBreakArrived(SignalPayload s, long cause) => SignalArrived(s with { IsolationBreak = false }, cause);

    /// <summary>
    /// Another CPU's <c>task_isolation_set_flags(p, 0)</c> (a sender's report, <see cref="DeliverRemoteReport"/>) as this
    /// CPU next reads the flags of its current task: from this step on its copy is clear, as the word it stands for.
    /// The context it entered user mode in is left as it was: an interrupt already on its way still reaches a task that
    /// entered user space isolated and has not been back in the kernel since.
    /// </summary>
    private void ApplyRemoteIsolationClear()
    {
        if (!_m.Memory.AnyIsolationFlagsClearedRemotely || _rq.Curr is not { } c || !_m.Memory.TakeIsolationFlagsCleared(c.Pid) || c.IsolationFlags == 0)
        {
            return;
        }

        _rq.Curr = c with { IsolationFlags = 0 };
        if (_shared.CurrentPid == c.Pid)
        {
            _shared.SetCurrent(c.Pid, c.Comm, 0);
        }
    }

    /// <summary>The same for a task about to run here (switched in or back): its flags as the word now says.</summary>
    private TaskStruct WithRemoteIsolationClear(TaskStruct t) =>
        _m.Memory.AnyIsolationFlagsClearedRemotely && _m.Memory.TakeIsolationFlagsCleared(t.Pid) ? t with { IsolationFlags = 0 } : t;

    /// <summary>Carries out the kernel's response to a lost isolation, in its order: log lines, clear flags, signal.</summary>
    private void ApplyResponse(TaskStruct t, IsolationResponse response, long cause)
    {
        foreach (var action in response.Actions)
        {
            switch (action)
            {
                case IsolationAction.Log log:
                    cause = Log(log.Line, cause);
                    break;
                case IsolationAction.ClearFlags:
                    if (V16)
                    {
                        _m.Memory.SetV16State(t.Pid, global::TaskIsolation.Machine.Abi.V16.V16State.Normal);
                    }

                    t = t with { IsolationFlags = 0 };
                    Replace(t);
                    break;
                case IsolationAction.SendSignal send when send.Signal != Signal.None:
                    QueueSignal(t.Pid, send.Signal, SignalReason.TaskIsolation, cause);
                    t = _rq.Curr?.Pid == t.Pid ? _rq.Curr : _rq.Runnable.Find(x => x.Pid == t.Pid) ?? t;
                    break;
                case IsolationAction.DumpStack:
                    cause = DumpStack(cause);
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary><c>dump_stack()</c> on this CPU: its header line names this CPU and the task current here.</summary>
    private long DumpStack(long cause)
    {
        var who = _rq.Curr is { } c ? TaskIsolationRules.Identity(c) : new TaskIdentity("swapper/" + _cpu, 0);
        return Log(KernelLogLine.Warn(IsolationAction.DumpStack.Header(_cpu, who)), cause);
    }

    /// <summary>Replaces a task's struct wherever this CPU holds it.</summary>
    private void Replace(TaskStruct t)
    {
        if (_rq.Curr?.Pid == t.Pid)
        {
            _rq.Curr = t;
            _shared.SetCurrent(t.Pid, t.Comm, t.IsolationFlags);
            return;
        }

        var i = _rq.Runnable.FindIndex(x => x.Pid == t.Pid);
        if (i >= 0)
        {
            _rq.Runnable[i] = t;
        }
    }

    /// <summary>An interrupt from a local source reached an isolated task in user mode (patch 05's irq-entry hook).</summary>
    private void BreakIsolationLocally(Irq irq, long cause)
    {
        if (V16)
        {
            BreakIsolationV16(irq, cause);
            return;
        }

        var t = _rq.Curr!;
        var d = TaskIsolationRules.Async(irq, _cpu, _cpu, _m.TaskIsolation.Test(_cpu), TaskIsolationRules.Identity(t), t.IsolationFlags, true, _m.TaskIsolationDebug);
        if (!d.IsViolation)
        {
            return;
        }

        // Tested and delivered in one step on the task's own CPU: a remote sender's delivery can still fall after this
        // test (its own test came first), which is the race of §9 R14 seen from the other side.
        ApplyResponse(t, AsyncInterruptV13.Deliver(d, () => _m.Memory.DebugRatelimit(Now)), cause);
    }

    /// <summary>
    /// The sender's side of patch 05 (<c>task_isolation_debug()</c> in the IPI paths), its test: read the target CPU's
    /// current task, its flags and its context racily and, if it looks isolated and in user mode, decide to report the
    /// break (§9 R8: the read can be stale either way). The delivery is a step of its own
    /// (<see cref="DeliverRemoteReport"/>), as nothing holds the flags between the two in the kernel (§9 R14).
    /// </summary>
    private void ReportRemoteIsolationBreak(int target, Irq irq, long cause, long latency)
    {
        if (target == _cpu)
        {
            return;
        }

        if (V16)
        {
            ReportRemoteV16(target, irq, cause);
            return;
        }

        var remote = _m.Memory.Cpu(target);
        var inUser = remote.State is CpuState.User or CpuState.UserIsolated;
        var who = new TaskIdentity(remote.CurrentComm, remote.CurrentPid);
        var d = TaskIsolationRules.Async(irq, _cpu, target, _m.TaskIsolation.Test(target), who, _m.Memory.IsolationFlagsOf(target), inUser, _m.TaskIsolationDebug);
        if (d.Delivers)
        {
            Send(Self, new DeliverIsolationReport(cause, target, who, d, latency));
        }
    }

    /// <summary>
    /// The delivery step of a report this CPU tested (<see cref="AsyncInterruptV13.Deliver"/>), in the kernel's order
    /// and on this CPU as the kernel runs it: <c>pr_warn()</c> of the lost isolation, <c>task_isolation_set_flags(p,
    /// 0)</c> in the task's flags word, <c>send_sig_info()</c> (the signal generated here; its wake-up follows the
    /// reported interrupt to the target, which makes it pending), then the rate-limited <c>pr_err()</c> and
    /// <c>dump_stack()</c>. It does not test the flags again: if another CPU reported the task since this CPU's test,
    /// the task is reported twice (§9 R14).
    /// </summary>
    private void DeliverRemoteReport(DeliverIsolationReport r)
    {
        var cause = r.Cause;
        var pid = r.Task.Pid;
        foreach (var action in AsyncInterruptV13.Deliver(r.Decision, () => _m.Memory.DebugRatelimit(Now)).Actions)
        {
            switch (action)
            {
                case IsolationAction.Log log:
                    cause = Log(log.Line, cause);
                    break;
                case IsolationAction.ClearFlags:
                    _m.Memory.ClearIsolationFlagsRemotely(pid);
                    break;
                case IsolationAction.SendSignal send when SignalDelivery.Generates(send.Signal) && DiscardedWhenSent(pid, send.Signal):
                    // SET_SIG() of a signal the task ignores by default: send_sig_info() discards it, so no wake-up
                    // follows the reported interrupt.
                    var discarded = new SignalDiscarded(Sim.NewEventId(), Now, _cpu, cause, new TaskRef(pid, r.Task.Comm), send.Signal, SignalReason.TaskIsolation);
                    Publish(discarded);
                    cause = discarded.Id;
                    break;
                case IsolationAction.SendSignal send when SignalDelivery.Generates(send.Signal):
                    var sent = new SignalSent(Sim.NewEventId(), Now, _cpu, cause, new TaskRef(pid, r.Task.Comm), send.Signal, SignalReason.TaskIsolation);
                    Publish(sent);
                    cause = sent.Id;
                    SendAfter(r.Latency, _m.Cpus[r.Target], new Irq(sent.Id, new RescheduleIpi(RescheduleReason.IsolationReport), _cpu, new SignalPayload(pid, send.Signal, r.Decision.Reason, IsolationBreak: true)));
                    break;
                case IsolationAction.DumpStack:
                    cause = DumpStack(cause);
                    break;
                default:
                    break;
            }
        }
    }

    // ---------------------------------------------------------------- scheduler

    private void Enqueue(TaskStruct t, long cause)
    {
        _m.Memory.SetTaskCpu(t.Pid, _cpu);
        if (_rq.SignalsForArrivals.Remove(t.Pid, out var signals))
        {
            foreach (var s in signals)
            {
                t = SignalDelivery.Pend(t, new PendingSignal(s.Signal, cause)).Task;
            }
        }

        _rq.Runnable.Add(t);
        if (_rq.Curr is null || _rq.Curr.IsKernelThread)
        {
            _rq.NeedResched = true;
        }
    }

    private void LeaveIdle(long cause)
    {
        if (_tick.Stopped)
        {
            // tick_nohz_idle_exit(): the tick restarts; a nohz_full CPU stops it again at the next irq exit.
            RestartTick(cause, TickDep.None);
        }

        Schedule(cause, new Next(Then.GoIdle, cause));
    }

    /// <summary>
    /// <c>schedule()</c>: run pending kworker items first, then round-robin among runnable tasks. When the current
    /// task keeps the CPU, it goes on to <paramref name="continueCurrent"/> (the exit loop, or idle); a task switched
    /// in resumes its own exit path.
    /// </summary>
    private void Schedule(long cause, Next continueCurrent)
    {
        _rq.NeedResched = false;
        if (_deferred.Queue.Count > 0)
        {
            RunKworker(cause, continueCurrent);
            return;
        }

        var prev = _rq.Curr;
        if (_rq.Runnable.Count == 0)
        {
            if (prev is null)
            {
                GoIdle(cause);
            }
            else
            {
                Proceed(continueCurrent);
            }

            return;
        }

        var next = _rq.Runnable[0];
        _rq.Runnable.RemoveAt(0);
        AccountCurrent();
        if (prev is not null)
        {
            _rq.Runnable.Add(prev);
        }

        SwitchTo(prev, next, cause);
    }

    private void SwitchTo(TaskStruct? prev, TaskStruct next, long cause)
    {
        next = WithRemoteIsolationClear(next);
        var e = new ContextSwitched(Sim.NewEventId(), Now, _cpu, cause, prev?.Ref ?? TakeOutgoing(), next.Ref);
        Publish(e);
        var prevMm = prev?.Mm ?? _rq.OutgoingMm;
        _rq.OutgoingMm = 0;
        TlbFlush.SwitchMm(_m.Memory, _cpu, prevMm, next.Mm);

        _rq.Curr = next;
        _rq.CurrSince = Now;
        _rq.SliceStart = Now;
        _shared.SetCurrent(next.Pid, next.Comm, next.IsolationFlags);
        Run(Activity.Kernel, CpuState.Kernel, _m.Timings.ContextSwitchNs, new Next(Then.BeginReturnToUser, e.Id));
    }

    /// <summary>A kworker runs queued work on this CPU: a context switch away and back (<c>process_one_work()</c>).</summary>
    private void RunKworker(long cause, Next continueCurrent)
    {
        var w = _deferred.Queue.Dequeue();
        var prev = _rq.Curr;
        var sw = new ContextSwitched(Sim.NewEventId(), Now, _cpu, cause, prev?.Ref ?? TakeOutgoing(), _kworker);
        Publish(sw);
        AccountCurrent();
        _shared.SetCurrent(0, _kworker.Comm, 0);
        _deferred.Running = w;
        _deferred.Preempted = prev;
        _deferred.ContinuePreempted = continueCurrent;
        Run(Activity.Kernel, CpuState.Kernel, _m.Timings.ContextSwitchNs + w.WorkNs, new Next(Then.KworkerDone, sw.Id));
    }

    /// <summary>The kworker's item is done: its completion, then the switch back to the task it preempted.</summary>
    private void KworkerDone(long cause)
    {
        var w = _deferred.Running ?? throw new InvalidOperationException($"cpu {_cpu}: a kworker finished with no work item");
        var prev = _deferred.Preempted;
        _deferred.Running = null;
        _deferred.Preempted = null;
        var done = new WorkExecuted(Sim.NewEventId(), Now, _cpu, cause, w.Function);
        Publish(done);
        if (w.Function == WorkFunction.VmstatUpdate)
        {
            Send(_deferred.Vmstat, new VmstatUpdateRan(done.Id));
        }
        else if (w.Function == WorkFunction.LruAddDrainPerCpu)
        {
            _deferred.LruNonEmpty = false;
            _shared.LruNonEmpty = false;
            if (w.AckToCpu != _cpu)
            {
                _shared.WorkDone();
            }
        }

        if (w.AckToCpu >= 0)
        {
            SendIpiReply(w.AckToCpu, new Ack(done.Id, w.RequestId));
        }

        // The task is switched back as it was when the kworker preempted it: the switch names that task struct.
        Publish(new ContextSwitched(Sim.NewEventId(), Now, _cpu, done.Id, _kworker, prev?.Ref));
        if (prev is not null)
        {
            // The task's struct as it is now (a report may have cleared its flags while the kworker ran).
            prev = _rq.Curr?.Pid == prev.Pid ? _rq.Curr : prev;
            _shared.SetCurrent(prev.Pid, prev.Comm, prev.IsolationFlags);
            _rq.CurrSince = Now;
        }

        Run(Activity.Kernel, CpuState.Kernel, _m.Timings.ContextSwitchNs, new Next(Then.KworkerSwitchedBack, done.Id));
    }

    /// <summary>Back from the kworker: <c>schedule()</c> again, for more work or another task, or to carry on.</summary>
    private void KworkerSwitchedBack(long cause)
    {
        var continuePreempted = _deferred.ContinuePreempted;
        _deferred.ContinuePreempted = default;
        Schedule(cause, continuePreempted);
    }

    private void GoIdle(long cause)
    {
        _exec.Act = Activity.Idle;
        NextGeneration();
        SetState(CpuState.Idle);
        _shared.SetCurrent(0, "swapper", 0);
        _shared.Quiesced = false;
        if (_rq.Outgoing is not null)
        {
            Publish(new ContextSwitched(Sim.NewEventId(), Now, _cpu, cause, _rq.Outgoing, null));
            _rq.Outgoing = null;
        }

        if (_rq.Runnable.Count > 0 || _deferred.Queue.Count > 0)
        {
            Schedule(cause, new Next(Then.GoIdle, cause));
            return;
        }

        if (!_tick.Stopped)
        {
            // tick_nohz_idle_enter(): an idle CPU needs no tick, nohz_full or not. tick_nohz_stop_sched_tick() traces
            // the stop (tick_stop: success=1) as it does for a busy nohz_full CPU.
            _tick.Stopped = true;
            _tick.FailureReported = false;
            Publish(new TickStopAttempted(Sim.NewEventId(), Now, _cpu, cause, true, TickDep.None, long.MaxValue));
            _tick.Generation++;
            Send(_tick.Source, new ShutdownTick(cause, _tick.Generation));
        }
    }

    /// <summary>The current task leaves the CPU for good (exit) or for a while (sleep, wait, migration).</summary>
    private void Deschedule(long cause)
    {
        AccountCurrent();
        var prev = _rq.Curr!;
        _rq.Curr = null;
        _rq.OutgoingMm = prev.Mm;
        _rq.Outgoing = prev.Ref;
        _shared.SetCurrent(0, "swapper", 0);
        Schedule(cause, new Next(Then.GoIdle, cause));
    }

    private TaskRef? TakeOutgoing()
    {
        var o = _rq.Outgoing;
        _rq.Outgoing = null;
        return o;
    }

    private void Wake(int pid, long result, long cause)
    {
        if (_rq.Sleeping.Remove(pid, out var s))
        {
            _m.Memory.SetTaskAsleep(pid, false);
            Enqueue(s.Task with { Resume = ResumeKind.Result, PendingResult = result }, cause);
        }
    }
}
