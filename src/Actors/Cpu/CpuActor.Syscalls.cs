using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Task;
using TaskIsolation.Actors.Vmstat;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Mm;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Machine.Sched;

namespace TaskIsolation.Actors.Cpu;

/// <summary>A task's steps: user compute, exceptions and system calls.</summary>
internal sealed partial class CpuActor
{
    private void OnUserOp(UserOp op)
    {
        if (_rq.Curr is null || _rq.Curr.Pid != op.Pid)
        {
            ForwardOp(op);
            return;
        }

        if (op.Seq != _rq.Curr.Seq)
        {
            return; // an answer to a question that was superseded (the task was interrupted and asked again)
        }

        if (_exec.Act != Activity.UserAwaitingOp)
        {
            // The answer came while the task is in the kernel (an interrupt's exit loop): keep it for user mode.
            _rq.Curr = _rq.Curr with { StashedOp = new StashedStep(op.Cause, op.Seq, op.Op) };
            return;
        }

        var started = new OperationStarted(Sim.NewEventId(), Now, _cpu, 0, _rq.Curr.Ref, op.Op.Step, op.Op.Describe());
        Publish(started);
        _exec.LastCause = started.Id;
        Execute(op.Op, started.Id);
    }

    /// <summary>The task moved (or is moving): its program's answer follows it.</summary>
    private void ForwardOp(UserOp op)
    {
        var i = _rq.Runnable.FindIndex(t => t.Pid == op.Pid);
        if (i >= 0)
        {
            if (_rq.Runnable[i].Seq == op.Seq)
            {
                _rq.Runnable[i] = _rq.Runnable[i] with { StashedOp = new StashedStep(op.Cause, op.Seq, op.Op) };
            }

            return;
        }

        var where = _m.Memory.TaskCpu(op.Pid);
        if (where >= 0 && where != _cpu)
        {
            Send(_m.Cpus[where], op);
        }
    }

    private void Execute(Operation op, long cause)
    {
        switch (op)
        {
            case Compute c:
                Run(Activity.User, UserState(), c.Ns, new Next(Then.UserComputeDone));
                return;
            case TouchPage p:
                PageFault(p.Address, cause);
                return;
            case UnalignedAccess when _m.Arch.UnalignedFixupName is null:
                // The hardware completes a misaligned access: no trap, nothing the kernel sees.
                Run(Activity.User, UserState(), _m.Timings.UnalignedHardwareNs, new Next(Then.UserComputeDone));
                return;
            case UnalignedAccess u:
                UnalignedFixup(u, cause);
                return;
            case Exit e:
                EnterSyscall(_m.Arch.ExitGroupNr, "exit_group", op, cause, new Next(Then.DoExit, cause, e.Code));
                return;
        }

        var (nr, name) = SyscallOf(op);
        if (nr < 0)
        {
            // A number the arch does not have: the kernel answers ENOSYS.
            Run(Activity.Kernel, CpuState.Kernel, _m.Timings.SyscallEntryNs, new Next(Then.SyscallReturn, cause, -Errno.ENOSYS));
            return;
        }

        EnterSyscall(nr, name, op, cause, new Next(Then.DoSyscall, cause, Op: op));
    }

    private (int Nr, string Name) SyscallOf(Operation op)
    {
        var table = _m.Arch.Syscalls;
        string name = op switch
        {
            Syscall { Name: { } n } => n,
            Syscall s => table.NameOf(s.Nr) ?? $"syscall {s.Nr}",
            Prctl => "prctl",
            SetAffinity => "sched_setaffinity",
            Mmap => "mmap",
            Munmap => "munmap",
            Mlock => "mlock",
            ArmPosixTimer => "timer_settime",
            Sleep => "nanosleep",
            Kill => "kill",
            Sigaction => "rt_sigaction",
            Spawn { Thread: true } => "clone",
            Spawn => table.Contains("fork") ? "fork" : "clone",
            WaitChild => "wait4",
            Sigreturn => "rt_sigreturn",
            _ => throw new InvalidOperationException($"not a syscall: {op}"),
        };
        var nr = op is Syscall { Name: null } raw ? raw.Nr : (table.Contains(name) ? table[name] : -1);
        return (nr, name);
    }

    /// <summary>Syscall entry: the isolation check runs first (just before seccomp), then the syscall's work.</summary>
    private void EnterSyscall(int nr, string name, Operation op, long cause, Next work)
    {
        var t = _rq.Curr!;
        SetState(CpuState.Kernel);
        _shared.Quiesced = false;
        var target = op switch
        {
            Kill k => _m.Memory.PidOf(k.Target),
            SetAffinity { Target: { } other } => _m.Memory.PidOf(other),
            _ => 0,
        };
        var e = new SyscallEntered(Sim.NewEventId(), Now, _cpu, cause, t.Ref, nr, name, SyscallArgs.For(op, name, target));
        Publish(e);
        _rq.Curr = t = t with { SyscallNr = nr };
        _exec.LastCause = e.Id;
        var check = V16 ? SyscallV16(t, nr, op) : TaskIsolationRules.Syscall(t, nr, _m.Arch);
        ApplyResponse(t, check.Response, e.Id);
        if (!check.RunsSyscall)
        {
            // The syscall is skipped and returns -ERESTARTNOINTR: signal delivery on the way out may restart it.
            _rq.Curr = SignalDelivery.SkipSyscall(_rq.Curr!, op);
            Run(Activity.Kernel, CpuState.Kernel, _m.Timings.SyscallEntryNs, new Next(Then.SyscallRestart, e.Id));
            return;
        }

        Run(Activity.Kernel, CpuState.Kernel, _m.Timings.SyscallEntryNs, work);
    }

    /// <summary>
    /// A syscall refused at entry returns <c>-ERESTARTNOINTR</c> (<see cref="SignalDelivery.SkipSyscall"/>): whether
    /// it runs again is decided by the signal delivery on the way out.
    /// </summary>
    private void SyscallRestart(long cause) => BeginReturnToUser(cause);

    /// <summary>The syscall's own work, once its entry (and the isolation check) is done.</summary>
    private void DoSyscall(Operation op, long cause)
    {
        var timings = _m.Timings;
        switch (op)
        {
            case Syscall s:
                if (s.Name is "write" or "read")
                {
                    DirtyVmstat(cause);
                    MarkLru();
                }

                Run(Activity.Kernel, CpuState.Kernel, s.WorkNs, new Next(Then.SyscallReturn, cause, s.Name == "getpid" ? _rq.Curr!.Tgid : 0));
                return;
            case Prctl p:
                Run(Activity.Kernel, CpuState.Kernel, timings.PrctlNs, new Next(Then.DoPrctl, cause, Op: p));
                return;
            case SetAffinity a:
                DoSetAffinity(a, cause);
                return;
            case Mmap:
                DirtyVmstat(cause);
                MarkLru();
                Run(Activity.Kernel, CpuState.Kernel, timings.MmapNs, new Next(Then.SyscallReturn, cause, 0x7f00_0000_0000));
                return;
            case Munmap:
                DirtyVmstat(cause);
                Run(Activity.Kernel, CpuState.Kernel, timings.TlbFlushNs, new Next(Then.TlbShootdown, cause));
                return;
            case Mlock:
                DirtyVmstat(cause);
                LruAddDrainAll(cause);
                return;
            case ArmPosixTimer pt:
                DoArmPosixTimer(pt, cause);
                return;
            case Sleep sl:
                Run(Activity.Kernel, CpuState.Kernel, timings.NanosleepNs, new Next(Then.Nanosleep, cause, sl.Ns));
                return;
            case Kill k:
                Run(Activity.Kernel, CpuState.Kernel, timings.KillNs, new Next(Then.DoKill, cause, Op: k));
                return;
            case Sigaction sa:
                Run(Activity.Kernel, CpuState.Kernel, timings.RtSigactionNs, new Next(Then.DoSigaction, cause, sa.Signal));
                return;
            case Spawn sp:
                Run(Activity.Kernel, CpuState.Kernel, timings.CopyProcessNs, new Next(Then.DoSpawn, cause, Op: sp));
                return;
            case WaitChild:
                Run(Activity.Kernel, CpuState.Kernel, timings.Wait4Ns, new Next(Then.DoWait, cause));
                return;
            case Sigreturn:
                Run(Activity.Kernel, CpuState.Kernel, timings.RtSigreturnNs, new Next(Then.DoSigreturn, cause));
                return;
            default:
                throw new InvalidOperationException($"cpu {_cpu}: no syscall for {op}");
        }
    }

    /// <summary><c>hrtimer_nanosleep()</c>: the task sleeps on this CPU until its timer's interrupt wakes it.</summary>
    private void Nanosleep(long ns, long cause)
    {
        var t = _rq.Curr!;
        _rq.Sleeping[t.Pid] = new Sleeper(t with { Resume = ResumeKind.Result, PendingResult = 0 }, false);
        _m.Memory.SetTaskAsleep(t.Pid, true);
        SendAfter(ns, Self, new Irq(cause, TimerExpiry.Nanosleep, -1, new WakeTimerPayload(t.Pid)));
        Deschedule(cause);
    }

    /// <summary><c>rt_sigaction()</c>: the task now catches <paramref name="signal"/>.</summary>
    private void DoSigaction(int signal, long cause)
    {
        _rq.Curr = _rq.Curr! with { CaughtSignals = _rq.Curr.CaughtSignals.Add(signal) };
        _m.Memory.SetSignalCaught(_rq.Curr.Pid, signal);
        SyscallReturn(0, cause);
    }

    private void DoPrctl(Prctl p, long cause)
    {
        var t = _rq.Curr!;
        var outcome = TaskIsolationRules.Prctl(p.Option, p.Arg, t, _cpu, _m, TickCheck().CanStop);
        foreach (var line in outcome.Log)
        {
            Log(line, cause);
        }

        if (outcome.Flags.Word != t.IsolationFlags)
        {
            _rq.Curr = t with { IsolationFlags = outcome.Flags.Word };
            _m.Memory.StoreIsolationFlags(t.Pid);
            _shared.SetCurrent(t.Pid, t.Comm, outcome.Flags.Word);
        }

        if (_m.Switches.BoundedWaitNs > 0 && outcome.ReturnValue == 0 && outcome.Flags.Enable)
        {
            // With the bounded wait (R1's mitigation) the prctl's result is known only once its return to user space
            // is ready or gives up (-EAGAIN): ExitLoopCheck publishes it.
            _rq.Curr = _rq.Curr! with { PrctlInFlight = p };
            SyscallReturn(0, cause);
            return;
        }

        Publish(new PrctlReturned(Sim.NewEventId(), Now, _cpu, cause, t.Ref, p.Option, p.Arg, outcome.ReturnValue));
        SyscallReturn(outcome.ReturnValue, cause);
    }

    private void PageFault(ulong address, long cause)
    {
        var t = _rq.Curr!;
        SetState(CpuState.Kernel);
        _shared.Quiesced = false;
        // A fault that would raise no signal by itself: task_isolation_quiet_exception().
        ApplyResponse(t, V16 ? ExceptionV16(t, TaskIsolation.Machine.Arch.ArchInfo.PageFaultReason(address)) : TaskIsolationRules.PageFault(t, address).Response, cause);

        DirtyVmstat(cause);
        MarkLru();
        Run(Activity.Kernel, CpuState.Kernel, _m.Timings.PageFaultNs, new Next(Then.FaultFixedUp, cause));
    }

    /// <summary>
    /// The exception is handled: the faulting instruction is retried (or the access was done for it) and succeeds, so
    /// there is no result to report and the program goes on.
    /// </summary>
    private void FaultFixedUp(long cause)
    {
        _rq.Curr = _rq.Curr! with { Resume = ResumeKind.Result, PendingResult = 0 };
        BeginReturnToUser(cause);
    }

    /// <summary>
    /// tile's <c>do_unaligned()</c>: the trap is fixed up in the kernel with no signal, so for isolation it is a quiet
    /// exception with the arch's reason; the access is then done and the program goes on.
    /// </summary>
    private void UnalignedFixup(UnalignedAccess u, long cause)
    {
        var t = _rq.Curr!;
        SetState(CpuState.Kernel);
        _shared.Quiesced = false;
        ApplyResponse(t, V16 ? ExceptionV16(t, UnalignedReasonV16(u.Pc)) : TaskIsolationRules.UnalignedFixup(t, _m.Arch, u.Pc).Response, cause);
        Run(Activity.Kernel, CpuState.Kernel, _m.Timings.UnalignedFixupNs, new Next(Then.FaultFixedUp, cause));
    }

    private void DoSetAffinity(SetAffinity a, long cause)
    {
        var t = _rq.Curr!;
        var targetPid = a.Target is null ? t.Pid : _m.Memory.PidOf(a.Target);
        if (targetPid < 0)
        {
            Run(Activity.Kernel, CpuState.Kernel, _m.Timings.SchedSetaffinityNoTaskNs, new Next(Then.SyscallReturn, cause, -Errno.ESRCH));
            return;
        }

        if (Affinity.Check(a.Mask, _m.NrCpus) is var errno and not 0)
        {
            Run(Activity.Kernel, CpuState.Kernel, _m.Timings.SchedSetaffinityBadMaskNs, new Next(Then.SyscallReturn, cause, -errno));
            return;
        }

        if (targetPid != t.Pid)
        {
            Run(Activity.Kernel, CpuState.Kernel, _m.Timings.SchedSetaffinityOtherNs, new Next(Then.SetAffinityOther, cause, targetPid, a));
            return;
        }

        Run(Activity.Kernel, CpuState.Kernel, _m.Timings.SchedSetaffinityNs, new Next(Then.SetAffinitySelf, cause, Op: a));
    }

    /// <summary>Another task's new mask: where it runs now, the migration stopper is asked to act on it.</summary>
    private void SetAffinityOther(SetAffinity a, int targetPid, long cause)
    {
        var where = _m.Memory.TaskCpu(targetPid);
        if (where == _cpu)
        {
            AffinityChanged(new AffinityPayload(targetPid, a.Mask), cause);
        }
        else if (where >= 0)
        {
            var irq = new Irq(cause, new RescheduleIpi(RescheduleReason.Migration), _cpu, new AffinityPayload(targetPid, a.Mask));
            SendRemote(where, irq, cause);
        }

        SyscallReturn(0, cause);
    }

    /// <summary>The caller's own new mask: if it excludes this CPU, the task moves now and returns from the syscall there.</summary>
    private void SetAffinitySelf(SetAffinity a, long cause)
    {
        _rq.Curr = _rq.Curr! with { Affinity = a.Mask };
        if (a.Mask.Test(_cpu))
        {
            SyscallReturn(0, cause);
            return;
        }

        _rq.Curr = _rq.Curr with { Resume = ResumeKind.Result, PendingResult = 0 };
        MigrateCurrent(Affinity.MigrationTarget(a.Mask), cause);
    }

    /// <summary>Moves the current task to <paramref name="target"/>, where it carries on from its resume point.</summary>
    private void MigrateCurrent(int target, long cause)
    {
        var t = _rq.Curr! with { ReturnSince = 0 };
        var e = new TaskMigrated(Sim.NewEventId(), Now, _cpu, cause, t.Ref, target);
        Publish(e);
        _m.Memory.SetTaskCpu(t.Pid, target);
        _rq.Curr = t;
        Deschedule(e.Id);
        SendRemote(target, new Irq(e.Id, new RescheduleIpi(RescheduleReason.Migration), _cpu, new EnqueueTaskPayload(t)), e.Id);
    }

    /// <summary>Another task's affinity changed here: a task no longer allowed on this CPU is pushed away.</summary>
    private void AffinityChanged(AffinityPayload a, long cause)
    {
        if (_rq.Curr?.Pid == a.Pid)
        {
            _rq.Curr = _rq.Curr with { Affinity = a.Mask };
            if (!a.Mask.Test(_cpu))
            {
                // The migration stopper preempts the task wherever it is and moves it (v13 re-checks nothing: R13).
                _rq.PendingMigration = Affinity.MigrationTarget(a.Mask);
                _rq.NeedResched = true;
            }

            return;
        }

        var i = _rq.Runnable.FindIndex(t => t.Pid == a.Pid);
        if (i >= 0)
        {
            var t = _rq.Runnable[i] with { Affinity = a.Mask };
            if (a.Mask.Test(_cpu))
            {
                _rq.Runnable[i] = t;
                return;
            }

            _rq.Runnable.RemoveAt(i);
            var target = Affinity.MigrationTarget(a.Mask);
            _m.Memory.SetTaskCpu(t.Pid, target);
            SendRemote(target, new Irq(cause, new RescheduleIpi(RescheduleReason.Migration), _cpu, new EnqueueTaskPayload(t)), cause);
        }
    }

    private void DoArmPosixTimer(ArmPosixTimer pt, long cause)
    {
        var t = _rq.Curr!;
        _rq.Curr = PosixCpuTimers.Arm(t, pt.Ns, pt.Signal, pt.PerProcess);
        var newly = pt.PerProcess
            ? _m.Memory.SetProcessTickDeps(t.Tgid, (int)TickDep.PosixTimer) != 0
            : PosixCpuTimers.SetsTaskDependency(t);
        if (newly)
        {
            // tick_dep_set_task()/tick_dep_set_signal(): in 4.7 a per-task or per-process bit kicks every nohz_full
            // CPU with irq_work, not only the ones running the task (§9 R3); with targeted_tick_dep_kick, the task's
            // CPU, or the CPU of every queued thread of the process (tick_nohz_dep_set_signal()). This CPU's own kick
            // is a local irq_work (tick_nohz_full_kick()), the others' an IPI.
            foreach (var cpu in TaskIsolationRules.KickTargets(_m, _cpu, t, pt.PerProcess ? TickDepScope.Process : TickDepScope.Task))
            {
                SendRemote(cpu, new Irq(cause, new TickDependencyKick(TickDep.PosixTimer, Remote: cpu != _cpu), _cpu), cause);
            }
        }

        Run(Activity.Kernel, CpuState.Kernel, _m.Timings.TimerSettimeNs, new Next(Then.SyscallReturn, cause, 0));
    }

    private void DoKill(Kill k, long cause)
    {
        var pid = _m.Memory.PidOf(k.Target);
        if (pid < 0)
        {
            SyscallReturn(-Errno.ESRCH, cause);
            return;
        }

        if (k.Signal != 0 && DiscardedWhenSent(pid, k.Signal))
        {
            // kill() succeeds, but the signal is gone before anyone is woken (sig_ignored()).
            Publish(new SignalDiscarded(Sim.NewEventId(), Now, _cpu, cause, new TaskRef(pid, k.Target), k.Signal, SignalReason.KillFrom(_rq.Curr!.Ref)));
            SyscallReturn(0, cause);
            return;
        }

        var e = new SignalSent(Sim.NewEventId(), Now, _cpu, cause, new TaskRef(pid, k.Target), k.Signal, SignalReason.KillFrom(_rq.Curr!.Ref));
        Publish(e);
        var where = _m.Memory.TaskCpu(pid);
        if (k.Signal != 0 && where >= 0)
        {
            var payload = new SignalPayload(pid, k.Signal, "kill");
            if (where == _cpu)
            {
                SignalArrived(payload, e.Id);
            }
            else
            {
                // signal_wake_up() → kick_process(): a reschedule IPI the user asked for, so not reported as a break (R11).
                SendIrq(where, new Irq(e.Id, new SignalWakeup(k.Signal), _cpu, payload));
                Publish(new InterruptSent(Sim.NewEventId(), Now, _cpu, e.Id, new SignalWakeup(k.Signal), where));
            }
        }

        SyscallReturn(0, cause);
    }

    private void DoSpawn(Spawn sp, long cause)
    {
        var parent = _rq.Curr!;
        var pid = _m.Memory.AllocPid();
        var child = Fork.CopyProcess(parent, pid, sp.Comm, sp.Thread);
        var actor = Context.ActorOf(TaskActor.Props(Sim, pid, sp.Program), $"task-{pid}");
        _m.TaskActors[pid] = actor;
        _m.Memory.RegisterComm(sp.Comm, pid);
        _m.Memory.SetThreadGroup(pid, child.Tgid);
        _m.Memory.CopySignalHandlers(parent.Pid, pid);
        var e = new TaskCreated(Sim.NewEventId(), Now, _cpu, cause, child.Ref, parent.Pid, sp.Thread);
        Publish(e);

        var target = Fork.FirstCpu(child.Affinity, _cpu);
        _m.Memory.SetTaskCpu(pid, target);
        if (target == _cpu)
        {
            Enqueue(child, e.Id);
            if (_nohzFull)
            {
                // A second runnable task sets the SCHED dependency: tick_nohz_dep_set_cpu() kicks this CPU itself.
                Send(Self, new Irq(e.Id, new TickDependencyKick(TickDep.Sched, Remote: false), _cpu));
            }
        }
        else
        {
            SendRemote(target, new Irq(e.Id, new RescheduleIpi(RescheduleReason.NewTask), _cpu, new EnqueueTaskPayload(child)), e.Id);
        }

        SyscallReturn(pid, cause);
    }

    private void DoWait(long cause)
    {
        var t = _rq.Curr!;
        if (!t.ExitedChildren.IsEmpty)
        {
            _rq.Curr = t with { ExitedChildren = t.ExitedChildren.Dequeue(out var child) };
            SyscallReturn(child, cause);
            return;
        }

        _rq.Sleeping[t.Pid] = new Sleeper(t with { Resume = ResumeKind.Result }, true);
        _m.Memory.SetTaskAsleep(t.Pid, true);
        Deschedule(cause);
    }

    private void ChildExited(ChildExitPayload c, long cause)
    {
        if (_rq.Sleeping.TryGetValue(c.ParentPid, out var s) && s.WaitingForChild)
        {
            Wake(c.ParentPid, c.ChildPid, cause);
            return;
        }

        if (_rq.Curr?.Pid == c.ParentPid)
        {
            _rq.Curr = _rq.Curr with { ExitedChildren = _rq.Curr.ExitedChildren.Enqueue(c.ChildPid) };
            return;
        }

        var i = _rq.Runnable.FindIndex(t => t.Pid == c.ParentPid);
        if (i >= 0)
        {
            _rq.Runnable[i] = _rq.Runnable[i] with { ExitedChildren = _rq.Runnable[i].ExitedChildren.Enqueue(c.ChildPid) };
        }
    }

    private void DoSigreturn(long cause)
    {
        var t = _rq.Curr!;
        if (SignalDelivery.Sigreturn(t) is not { } restored)
        {
            // rt_sigreturn with no frame: the kernel kills the task with SIGSEGV.
            QueueSignal(t.Pid, Signal.SIGSEGV, SignalReason.BadFrame, cause);
            SyscallReturn(0, cause);
            return;
        }

        _rq.Curr = restored;
        BeginReturnToUser(cause);
    }

    /// <summary><c>do_exit()</c>: the task is gone; its parent hears of it; the CPU schedules something else.</summary>
    private void ExitTask(int code, int signal, long cause)
    {
        var t = _rq.Curr!;
        var e = new TaskExited(Sim.NewEventId(), Now, _cpu, cause, t.Ref, code, signal);
        Publish(e);
        _m.Memory.RemoveTask(t.Pid, t.Comm);
        if (PosixCpuTimers.ExitClearsProcessDependency(t, _m.Memory.ProcessTickDeps(t.Tgid)))
        {
            _m.Memory.ClearProcessTickDeps(t.Tgid, (int)TickDep.PosixTimer);
        }

        if (t.ParentPid != 0)
        {
            var where = _m.Memory.TaskCpu(t.ParentPid);
            if (where == _cpu)
            {
                ChildExited(new ChildExitPayload(t.ParentPid, t.Pid), e.Id);
            }
            else if (where >= 0)
            {
                SendIrq(where, new Irq(e.Id, new RescheduleIpi(RescheduleReason.ChildExit), _cpu, new ChildExitPayload(t.ParentPid, t.Pid)));
            }
        }

        if (_m.TaskActors.TryRemove(t.Pid, out var program))
        {
            program.Tell(Akka.Actor.PoisonPill.Instance, Akka.Actor.ActorRefs.NoSender);
        }
        Deschedule(e.Id);
    }

    // ---------------------------------------------------------------- memory management

    private void DirtyVmstat(long cause) => Send(_deferred.Vmstat, new VmstatDirtied(cause));

    private void MarkLru()
    {
        _deferred.LruNonEmpty = true;
        _shared.LruNonEmpty = true;
    }

    /// <summary>
    /// <c>flush_tlb_mm_range()</c>: flush locally, then a call-function IPI to every other CPU of the mm's cpumask
    /// (x86, tile), waiting for all of them; arm64 broadcasts a TLBI instead and interrupts nobody.
    /// </summary>
    private void TlbShootdown(long cause)
    {
        var t = _rq.Curr!;
        var request = ++_waits.LastRequestId;
        var targets = TlbFlush.Targets(_m.Arch.TlbFlushUsesIpi, _m.Memory, t.Mm, _cpu, _m.Switches.DeferredTlbFlush);
        foreach (var cpu in targets)
        {
            SendRemote(cpu, new Irq(cause, global::TaskIsolation.Machine.Events.TlbShootdown.Instance, _cpu, new TlbFlushPayload(t.Mm, _cpu, request)), cause);
        }

        WaitFor(request, targets.Count, new Next(Then.SyscallReturn, cause, 0));
    }

    /// <summary>
    /// <c>lru_add_drain_all()</c>: read every CPU's pagevec counts (racily), queue a drain on each that has pages,
    /// and wait for them all (<c>flush_work()</c>).
    /// </summary>
    private void LruAddDrainAll(long cause)
    {
        var request = ++_waits.LastRequestId;
        var targets = LruDrain.AddDrainAllTargets(_m.Memory, _cpu, _m.Switches.NoNewDeferredWork);
        foreach (var cpu in targets)
        {
            var work = new WorkPayload(WorkFunction.LruAddDrainPerCpu, _m.Timings.LruDrainWorkNs, _cpu, request);
            if (cpu == _cpu)
            {
                _deferred.Queue.Enqueue(work);
                _rq.NeedResched = true;
            }
            else
            {
                SendRemote(cpu, new Irq(cause, new WorkWakeup(WorkFunction.LruAddDrainPerCpu), _cpu, work), cause);
            }
        }

        // The local item runs when this task schedules; wait for the remote ones and then let it.
        var remote = targets.Count(c => c != _cpu);
        WaitFor(request, remote, new Next(Then.LruDrained, cause));
    }

    /// <summary>Sends an interrupt to another CPU: the sender's isolation check, the event, the IPI.</summary>
    private void SendRemote(int target, Irq irq, long cause)
    {
        var sent = new InterruptSent(Sim.NewEventId(), Now, _cpu, cause, irq.Source, target);
        Publish(sent);
        // The IPI goes first; the kernel's report (a signal kick) follows it on the same path, so it never overtakes it.
        var latency = SendIrq(target, irq with { Cause = sent.Id });
        ReportRemoteIsolationBreak(target, irq, sent.Id, latency + 1);
    }
}
