using Akka.Actor;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Tick;
using TaskIsolation.Actors.Vmstat;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Machine.Sched;
using Kill = TaskIsolation.Machine.Programs.Kill;
using SimCore = TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Cpu;

/// <summary>
/// One simulated CPU: the hardware (interrupts, enabled or not) and the kernel running on it (runqueue, context
/// switches, system calls, the exit-to-user loop, the tick's nohz state). Its per-CPU state is private; other CPUs
/// reach it by message (<see cref="Irq"/>), or read the few variables the kernel reads racily through
/// <see cref="KernelMemory"/>.
/// <para>
/// Execution on the CPU is a sequence of timed activities (a kernel step, a handler, user compute), each ending with a
/// <see cref="StepDone"/> self-message. An interrupt taken in the middle saves what remains of the activity and resumes
/// it after the handler; one that arrives with interrupts disabled is held and taken when they are enabled. That is
/// what lets an IPI land between <c>task_isolation_ready()</c> and user mode.
/// </para>
/// </summary>
internal sealed partial class CpuActor : SimCore.SimActor
{
    private readonly int _cpu;
    private readonly MachineTopology _m;
    private readonly PerCpuShared _shared;
    private readonly bool _nohzFull;
    private readonly TaskRef _kworker;

    private readonly RunQueue _rq = new();
    private readonly Execution _exec = new();
    private readonly Interrupts _irqs = new();
    private readonly TickState _tick = new();
    private readonly DeferredWork _deferred = new();
    private readonly Waits _waits = new();

    public CpuActor(SimCore.Simulation sim, MachineTopology machine, int cpu)
        : base(sim)
    {
        _cpu = cpu;
        _m = machine;
        _shared = machine.Memory.Cpu(cpu);
        _nohzFull = machine.NohzFull.Test(cpu);
        _kworker = new TaskRef(0, $"kworker/{cpu}:1");
    }

    public static Props Props(SimCore.Simulation sim, MachineTopology machine, int cpu) =>
        ModelProps.Of(() => new CpuActor(sim, machine, cpu), sim.Dispatcher);

    protected override void PreStart()
    {
        _tick.Source = Context.ActorOf(TickSourceActor.Props(Sim, _m, Self), "tick");
        _deferred.Vmstat = Context.ActorOf(VmstatWorkerActor.Props(Sim, _m, _cpu, Self), "vmstat");
        _m.VmstatWorkers[_cpu] = _deferred.Vmstat;
    }

    protected override void OnReceive(object message)
    {
        if (_exec.Fold is { } fold)
        {
            SettleFold(fold, message);
        }

        ApplyRemoteIsolationClear();
        switch (message)
        {
            case StepDone d:
                if (d.Generation == _exec.Generation)
                {
                    _exec.Timer = default;
                    var then = _exec.Then;
                    _exec.Then = default;
                    if (then.What != Then.Nothing)
                    {
                        Proceed(then);
                    }
                }

                break;
            case Irq irq:
                OnIrq(irq);
                break;
            case Task.UserOp op:
                OnUserOp(op);
                break;
            case Ack ack:
                OnAck(ack);
                break;
            case VmstatState v:
                OnVmstatState(v);
                break;
            case DeliverIsolationReport r:
                DeliverRemoteReport(r);
                break;
            case BootTask b when _tick.Stopped && _rq.Curr is not null:
                // A task started on a busy CPU whose tick is stopped (a nohz_full CPU): wake_up_new_task() on the
                // housekeeping CPU queues it here with a reschedule IPI (ttwu_queue), and add_nr_running() →
                // sched_update_tick_dependency() sets SCHED, so this irq's exit restarts the tick. Enqueued without
                // the interrupt, the CPU would run on tickless with two runnable tasks (§9 R1's second task).
                OnIrq(new Irq(b.Cause, new RescheduleIpi(RescheduleReason.NewTask), TaskIsolation.Machine.Boot.BootedMachine.BootCpu, new EnqueueTaskPayload(b.Task)));
                break;
            case BootTask b:
                Enqueue(b.Task, b.Cause);
                if (_rq.Curr is null && _exec.Act == Activity.Idle)
                {
                    LeaveIdle(b.Cause);
                }

                break;
            default:
                Unhandled(message);
                break;
        }
    }

    // ---------------------------------------------------------------- activities

    /// <summary>
    /// Starts a timed activity that goes on to <paramref name="then"/> when it has had <paramref name="ns"/> of CPU
    /// (<see cref="TaskIsolation.Machine.Programs.Compute.Forever"/>: never, a user loop of pure compute that only interrupts break into).
    /// </summary>
    private void Run(Activity act, CpuState state, long ns, Next then)
    {
        _exec.Act = act;
        SetState(state);
        _exec.Then = then;
        NextGeneration();
        if (ns == TaskIsolation.Machine.Programs.Compute.Forever)
        {
            _exec.End = long.MaxValue;
            return;
        }

        _exec.End = Now + ns;
        var check = _m.Timings.ReturnToUserNs;
        if (then.What == Then.ExitLoopCheck && ns > 0 && check > 0 && _rq.Curr is { } t
            && ExitToUser.CheckFindsNothing(_rq.NeedResched, _deferred.Queue.Count > 0, !t.PendingSignals.IsEmpty, t.IsolationFlags, t.PrctlInFlight is not null))
        {
            // The pass and the check it leads to as one timed step: the boundary between them is delivered only if
            // something else happens at its instant (then the check runs as it always did), and the check's own end
            // is programmed now, in the place among its instant's deliveries it would have had.
            _exec.Timer = Sim.SendBoundaryAfter(ns, Self, new StepDone(_exec.LastCause, _exec.Generation), Self);
            var final = Sim.SendAfterAsOf(ns + check, ns, Self, new StepDone(_exec.LastCause, _exec.Generation + 1), Self);
            _exec.Fold = new FoldedCheck(Now + ns, final, then.Cause);
            return;
        }

        _exec.Timer = SendAfter(ns, Self, new StepDone(_exec.LastCause, _exec.Generation));
    }

    /// <summary>
    /// A message reached the CPU during or after a folded pass (<see cref="FoldedCheck"/>). Past the boundary, the check
    /// happened at it, as decided: carry it out now as of then (what <see cref="ExitLoopCheck"/> does when it finds
    /// nothing). At or before it, the fold is undone and the boundary delivered as an ordinary step end, so the
    /// message meets the CPU in the pass as it always did and the check, if it comes, decides afresh.
    /// </summary>
    private void SettleFold(FoldedCheck fold, object message)
    {
        _exec.Fold = null;
        if (Now > fold.At)
        {
            // ExitLoopCheck with nothing to do: interrupts off, then the step to the iret, since fold.At.
            _irqs.On = false;
            _exec.Act = Activity.Kernel;
            SetState(CpuState.ReturnReady);
            _exec.Then = new Next(Then.EnterUser, fold.Cause);
            _exec.Generation++;
            _exec.End = fold.At + _m.Timings.ReturnToUserNs;
            _exec.Timer = fold.Final;
            return;
        }

        if (message is StepDone d && d.Generation == _exec.Generation)
        {
            // The boundary itself, delivered because something else happens at its instant: the check runs now.
            Sim.Cancel(fold.Final);
            return;
        }

        _exec.Fold = fold;
        Unfold();
    }

    /// <summary>Undoes a fold: the boundary becomes an ordinary step end again, the check's programmed end is withdrawn.</summary>
    private void Unfold()
    {
        if (_exec.Fold is { } fold)
        {
            _exec.Fold = null;
            Sim.Cancel(fold.Final);
            Sim.Firm(_exec.Timer);
        }
    }

    /// <summary>
    /// Supersedes the current activity. Its pending end, if any, is withdrawn (as <c>hrtimer_cancel()</c> would):
    /// otherwise every interrupt of a long user compute leaves a stale <see cref="StepDone"/> to deliver and ignore.
    /// </summary>
    private void NextGeneration()
    {
        Sim.Cancel(_exec.Timer);
        _exec.Timer = default;
        if (_exec.Fold is { } fold)
        {
            Sim.Cancel(fold.Final);
            _exec.Fold = null;
        }

        _exec.Generation++;
    }

    /// <summary>
    /// The running activity has had its time: carry on along the kernel path it belongs to. Every point a path can
    /// stop at and resume from is a case here, so this switch is the map of where the CPU's timed steps lead.
    /// </summary>
    private void Proceed(Next next)
    {
        var cause = next.Cause;
        switch (next.What)
        {
            // Interrupts.
            case Then.IrqExit:
                HandlerDone();
                break;
            case Then.NmiExit:
                NmiExit();
                break;

            // User mode.
            case Then.UserComputeDone:
                OpCompleted(0);
                break;

            // The exit-to-user loop.
            case Then.BeginReturnToUser:
                BeginReturnToUser(cause);
                break;
            case Then.ExitLoopWork:
                ExitLoopWork(cause);
                break;
            case Then.VmstatQuieted:
                VmstatQuieted(cause);
                break;
            case Then.ExitLoopCheck:
                ExitLoopCheck(cause);
                break;
            case Then.EnterUser:
                EnterUser(cause);
                break;

            // The scheduler.
            case Then.GoIdle:
                GoIdle(cause);
                break;
            case Then.KworkerDone:
                KworkerDone(cause);
                break;
            case Then.KworkerSwitchedBack:
                KworkerSwitchedBack(cause);
                break;

            // System calls and exceptions.
            case Then.DoSyscall:
                DoSyscall(next.Op!, cause);
                break;
            case Then.SyscallReturn:
                SyscallReturn(next.Value, cause);
                break;
            case Then.SyscallRestart:
                SyscallRestart(cause);
                break;
            case Then.FaultFixedUp:
                FaultFixedUp(cause);
                break;
            case Then.DoExit:
                ExitTask((int)next.Value, 0, cause);
                break;
            case Then.DoPrctl when V16:
                DoPrctlV16((Prctl)next.Op!, cause);
                break;
            case Then.DoPrctl:
                DoPrctl((Prctl)next.Op!, cause);
                break;
            case Then.SetAffinityOther:
                SetAffinityOther((SetAffinity)next.Op!, (int)next.Value, cause);
                break;
            case Then.SetAffinitySelf:
                SetAffinitySelf((SetAffinity)next.Op!, cause);
                break;
            case Then.TlbShootdown:
                TlbShootdown(cause);
                break;
            case Then.LruDrained:
                Run(Activity.Kernel, CpuState.Kernel, _m.Timings.MlockNs, new Next(Then.SyscallReturn, cause));
                break;
            case Then.Nanosleep:
                Nanosleep(next.Value, cause);
                break;
            case Then.DoKill:
                DoKill((Kill)next.Op!, cause);
                break;
            case Then.DoSigaction:
                DoSigaction((int)next.Value, cause);
                break;
            case Then.DoSpawn:
                DoSpawn((Spawn)next.Op!, cause);
                break;
            case Then.DoWait:
                DoWait(cause);
                break;
            case Then.DoSigreturn:
                DoSigreturn(cause);
                break;
            default:
                throw new InvalidOperationException($"cpu {_cpu}: an activity ended with nowhere to go ({next.What})");
        }
    }

    /// <summary>Spins in the kernel (interrupts on) until request <paramref name="requestId"/> is acknowledged <paramref name="acks"/> times.</summary>
    private void WaitFor(long requestId, int acks, Next then)
    {
        // Only the running path starts a wait, and a handler never does: while one is pending the CPU is in it.
        System.Diagnostics.Debug.Assert(_waits.Pending is null, $"cpu {_cpu}: a wait started while another is pending");
        _exec.Act = Activity.KernelWait;
        SetState(CpuState.Kernel);
        NextGeneration();
        _exec.End = long.MaxValue;
        _exec.Then = default;
        _waits.Pending = new PendingWait(requestId, acks, then);
        if (acks == 0)
        {
            CompleteWait();
        }
    }

    private void OnAck(Ack ack)
    {
        if (_waits.Pending is not { } w || w.RequestId != ack.RequestId)
        {
            return; // a request no longer waited for (the local LRU drain acks its own, already finished, wait)
        }

        // The requester notices the completion only while it is the one running: under an interrupt handler the ack
        // waits until the handler returns to the spin loop.
        if (_exec.Act != Activity.KernelWait)
        {
            _waits.Late.Enqueue(ack);
            return;
        }

        _exec.LastCause = ack.Cause;
        w = w with { Remaining = w.Remaining - 1 };
        _waits.Pending = w;
        if (w.Remaining <= 0)
        {
            CompleteWait();
        }
    }

    private void CompleteWait()
    {
        var w = _waits.Pending!.Value;
        _waits.Pending = null;
        _exec.Act = Activity.Kernel;
        Proceed(w.Then);
    }

    private void SetState(CpuState state)
    {
        _exec.State = state;
        _shared.State = state;
    }

    // ---------------------------------------------------------------- interrupts

    private void OnIrq(Irq irq)
    {
        if (irq.Payload is TickPayload tp && tp.Generation != _tick.Generation)
        {
            // A tick programmed before the tick source was reprogrammed: the hardware never raised it.
            return;
        }

        if (irq.Kind == InterruptKind.Nmi)
        {
            // Non-maskable: taken whether interrupts are enabled or not, except inside another NMI (the CPU blocks
            // NMIs until the iret that ends the first).
            if (_irqs.InNmi)
            {
                _irqs.HeldNmis.Enqueue(irq);
                Publish(new InterruptHeld(Sim.NewEventId(), Now, _cpu, irq.Cause, irq.Source));
                return;
            }

            TakeNmi(irq);
            return;
        }

        if (!_irqs.On)
        {
            _irqs.Held.Enqueue(irq);
            Publish(new InterruptHeld(Sim.NewEventId(), Now, _cpu, irq.Cause, irq.Source));
            return;
        }

        TakeIrq(irq, held: false);
    }

    /// <summary>
    /// <c>local_irq_enable()</c> in a kernel path: interrupts on, and the first one held while they were off is taken at
    /// once, in the context running now (as the hardware does the moment the flag is set); the path goes on at
    /// <paramref name="resume"/> when the handler returns, and any other held one is taken at that handler's exit
    /// (docs/model.md §5).
    /// </summary>
    /// <returns>Whether a held interrupt was taken: the caller stops, <paramref name="resume"/> carries on.</returns>
    private bool EnableInterrupts(Next resume)
    {
        _irqs.On = true;
        if (_irqs.Held.Count == 0)
        {
            return false;
        }

        // The path is at a point with nothing left to run: the handler interrupts it there, and it resumes from there.
        _exec.Act = Activity.Kernel;
        _exec.End = Now;
        _exec.Then = resume;
        TakeIrq(_irqs.Held.Dequeue(), held: true);
        return true;
    }

    private void TakeIrq(Irq irq, bool held)
    {
        var taken = new InterruptTaken(Sim.NewEventId(), Now, _cpu, irq.Cause, irq.Source, _exec.State, _rq.Curr?.Ref, held);
        Publish(taken);
        _exec.LastCause = taken.Id;

        // The local interrupt path reports what reaches an isolated task in user mode (patch 05's irq-entry hook);
        // IPIs were already reported by their sender, racily, before they were sent.
        if (_exec.State == CpuState.UserIsolated && _rq.Curr is not null && (V16 || Interruption.ReportedByReceiver(irq.Kind)))
        {
            BreakIsolationLocally(irq, taken.Id);
        }

        AccountCurrent();

        // Chained from the end of another handler (a held interrupt taken as interrupts come back on): the frame of
        // what was interrupted is already saved.
        if (_exec.Act != Activity.Irq)
        {
            _exec.Interrupted.Push(SaveActivity());
        }

        _exec.Then = default;
        _irqs.On = false;
        SetState(CpuState.Kernel);
        if (_rq.Curr is not null && _exec.Interrupted.Peek().State is CpuState.User or CpuState.UserIsolated)
        {
            _shared.Quiesced = false;
        }

        _irqs.Handling = irq;
        _irqs.HandlingCause = taken.Id;
        Run(Activity.Irq, CpuState.Kernel, _m.Timings.HandlerNs(irq.Kind), new Next(Then.IrqExit));
    }

    /// <summary>What the running activity is, and what it has left: the frame an interrupt saves to resume it.</summary>
    private Saved SaveActivity() =>
        new(_exec.Act, _exec.State, _exec.End == long.MaxValue ? long.MaxValue : Math.Max(0, _exec.End - Now), _exec.Then);

    /// <summary>The end of the running handler.</summary>
    private void HandlerDone()
    {
        var irq = _irqs.Handling ?? throw new InvalidOperationException($"cpu {_cpu}: a handler ended with no interrupt being handled");
        _irqs.Handling = null;
        Publish(new HandlerReturned(Sim.NewEventId(), Now, _cpu, _irqs.HandlingCause, irq.Source));
        IrqExit(irq, _irqs.HandlingCause);
    }

    /// <summary>
    /// An NMI (<c>do_nmi()</c>): it interrupts whatever runs, even with interrupts off, and returns straight to it. On
    /// x86 the NMI return path does no exit work (entry_64.S: "We must *not* do the normal exit work"), context
    /// tracking still says "user" to remote CPUs, and nothing may be signalled from it: an isolated task it reaches is
    /// only reported, with a dump (§7, R12).
    /// </summary>
    private void TakeNmi(Irq irq)
    {
        var taken = new InterruptTaken(Sim.NewEventId(), Now, _cpu, irq.Cause, irq.Source, _exec.State, _rq.Curr?.Ref, false);
        Publish(taken);
        if (_exec.State == CpuState.UserIsolated && _rq.Curr is not null)
        {
            BreakIsolationLocally(irq, taken.Id);
        }

        AccountCurrent();

        // The NMI leaves the interrupted step's end pending (it comes stale): a folded one must be an ordinary end then.
        Unfold();
        _irqs.NmiInterrupted = SaveActivity();
        _irqs.NmiIrqsWereOn = _irqs.On;
        _irqs.NmiLastCause = _exec.LastCause;
        _irqs.NmiTaken = taken.Id;
        _irqs.InNmi = true;
        _irqs.On = false;
        _exec.Act = Activity.Irq;
        _exec.State = CpuState.Kernel; // only locally: the shared context-tracking state keeps what it had
        _exec.Generation++;
        _exec.End = Now + _m.Timings.HandlerNs(InterruptKind.Nmi);
        _exec.Then = new Next(Then.NmiExit);
        SendAfter(_m.Timings.HandlerNs(InterruptKind.Nmi), Self, new StepDone(taken.Id, _exec.Generation));
    }

    /// <summary>The NMI's iret: straight back to what it interrupted, interrupts as they were, no exit work.</summary>
    private void NmiExit()
    {
        Publish(new HandlerReturned(Sim.NewEventId(), Now, _cpu, _irqs.NmiTaken, NonMaskableInterrupt.Instance));
        var s = _irqs.NmiInterrupted;
        var irqsWereOn = _irqs.NmiIrqsWereOn;
        var lastCause = _irqs.NmiLastCause;
        _irqs.NmiInterrupted = default;
        _irqs.InNmi = false;
        _irqs.On = irqsWereOn;
        _exec.LastCause = lastCause;
        switch (s.Act)
        {
            case Activity.Idle:
                _exec.Act = Activity.Idle;
                SetState(s.State);
                _exec.Generation++;
                if (_irqs.On && (_rq.NeedResched || _rq.Runnable.Count > 0 || _deferred.Queue.Count > 0))
                {
                    LeaveIdle(lastCause);
                }

                break;
            case Activity.UserAwaitingOp:
                _exec.Act = Activity.UserAwaitingOp;
                SetState(s.State);
                _exec.Generation++;
                PublishBackInUser(lastCause);
                RunStashedOp();
                break;
            case Activity.KernelWait:
                _exec.Act = Activity.KernelWait;
                SetState(s.State);
                _exec.Generation++;
                while (_waits.Late.Count > 0)
                {
                    OnAck(_waits.Late.Dequeue());
                }

                break;
            default:
                ReturnToActivity(s);
                if (s.Act == Activity.User)
                {
                    PublishBackInUser(lastCause);
                }

                break;
        }

        if (_irqs.HeldNmis.Count > 0)
        {
            TakeNmi(_irqs.HeldNmis.Dequeue());
        }
        else if (_irqs.On && _irqs.Held.Count > 0 && _exec.Act != Activity.Irq)
        {
            TakeIrq(_irqs.Held.Dequeue(), held: true);
        }
    }

    /// <summary>The handler's effect, then <c>irq_exit()</c>: nohz tick decisions, then back to what was interrupted.</summary>
    private void IrqExit(Irq irq, long cause)
    {
        _exec.LastCause = cause;
        switch (irq.Payload)
        {
            case TickPayload tick:
                SchedulerTick(cause, tick);
                break;
            case EnqueueTaskPayload e:
                Enqueue(e.Task, cause);
                break;
            case SignalPayload s:
                SignalArrived(s, cause);
                break;
            case WorkPayload w:
                _deferred.Queue.Enqueue(w);
                _rq.NeedResched = true;
                break;
            case TlbFlushPayload f:
                SendIpiReply(f.RequesterCpu, new Ack(cause, f.RequestId));
                break;
            case WakeTimerPayload wake:
                Wake(wake.Pid, 0, cause);
                break;
            case AffinityPayload a:
                AffinityChanged(a, cause);
                break;
            case ChildExitPayload c:
                ChildExited(c, cause);
                break;
            default:
                break;
        }

        TickNohzIrqExit(cause);
        _irqs.On = true;
        if (_irqs.Held.Count > 0)
        {
            TakeIrq(_irqs.Held.Dequeue(), held: true);
            return;
        }

        ResumeSaved(_exec.Interrupted.Pop(), cause);
    }

    private void ResumeSaved(Saved s, long cause)
    {
        switch (s.Act)
        {
            case Activity.User or Activity.UserAwaitingOp when _rq.Curr is not null:
                // Return from interrupt to user mode: prepare_exit_to_usermode() runs the loop if any work is flagged,
                // and with TIF_TASK_ISOLATION set it always is.
                if (ExitToUser.HasWork(_rq.NeedResched, _deferred.Queue.Count > 0, !_rq.Curr.PendingSignals.IsEmpty, _rq.Curr.Isolated))
                {
                    _rq.Curr = s.Act == Activity.User
                        ? _rq.Curr with { Resume = ResumeKind.Compute, UserRemainingNs = s.Remaining }
                        : _rq.Curr with { Resume = ResumeKind.AwaitingOp };
                    BeginReturnToUser(cause);
                }
                else if (s.Act == Activity.User)
                {
                    Run(Activity.User, UserState(), s.Remaining, new Next(Then.UserComputeDone));
                    PublishBackInUser(cause);
                }
                else
                {
                    _exec.Act = Activity.UserAwaitingOp;
                    SetState(UserState());
                    _shared.Quiesced = _rq.Curr.Isolated;
                    NextGeneration();
                    PublishBackInUser(cause);

                    // The iret of retint_user with no exit work: the program's next step, asked for before the
                    // interrupt and answered while its handler ran, was kept for user mode (OnUserOp) and runs now;
                    // dropped here, the task would wait for it for ever.
                    RunStashedOp();
                }

                break;
            case Activity.Idle:
                _exec.Act = Activity.Idle;
                SetState(CpuState.Idle);
                if (_rq.NeedResched || _rq.Runnable.Count > 0 || _deferred.Queue.Count > 0)
                {
                    LeaveIdle(cause);
                }

                break;
            case Activity.KernelWait:
                _exec.Act = Activity.KernelWait;
                SetState(s.State);
                NextGeneration();
                while (_waits.Late.Count > 0)
                {
                    OnAck(_waits.Late.Dequeue());
                }

                break;
            default:
                // A kernel step (syscall work, the exit loop's enter) carries on for what it had left.
                ReturnToActivity(s);
                break;
        }
    }

    /// <summary>
    /// Back to an interrupted activity as it was, as the <c>iret</c> at the end of <c>do_nmi()</c> or of an interrupt
    /// returning to the kernel does: a timed activity runs for what it had left and goes on where it was going; one with
    /// no timed end (a path between two steps, waiting for a message rather than a timer) is restored with nothing to
    /// re-arm. An interrupt or NMI can come in any activity and always returns to it (docs/model.md §5).
    /// </summary>
    private void ReturnToActivity(Saved s)
    {
        if (s.Then.What != Then.Nothing)
        {
            Run(s.Act, s.State, s.Remaining, s.Then);
            return;
        }

        _exec.Act = s.Act;
        SetState(s.State);
        NextGeneration();
        _exec.End = long.MaxValue;
    }

    /// <summary>
    /// The task is back waiting for its program's next step in user mode: a step that arrived while it was not (an
    /// interrupt's or NMI's handler ran) was kept (<see cref="TaskStruct.StashedOp"/>) and runs now.
    /// </summary>
    private void RunStashedOp()
    {
        if (_rq.Curr?.StashedOp is { } stashed)
        {
            _rq.Curr = _rq.Curr with { StashedOp = null };
            OnUserOp(new Task.UserOp(stashed.Cause, _rq.Curr.Pid, stashed.Seq, stashed.Op));
        }
    }

    /// <summary>
    /// The task is back in user mode straight from an interrupt or NMI (the iret with no exit work to do): the noise
    /// that interrupt started ends here, isolated or not, so the reports can close it exactly.
    /// </summary>
    private void PublishBackInUser(long cause)
    {
        if (_rq.Curr is { } t)
        {
            Publish(new ReturnedToUser(Sim.NewEventId(), Now, _cpu, cause, t.Ref, t.Isolated, 0));
        }
    }

    private CpuState UserState() => _rq.Curr is { Isolated: true } ? CpuState.UserIsolated : CpuState.User;

    // ---------------------------------------------------------------- tick

    private void SchedulerTick(long cause, TickPayload tick)
    {
        if (_rq.Curr is not null)
        {
            // CFS: a task that has had its slice while others wait is preempted at the next opportunity.
            if (Cfs.SliceExpired(_rq.Runnable.Count, Now - _rq.SliceStart, _m.Timings.TimeSliceNs))
            {
                _rq.NeedResched = true;
            }

            // run_posix_cpu_timers(): an expired CPU-time timer signals its task.
            if (PosixCpuTimers.Expired(_rq.Curr))
            {
                var sig = _rq.Curr.PosixTimerSignal;
                (_rq.Curr, var clearsProcessDep) = PosixCpuTimers.Disarm(_rq.Curr);
                if (clearsProcessDep)
                {
                    _m.Memory.ClearProcessTickDeps(_rq.Curr.Tgid, (int)TickDep.PosixTimer);
                }

                QueueSignal(_rq.Curr.Pid, sig, SignalReason.PosixTimerExpired, cause);
            }
        }

        // The vmstat work is a deferrable timer: it fires only at a tick the CPU takes anyway.
        if (Now >= _deferred.VmstatDue)
        {
            _deferred.VmstatDue = long.MaxValue;
            _deferred.Queue.Enqueue(new WorkPayload(WorkFunction.VmstatUpdate, _m.Timings.VmstatWorkNs, -1, 0));
            _rq.NeedResched = true;
        }

        if (tick.Residual)
        {
            // The residual tick's only job is the bookkeeping above; the nohz decision below re-arms it.
            _tick.Stopped = true;
        }
    }

    /// <summary>
    /// <c>tick_nohz_irq_exit()</c> → <c>tick_nohz_full_update_tick()</c>: on a nohz_full CPU stop the tick when
    /// nothing depends on it, restart it when something does.
    /// </summary>
    private void TickNohzIrqExit(long cause)
    {
        if (!_nohzFull || _exec.Act == Activity.Idle && _rq.Curr is null && _exec.Interrupted.Count > 0 && _exec.Interrupted.Peek().Act == Activity.Idle)
        {
            return;
        }

        var check = TickCheck();
        if (check.CanStop)
        {
            StopTick();
        }
        else
        {
            if (!_tick.FailureReported)
            {
                Publish(new TickStopAttempted(Sim.NewEventId(), Now, _cpu, cause, false, check.Dependency, 0));
                _tick.FailureReported = true;
            }

            if (_tick.Stopped)
            {
                RestartTick(cause, check.Dependency);
            }
        }
    }

    private void StopTick()
    {
        var next = SchedTick.NextTickAfterStop(_rq.Curr is not null, _m.Switches.ResidualTick == ResidualTick.OneHz, Now, _m.Timings.ResidualTickMaxDefermentNs);
        var residual = next != long.MaxValue;
        if (_tick.Stopped && !residual)
        {
            return;
        }

        _tick.Stopped = true;
        _tick.FailureReported = false;
        _tick.Generation++;

        // The stop is where its later expiries come from (4.7's residual tick, tile's stale one): they are caused by it,
        // not by the interrupt whose exit happened to find the dependency set empty. It has no cause of its own — it
        // happens because nothing keeps the tick — so it is the root of their chains (docs/model.md §7).
        var stop = new TickStopAttempted(Sim.NewEventId(), Now, _cpu, 0, true, TickDep.None, next);
        Publish(stop);
        Send(_tick.Source, residual
            ? new ProgramOneshot(stop.Id, _tick.Generation, next)
            : new ShutdownTick(stop.Id, _tick.Generation));
    }

    private void RestartTick(long cause, TickDep dependency)
    {
        _tick.Stopped = false;
        _tick.Generation++;
        Publish(new TickRestarted(Sim.NewEventId(), Now, _cpu, cause, dependency));
        Send(_tick.Source, new StartPeriodic(cause, _tick.Generation));
    }

    /// <summary>Whether the tick can stop here now, and if not the first dependency that keeps it.</summary>
    private TickStopCheck TickCheck()
    {
        // One pass, no LINQ: this runs at every irq exit of a nohz_full CPU.
        int normal = 0, fifo = 0, rr = 0, dl = 0;
        for (var i = -1; i < _rq.Runnable.Count; i++)
        {
            var policy = i < 0 ? _rq.Curr?.Policy : _rq.Runnable[i].Policy;
            normal += policy == SchedPolicy.Normal ? 1 : 0;
            fifo += policy == SchedPolicy.Fifo ? 1 : 0;
            rr += policy == SchedPolicy.RoundRobin ? 1 : 0;
            dl += policy == SchedPolicy.Deadline ? 1 : 0;
        }

        var process = _rq.Curr is null ? 0 : _m.Memory.ProcessTickDeps(_rq.Curr.Tgid);
        return TaskIsolationRules.CanStopTick(_m.Memory.GlobalTickDeps, new RunqueueCounts(normal, fifo, rr, dl), _rq.Curr, process);
    }

    private void OnVmstatState(VmstatState v)
    {
        _deferred.VmstatIdle = v.Idle;
        if (v.DeferrableDueNs != 0)
        {
            _deferred.VmstatDue = v.DeferrableDueNs;
        }
    }

    // ---------------------------------------------------------------- helpers

    private void Publish(MachineEvent e) => _m.Events.Publish(e);

    private long Log(KernelLogLine line, long cause)
    {
        var e = new KernelLogged(Sim.NewEventId(), Now, _cpu, cause, line);
        Publish(e);
        return e.Id;
    }

    /// <summary>Latency of an IPI to another CPU: the base plus one of the jitter steps, a choice the model leaves open.</summary>
    private long IpiLatency()
    {
        var t = _m.Timings;
        var steps = Math.Max(1, t.IpiJitterSteps);
        var pick = Sim.Choose(steps);
        return t.IpiLatencyNs + (steps == 1 ? 0 : t.IpiJitterNs * pick / (steps - 1));
    }

    /// <summary>Sends an interrupt to <paramref name="target"/> (itself: at once, as a self-IPI).</summary>
    /// <returns>The latency it was sent with.</returns>
    private long SendIrq(int target, Irq irq)
    {
        if (target == _cpu)
        {
            Send(Self, irq);
            return 0;
        }

        var latency = IpiLatency();
        SendAfter(latency, _m.Cpus[target], irq);
        return latency;
    }

    private void SendIpiReply(int target, Ack ack)
    {
        if (target == _cpu)
        {
            Send(Self, ack);
            return;
        }

        SendAfter(_m.Timings.IpiLatencyNs / 2, _m.Cpus[target], ack);
    }

    private void AccountCurrent()
    {
        if (_rq.Curr is not null && Now > _rq.CurrSince)
        {
            _rq.Curr = _rq.Curr with { CpuTimeNs = _rq.Curr.CpuTimeNs + (Now - _rq.CurrSince) };
        }

        _rq.CurrSince = Now;
    }
}
