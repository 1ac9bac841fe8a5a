using TaskIsolation.Actors.Kernel;
using TaskIsolation.Actors.Vmstat;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Abi.V16;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;

namespace TaskIsolation.Actors.Cpu;

/// <summary>
/// The v16 variant (docs/model.md §10): the kernel paths of <c>[PATCH v16 06/13] task_isolation: userspace hard isolation
/// from kernel</c> that differ from v13. The rules are <see cref="TaskIsolationV16"/>'s; this file only feeds them the
/// CPU's state and carries out what they decide. The task's NORMAL/ISOLATED/WARNED state lives in shared kernel memory
/// (<see cref="KernelMemory.V16State"/>), because a remote CPU changes it with <c>cmpxchg()</c>.
/// </summary>
internal sealed partial class CpuActor
{
    private bool V16 => _m.Variant == KernelVariant.V16;

    /// <summary>The task's v16 isolation: its flags word, and its state (NORMAL whenever TIF_TASK_ISOLATION is clear).</summary>
    private V16Isolation V16Of(TaskStruct t) =>
        new(new IsolationFlags(t.IsolationFlags), t.Isolated ? _m.Memory.V16State(t.Pid) : V16State.Normal);

    /// <summary>Stores the task's v16 isolation: flags in its task struct (and the racily read per-CPU copy), state in memory.</summary>
    private void SetV16(TaskStruct t, V16Isolation iso)
    {
        _m.Memory.SetV16State(t.Pid, iso.State);
        Replace(t with { IsolationFlags = iso.Flags.Word });
    }

    /// <summary>
    /// <c>prctl(PR_TASK_ISOLATION, flags, 0, 0, 0)</c> → <c>task_isolation_request()</c>: store the flags, and with
    /// ENABLE quiet vmstat now (<c>quiet_vmstat_sync()</c>, interrupts on: a request to this CPU's worker, waited for).
    /// Everything else is decided on the way out by <see cref="TaskIsolationStartV16"/>, which may still replace the
    /// return value: the <see cref="PrctlReturned"/> event is published there.
    /// </summary>
    private void DoPrctlV16(Prctl p, long cause)
    {
        var t = _rq.Curr!;
        var r = TaskIsolationV16.Prctl(new PrctlCall(p.Option, p.Arg, p.Arg3, p.Arg4, p.Arg5), V16Of(t), _m.TaskIsolationConfigured);
        if (r.ReturnValue != 0)
        {
            Publish(new PrctlReturned(Sim.NewEventId(), Now, _cpu, cause, t.Ref, p.Option, p.Arg, r.ReturnValue));
            SyscallReturn(r.ReturnValue, cause);
            return;
        }

        SetV16(t, r.Isolation);
        if (!r.Isolation.TifTaskIsolation)
        {
            // Flags 0 (or ENABLE clear): TIF_TASK_ISOLATION is clear, task_isolation_start() will not run.
            Publish(new PrctlReturned(Sim.NewEventId(), Now, _cpu, cause, t.Ref, p.Option, p.Arg, 0));
            SyscallReturn(0, cause);
            return;
        }

        _rq.Curr = _rq.Curr! with { PrctlInFlight = p };
        if (!r.QuietVmstatSync)
        {
            SyscallReturn(0, cause);
            return;
        }

        var request = ++_waits.LastRequestId;
        _deferred.VmstatIdle = false;
        Send(_deferred.Vmstat, new QuietVmstat(cause, request));
        WaitFor(request, 1, new Next(Then.SyscallReturn, cause, 0));
    }

    /// <summary>
    /// <c>task_isolation_start()</c> from <c>prepare_exit_to_usermode()</c>, interrupts off, once the exit work is done:
    /// the one check of v16 instead of v13's loop. It re-reads the affinity (§9 R13), vmstat and the tick dependencies
    /// now (not a snapshot taken in the prctl: R2), stops the tick or fails with its errno, drains the LRU, and the task
    /// returns to user space either way — isolated, or with the prctl's error (R1: no waiting).
    /// </summary>
    private void TaskIsolationStartV16(long cause)
    {
        var t = _rq.Curr!;
        var unstable = (_m.Memory.GlobalTickDeps & (int)TickDep.ClockUnstable) != 0;
        var r = TaskIsolationV16.Start(new V16StartContext(
            V16Of(t), t.Affinity, _cpu, _m.TaskIsolation, _deferred.VmstatIdle, unstable, TickCheck().CanStop));
        SetV16(t, r.Isolation);
        if (r.StopsTick)
        {
            // tick_nohz_stop_sched_tick() now, rather than waiting for an interrupt exit to do it.
            StopTick();
        }

        if (r.DrainsLru)
        {
            // lru_add_drain(): this CPU's pagevecs, so no lru_add_drain_all() need queue work here later.
            _deferred.LruNonEmpty = false;
            _shared.LruNonEmpty = false;
        }

        if (r.Outcome == V16StartOutcome.UnexpectedState)
        {
            // WARN_ON_ONCE(): back in the kernel without having stopped isolation; not the prctl's return path.
            Log(KernelLogLine.Warn($"WARNING: CPU: {_cpu} PID: {t.Pid} at kernel/isolation.c task_isolation_start"), cause);
        }

        if (_rq.Curr!.PrctlInFlight is { } p)
        {
            var result = r.ReturnValueOverride ?? _rq.Curr.PendingResult;
            _rq.Curr = _rq.Curr with { PrctlInFlight = null, PendingResult = result };
            Publish(new PrctlReturned(Sim.NewEventId(), Now, _cpu, cause, t.Ref, p.Option, p.Arg, result));
        }

        Run(Activity.Kernel, CpuState.ReturnReady, _m.Timings.ReturnToUserNs, new Next(Then.EnterUser, cause));
    }

    /// <summary>
    /// Syscall entry with TIF_TASK_ISOLATION set (<c>task_isolation_syscall()</c>): only <c>exit</c>,
    /// <c>exit_group</c> and <c>prctl(PR_TASK_ISOLATION)</c> are acceptable, and even they stop isolation.
    /// </summary>
    private KernelEntryDecision SyscallV16(TaskStruct t, int nr, Operation op) =>
        TaskIsolationV16.OnSyscall(_m.Arch, V16Of(t), TaskIsolationRules.Identity(t), _cpu, nr, op is Prctl p ? p.Option : 0, _m.TaskIsolationDebug);

    /// <summary>A quiet exception (a page fault, tile's unaligned fixup) taken from user space: <c>task_isolation_interrupt()</c>.</summary>
    private IsolationResponse ExceptionV16(TaskStruct t, string reason) =>
        TaskIsolationV16.OnInterrupt(V16Of(t), TaskIsolationRules.Identity(t), _cpu, reason, inNmi: false, _m.TaskIsolationDebug);

    /// <summary>The reason tile's unaligned fixup gives, as v13 words it.</summary>
    private string UnalignedReasonV16(ulong pc) => _m.Arch.UnalignedFixupReason(pc) ?? ArchInfo.PageFaultReason(pc);

    /// <summary>
    /// An interrupt taken on this CPU while its task is isolated in user space: every kind goes through
    /// <c>task_isolation_interrupt()</c> on the receiving side in v16 (the sender only warns, and marks the task WARNED so
    /// the break is reported once). A reschedule IPI that carries an ordinary signal is the signal's path instead:
    /// <c>send_signal()</c> has already called <c>task_isolation_signal()</c> (R11: the user's signal, no other).
    /// </summary>
    private void BreakIsolationV16(Irq irq, long cause)
    {
        var t = _rq.Curr!;
        var iso = V16Of(t);
        var id = TaskIsolationRules.Identity(t);
        var response = irq.Payload is SignalPayload { IsolationBreak: false }
            ? TaskIsolationV16.OnSignal(iso, id, _cpu, _m.TaskIsolationDebug)
            : TaskIsolationV16.OnInterrupt(iso, id, _cpu, TaskIsolationRules.Interruption(irq).Reason, _irqs.InNmi || irq.Kind == InterruptKind.Nmi, _m.TaskIsolationDebug);
        ApplyV16Response(t, response, cause);
    }

    /// <summary>
    /// The sender's side (<c>task_isolation_remote()</c>): about to interrupt <paramref name="target"/>, read its current
    /// task racily; if that task is ISOLATED, <c>cmpxchg()</c> it to WARNED and print the one report, naming this CPU's
    /// current task. The target loses isolation when the interrupt reaches it.
    /// </summary>
    private void ReportRemoteV16(int target, Irq irq, long cause)
    {
        var remote = _m.Memory.Cpu(target);
        var pid = remote.CurrentPid;
        var flags = new IsolationFlags(remote.CurrentFlags);
        var state = flags.Enable ? _m.Memory.V16State(pid) : V16State.Normal;
        var sender = _rq.Curr is { } c ? TaskIsolationRules.Identity(c) : new TaskIdentity($"swapper/{_cpu}", 0);
        var d = TaskIsolationV16.OnRemote(
            _m.TaskIsolation.Test(target),
            target,
            new TaskIdentity(remote.CurrentComm, pid),
            new V16Isolation(flags, state),
            TaskIsolationRules.Interruption(irq).Reason,
            sender,
            _cpu,
            _m.TaskIsolationDebug);
        if (!d.Reported || !_m.Memory.CompareExchangeV16State(pid, V16State.Isolated, V16State.Warned))
        {
            return; // not isolated, already reported, or another CPU won the cmpxchg
        }

        ApplyV16Response(null, d.Response, cause);
    }

    /// <summary>Carries out a v16 response in its order (stop isolation and signal first, then the warning).</summary>
    private void ApplyV16Response(TaskStruct? t, IsolationResponse response, long cause)
    {
        foreach (var action in response.Actions)
        {
            switch (action)
            {
                case IsolationAction.Log log:
                    cause = Log(log.Line, cause);
                    break;
                case IsolationAction.DumpStack:
                    cause = DumpStack(cause);
                    break;
                case IsolationAction.ClearFlags when t is not null:
                    // stop_isolation(): flags 0, TIF_TASK_ISOLATION clear, state NORMAL.
                    SetV16(t, V16Isolation.Stopped);
                    t = _rq.Curr?.Pid == t.Pid ? _rq.Curr : t with { IsolationFlags = 0 };
                    break;
                case IsolationAction.SendSignal send when t is not null:
                    QueueSignal(t.Pid, send.Signal, SignalReason.TaskIsolation, cause);
                    t = _rq.Curr?.Pid == t.Pid ? _rq.Curr : _rq.Runnable.Find(x => x.Pid == t.Pid) ?? t;
                    break;
                default:
                    break;
            }
        }
    }
}
