using System.Text;
using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Arch;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>
/// The ftrace text of one small run on each arch, line by line (timestamps left out): each arch's own interrupt
/// tracepoints, every entry with its exit, and <c>sys_enter</c>/<c>sys_exit</c> around every system call.
/// </summary>
public sealed class ArchTracepointTests() : TestKit(SimulationConfig.Hocon)
{
    /// <summary>
    /// One task on nohz_full CPU 3: <c>getpid</c>, 2.5 ms of compute (the tick runs, then stops), a POSIX CPU timer
    /// armed (its tick dependency kicks the CPU with an irq_work, and the tick restarts), 1.5 ms more, exit.
    /// </summary>
    private static string Trace(SimulatedMachine m)
    {
        var sb = new StringBuilder();
        using (var w = new StringWriter(sb))
        {
            FtraceExporter.WriteTrace(w, m.Recorder.Events, m.Now, m.Booted.NrCpus, m.Options.Timings, ArchInfo.For(m.Booted.Arch));
        }

        // Context and event of each line, without the timestamp column.
        return string.Join('\n', sb.ToString().Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l[..l.IndexOf(']', StringComparison.Ordinal)].TrimStart() + "] " + l.Substring(l.IndexOf(']', StringComparison.Ordinal) + 2, 4) + " " + l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..]));
    }

    private SimulatedMachine Run(ArchKind arch)
    {
        var m = Boot(Sys, Controlled(1), arch: arch);
        m.Start(new TaskSpec("spin", OnCpu(3), Program(
            new Syscall("getpid"),
            new Compute(2_500_000),
            new ArmPosixTimer(100_000_000, Signal.SIGALRM),
            new Compute(1_500_000),
            new Exit(0))));
        m.RunFor(10_000_000);
        return m;
    }

    [Fact]
    public void X86_prints_its_vector_events_in_pairs_and_raw_syscalls() =>
        Assert.Equal(
            """
            <idle>-0     [003] d..2 sched_switch: prev_comm=swapper/3 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=spin next_pid=101 next_prio=120
            spin-101   [003] .... sys_enter: NR 39 (0, 0, 0, 0, 0, 0)
            spin-101   [003] .... sys_exit: NR 39 = 101
            spin-101   [003] d.h1 local_timer_entry: vector=239
            spin-101   [003] d.h1 local_timer_exit: vector=239
            spin-101   [003] d..1 tick_stop: success=1 dependency=NONE
            spin-101   [003] .... sys_enter: NR 223 (0, 0, 0, 0, 0, 0)
            spin-101   [003] d.h1 irq_work_entry: vector=246
            spin-101   [003] d.h1 irq_work_exit: vector=246
            spin-101   [003] d..1 tick_stop: success=0 dependency=POSIX_TIMER
            <idle>-0     [001] d.h1 call_function_entry: vector=252
            <idle>-0     [002] d.h1 call_function_entry: vector=252
            <idle>-0     [002] d.h1 call_function_exit: vector=252
            <idle>-0     [001] d.h1 call_function_exit: vector=252
            spin-101   [003] .... sys_exit: NR 223 = 0
            spin-101   [003] d.h1 local_timer_entry: vector=239
            spin-101   [003] d.h1 local_timer_exit: vector=239
            spin-101   [003] d.h1 local_timer_entry: vector=239
            spin-101   [003] d.h1 local_timer_exit: vector=239
            spin-101   [003] .... sys_enter: NR 231 (0, 0, 0, 0, 0, 0)
            spin-101   [003] d..2 sched_switch: prev_comm=spin prev_pid=101 prev_prio=120 prev_state=x ==> next_comm=swapper/3 next_pid=0 next_prio=120
            <idle>-0     [003] d..1 tick_stop: success=1 dependency=NONE
            """,
            Trace(Run(ArchKind.X86_64)));

    [Fact]
    public void Arm64_prints_ipi_entry_with_the_reason_and_the_arch_timer_as_an_irq_handler() =>
        Assert.Equal(
            """
            <idle>-0     [003] d..2 sched_switch: prev_comm=swapper/3 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=spin next_pid=101 next_prio=120
            spin-101   [003] .... sys_enter: NR 172 (0, 0, 0, 0, 0, 0)
            spin-101   [003] .... sys_exit: NR 172 = 101
            spin-101   [003] d.h1 irq_handler_entry: irq=3 name=arch_timer
            spin-101   [003] d.h1 irq_handler_exit: irq=3 ret=handled
            spin-101   [003] d..1 tick_stop: success=1 dependency=NONE
            spin-101   [003] .... sys_enter: NR 110 (0, 0, 0, 0, 0, 0)
            spin-101   [003] d..1 ipi_entry: (IRQ work interrupts)
            spin-101   [003] d..1 tick_stop: success=0 dependency=POSIX_TIMER
            spin-101   [003] d..1 ipi_exit: (IRQ work interrupts)
            <idle>-0     [001] d..1 ipi_entry: (Function call interrupts)
            <idle>-0     [002] d..1 ipi_entry: (Function call interrupts)
            spin-101   [003] .... sys_exit: NR 110 = 0
            <idle>-0     [001] d..1 ipi_exit: (Function call interrupts)
            <idle>-0     [002] d..1 ipi_exit: (Function call interrupts)
            spin-101   [003] d.h1 irq_handler_entry: irq=3 name=arch_timer
            spin-101   [003] d.h1 irq_handler_exit: irq=3 ret=handled
            spin-101   [003] d.h1 irq_handler_entry: irq=3 name=arch_timer
            spin-101   [003] d.h1 irq_handler_exit: irq=3 ret=handled
            spin-101   [003] .... sys_enter: NR 94 (0, 0, 0, 0, 0, 0)
            spin-101   [003] d..2 sched_switch: prev_comm=spin prev_pid=101 prev_prio=120 prev_state=x ==> next_comm=swapper/3 next_pid=0 next_prio=120
            <idle>-0     [003] d..1 tick_stop: success=1 dependency=NONE
            """,
            Trace(Run(ArchKind.Arm64)));

    [Fact]
    public void Tile_prints_the_x86_vector_convention_with_asm_generic_syscall_numbers() =>
        Assert.Equal(
            """
            <idle>-0     [003] d..2 sched_switch: prev_comm=swapper/3 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=spin next_pid=101 next_prio=120
            spin-101   [003] .... sys_enter: NR 172 (0, 0, 0, 0, 0, 0)
            spin-101   [003] .... sys_exit: NR 172 = 101
            spin-101   [003] d.h1 local_timer_entry: vector=239
            spin-101   [003] d.h1 local_timer_exit: vector=239
            spin-101   [003] d..1 tick_stop: success=1 dependency=NONE
            spin-101   [003] .... sys_enter: NR 110 (0, 0, 0, 0, 0, 0)
            spin-101   [003] d.h1 irq_work_entry: vector=246
            spin-101   [003] d.h1 irq_work_exit: vector=246
            spin-101   [003] d..1 tick_stop: success=0 dependency=POSIX_TIMER
            <idle>-0     [001] d.h1 call_function_entry: vector=252
            <idle>-0     [002] d.h1 call_function_entry: vector=252
            <idle>-0     [002] d.h1 call_function_exit: vector=252
            <idle>-0     [001] d.h1 call_function_exit: vector=252
            spin-101   [003] .... sys_exit: NR 110 = 0
            spin-101   [003] d.h1 local_timer_entry: vector=239
            spin-101   [003] d.h1 local_timer_exit: vector=239
            spin-101   [003] d.h1 local_timer_entry: vector=239
            spin-101   [003] d.h1 local_timer_exit: vector=239
            spin-101   [003] .... sys_enter: NR 94 (0, 0, 0, 0, 0, 0)
            spin-101   [003] d..2 sched_switch: prev_comm=spin prev_pid=101 prev_prio=120 prev_state=x ==> next_comm=swapper/3 next_pid=0 next_prio=120
            <idle>-0     [003] d..1 tick_stop: success=1 dependency=NONE
            <idle>-0     [003] d.h1 local_timer_entry: vector=239
            <idle>-0     [003] d.h1 local_timer_exit: vector=239
            """,
            Trace(Run(ArchKind.Tile)));
}
