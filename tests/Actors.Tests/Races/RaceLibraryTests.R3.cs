using TaskIsolation.Actors.Tests.Scenarios;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Races;

/// <summary>
/// R3's mitigation, <c>targeted_tick_dep_kick</c> (docs/model.md §9, docs/races.md R3), as later kernels kick: a
/// per-task dependency kicks the task's CPU (<c>tick_nohz_dep_set_task()</c>), a per-process one the CPU of every
/// queued thread of the process (<c>tick_nohz_dep_set_signal()</c> walks the threads), so an isolated sibling of the
/// thread that arms a process-wide CPU timer restarts its tick.
/// </summary>
public sealed partial class RaceLibraryTests
{
    /// <summary>Controlled mode with fixed seeds, and concurrent mode.</summary>
    public static TheoryData<ExecutionMode, int> BothModes => new()
    {
        { ExecutionMode.Controlled, 1 },
        { ExecutionMode.Controlled, 2 },
        { ExecutionMode.Controlled, 3 },
        { ExecutionMode.Concurrent, 1 },
    };

    [Theory]
    [MemberData(nameof(BothModes))]
    public void R3_targeted_a_process_wide_timer_kicks_the_cpu_of_an_isolated_sibling_thread(ExecutionMode mode, int seed)
    {
        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(SiblingYaml(perProcess: true), "test"), new RunSettings { Mode = mode, Seed = seed });

        ExpectationAssert.AllHeld(run);
        var kick = Assert.Single(run.Machine.Recorder.Events.OfType<InterruptSent>(), s => s.Kind == InterruptKind.IrqWork && s.TargetCpu == 3);
        Assert.Equal(0, kick.Cpu);
    }

    [Theory]
    [MemberData(nameof(BothModes))]
    public void R3_targeted_a_per_task_timer_leaves_the_isolated_sibling_alone(ExecutionMode mode, int seed)
    {
        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(SiblingYaml(perProcess: false), "test"), new RunSettings { Mode = mode, Seed = seed });

        ExpectationAssert.AllHeld(run);
        Assert.DoesNotContain(run.Machine.Recorder.Events.OfType<InterruptSent>(), s => s.Kind == InterruptKind.IrqWork && s.TargetCpu == 3);
    }

    /// <summary>
    /// main on housekeeping CPU 0 starts a thread that isolates itself (NOSIG) on CPU 3 and spins in user space, sleeps while it
    /// does, then arms a CPU timer, process-wide or its own. Only the process-wide one kicks CPU 3: one irq_work violation there.
    /// </summary>
    private static string SiblingYaml(bool perProcess) => $$"""
        name: r03-targeted-sibling
        cpus: 4
        cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
        model: {residual_tick: offloaded, targeted_tick_dep_kick: true}
        duration: 6ms
        tasks:
          - name: main
            cpus: 0
            program:
              - sigaction: {signal: SIGALRM, handler: [compute: 1us]}
              - thread:
                  name: iso
                  program:
                    - affinity: 3
                    - prctl: nosig
                    - loop: {count: forever, body: [compute: 1ms]}
              - sleep: 2ms
              - posix_timer: {expires: 10us, per_process: {{(perProcess ? "true" : "false")}}}
              - loop: {count: forever, body: [compute: 1ms]}
        expectations:
          - prctl: {task: iso, returns: 0}
          - violations: {cpus: 3, kind: irq_work, task: iso, count: {{(perProcess ? 1 : 0)}}}
          - no_violations: 0-2
          - signals: {task: iso, count: 0}
        """;
}
