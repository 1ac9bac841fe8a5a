using System.Collections.Immutable;
using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Monitors;
using TaskIsolation.Actors.Tests.Scenarios;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Model;

/// <summary>
/// The liveness rule of docs/model.md §7: a task that stays in the kernel, or runnable and never scheduled, past the
/// bound is a liveness failure whatever it was doing; a task asleep with its wake-up still to come is not stuck.
/// </summary>
public sealed class LivenessTests : TestKit
{
    public LivenessTests()
        : base(SimulationConfig.Hocon)
    {
    }

    /// <summary>Controlled mode with fixed seeds, and concurrent mode.</summary>
    public static TheoryData<ExecutionMode, int> BothModes => new()
    {
        { ExecutionMode.Controlled, 1 },
        { ExecutionMode.Controlled, 2 },
        { ExecutionMode.Concurrent, 1 },
    };

    [Theory]
    [MemberData(nameof(BothModes))]
    public void A_task_that_stays_in_a_syscall_past_the_bound_is_a_liveness_failure(ExecutionMode mode, int seed)
    {
        const string Yaml = """
            name: liveness-long-syscall
            cpus: 2
            duration: 300ms
            tasks:
              - name: slow
                cpus: 1
                program:
                  - syscall: {name: getpid, work: 250ms}
                  - exit: 0
            expectations:
              - liveness_failure: {task: slow}
              - exited: {task: slow, code: 0}
            """;

        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(Yaml, "test"), new RunSettings { Mode = mode, Seed = seed });

        ExpectationAssert.AllHeld(run);
        var stuck = Assert.Single(run.Machine.Recorder.Events.OfType<LivenessViolated>());
        Assert.Equal(LivenessWait.InKernel, stuck.Waiting);
        Assert.InRange(stuck.SinceNs, 0, 100_000);
        Assert.InRange(stuck.Time, stuck.SinceNs + 100_000_000, stuck.SinceNs + 250_000_000);
        Assert.Contains("has been in the kernel since", stuck.What, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BothModes))]
    public void Sleeping_tasks_whose_wake_up_is_still_to_come_are_not_stuck(ExecutionMode mode, int seed)
    {
        // nanosleep far past the bound, a wait4 for a child that runs and sleeps past it, idle CPUs: none is stuck.
        const string Yaml = """
            name: liveness-sleepers
            cpus: 4
            cmdline: nohz_full=1-3 isolcpus=1-3 task_isolation=1-3
            model: {residual_tick: offloaded}
            duration: 2s
            tasks:
              - name: napper
                cpus: 1
                program:
                  - sleep: 1s
                  - compute: 1ms
                  - sleep: 500ms
                  - exit: 0
              - name: parent
                cpus: 0
                program:
                  - fork:
                      name: child
                      program:
                        - affinity: 2
                        - compute: 700ms
                        - sleep: 300ms
                        - exit: 0
                  - wait
                  - exit: 0
            expectations:
              - no_liveness_failures
              - exited: {task: napper, code: 0}
              - exited: {task: child, code: 0}
              - exited: {task: parent, code: 0}
            """;

        var run = ScenarioRunner.Run(Sys, ScenarioLoader.Load(Yaml, "test"), new RunSettings { Mode = mode, Seed = seed });

        ExpectationAssert.AllHeld(run);
    }

    [Fact]
    public void A_task_created_and_never_scheduled_is_stuck_runnable()
    {
        var monitor = new LivenessMonitor(boundNs: 1_000);
        var history = new History();
        var task = new TaskRef(101, "t");

        Assert.Empty(monitor.Observe(new TaskCreated(1, 10, 1, 0, task, 0, false), history));
        var found = monitor.Finish(2_000, history).Cast<LivenessViolated>().Single();

        Assert.Equal((LivenessWait.Runnable, 10L, 1L), (found.Waiting, found.SinceNs, found.Cause));
        Assert.Contains("runnable and not scheduled", found.What, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sleeper_is_stuck_only_from_its_wake_up_on()
    {
        var monitor = new LivenessMonitor(boundNs: 1_000);
        var history = new History();
        var task = new TaskRef(101, "t");
        MachineEvent[] events =
        [
            new TaskCreated(1, 0, 1, 0, task, 0, false),
            new ContextSwitched(2, 5, 1, 1, null, task),
            new ReturnedToUser(3, 10, 1, 2, task, false, 0),
            new OperationStarted(4, 20, 1, 0, task, TaskStep.Of(OperationKind.Sleep), "nanosleep(1s)"),
            new SyscallEntered(5, 21, 1, 4, task, 35, "nanosleep"),
            new ContextSwitched(6, 30, 1, 5, task, null),
        ];
        foreach (var e in events)
        {
            Assert.Empty(monitor.Observe(e, history));
        }

        // Asleep, its hrtimer still to fire: not stuck however long it takes.
        Assert.Empty(monitor.Finish(1_000_000, history));

        // The hrtimer fires (caused by the nanosleep) and the task never runs again: stuck, from the wake-up.
        Assert.Empty(monitor.Observe(new InterruptTaken(7, 1_000_030, 1, 5, TimerExpiry.Nanosleep, CpuState.Idle, null, false), history));
        var found = monitor.Finish(1_002_000, history).Cast<LivenessViolated>().Single();
        Assert.Equal((LivenessWait.Runnable, 1_000_030L, 7L), (found.Waiting, found.SinceNs, found.Cause));
    }

    private sealed class History : IEventHistory
    {
        private long _next = 1_000;

        public MachineEvent? Find(long id) => null;

        public long NewId() => ++_next;

        public ImmutableArray<ChainLink> ChainOf(MachineEvent e) => [];
    }
}
