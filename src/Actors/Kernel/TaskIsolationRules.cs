using TaskIsolation.Actors.Cpu;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Abi.Tick;
using TaskIsolation.Machine.Abi.V13;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Actors.Kernel;

/// <summary>
/// The actors' door to the kernel's rules in <c>TaskIsolation.Machine</c>: it only translates actor state into the
/// rule's inputs and back. No rule is decided here.
/// </summary>
internal static class TaskIsolationRules
{
    public static TaskIdentity Identity(TaskStruct t) => new(t.Comm, t.Pid);

    public static TaskIdentity Identity(TaskRef t) => new(t.Comm, t.Pid);

    /// <summary><c>task_isolation_ready()</c>.</summary>
    public static bool Ready(bool lruEmpty, bool vmstatIdle, bool tickStopped) =>
        ReturnToUserV13.Ready(lruEmpty, vmstatIdle, tickStopped);

    /// <summary>The syscall-entry check (<c>task_isolation_syscall()</c>).</summary>
    public static KernelEntryDecision Syscall(TaskStruct t, int nr, ArchInfo arch) =>
        KernelEntryV13.OnSyscall(arch, new IsolationFlags(t.IsolationFlags), Identity(t), nr);

    /// <summary>A page fault while isolated (<c>task_isolation_quiet_exception()</c>).</summary>
    public static KernelEntryDecision PageFault(TaskStruct t, ulong address) =>
        KernelEntryV13.OnPageFault(new IsolationFlags(t.IsolationFlags), Identity(t), address);

    /// <summary>tile's silent unaligned-access fixup while isolated (<c>task_isolation_quiet_exception()</c>).</summary>
    public static KernelEntryDecision UnalignedFixup(TaskStruct t, ArchInfo arch, ulong pc) =>
        KernelEntryV13.OnUnalignedFixup(arch, new IsolationFlags(t.IsolationFlags), Identity(t), pc);

    /// <summary>What the kernel does when <paramref name="irq"/> reaches a task (patch 05).</summary>
    public static AsyncViolationDecision Async(Irq irq, int senderCpu, int targetCpu, bool targetIsIsolationCpu, TaskIdentity target, uint flags, bool inUser, bool debug) =>
        AsyncInterruptV13.Decide(new AsyncInterruptContext(
            Interruption(irq), senderCpu, false, targetCpu, targetIsIsolationCpu, target, new IsolationFlags(flags), inUser, debug));

    public static Interruption Interruption(Irq irq) => irq.Kind switch
    {
        InterruptKind.Tick => TaskIsolation.Machine.Abi.Interruption.Tick,
        InterruptKind.ResidualTick => TaskIsolation.Machine.Abi.Interruption.ResidualTick,
        InterruptKind.StaleTimer => TaskIsolation.Machine.Abi.Interruption.StaleTimer,
        InterruptKind.IrqWork => TaskIsolation.Machine.Abi.Interruption.IrqWork,
        InterruptKind.CallFunctionIpi => TaskIsolation.Machine.Abi.Interruption.CallFunctionIpi,
        InterruptKind.TimerIpi => TaskIsolation.Machine.Abi.Interruption.TimerIpi,
        InterruptKind.Nmi => TaskIsolation.Machine.Abi.Interruption.Nmi,
        InterruptKind.VmstatWork => TaskIsolation.Machine.Abi.Interruption.VmstatWork,
        InterruptKind.LruDrainWork => TaskIsolation.Machine.Abi.Interruption.LruDrainWork,
        InterruptKind.DeviceIrq when irq.Payload is DeviceIrqPayload d => TaskIsolation.Machine.Abi.Interruption.DeviceIrq(d.Irq, d.Name),
        _ => TaskIsolation.Machine.Abi.Interruption.RescheduleIpi,
    };

    /// <summary>The prctl rules for this task on this CPU.</summary>
    public static PrctlResult Prctl(int option, ulong arg, TaskStruct t, int cpu, MachineTopology m, bool canStopTickNow) =>
        PrctlV13.Prctl(
            new PrctlCall(option, arg),
            new PrctlContext(Identity(t), new IsolationFlags(t.IsolationFlags), t.Affinity, cpu, m.TaskIsolation, canStopTickNow, m.TaskIsolationConfigured));

    /// <summary><c>can_stop_full_tick()</c> (<see cref="TickDependencies.CanStopFullTick(TickDep, RunqueueCounts, bool, TickDep)"/>).</summary>
    public static TickStopCheck CanStopTick(int globalDeps, RunqueueCounts rq, TaskStruct? curr, int processDeps) =>
        TickDependencies.CanStopFullTick((TickDep)globalDeps, rq, curr is { PosixTimerAtCpuNs: > 0 }, (TickDep)processDeps);

    /// <summary>
    /// The CPUs a newly set bit of task <paramref name="t"/> (current on <paramref name="settingCpu"/>) or of its
    /// process kicks (<see cref="TickDependencies.KickTargets"/>): the process's threads as shared memory shows them.
    /// </summary>
    public static IEnumerable<int> KickTargets(MachineTopology m, int settingCpu, TaskStruct t, TickDepScope scope)
    {
        IEnumerable<ThreadPlacement> threads = scope == TickDepScope.Process
            ? m.Memory.ThreadsOf(t.Tgid)
            : [new ThreadPlacement(settingCpu, OnRunqueue: true)];
        return TickDependencies.KickTargets(
            scope, settingCpu, threads, m.NohzFull, TaskIsolation.Machine.Cpus.CpuMask.Full(m.NrCpus), m.Switches.TargetedTickDepKick);
    }
}
