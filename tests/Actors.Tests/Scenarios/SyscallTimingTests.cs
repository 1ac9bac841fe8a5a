using Akka.TestKit.Xunit2;
using TaskIsolation.Machine.Events;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>
/// The kernel part of each system call is a row of the timings table a scenario sets (<c>model: timings:</c>): the
/// CPU charges it from there, so changing it moves the traced return of that call by exactly the difference.
/// </summary>
public sealed class SyscallTimingTests : TestKit
{
    public SyscallTimingTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Theory]
    [InlineData("mmap", "- mmap", "mmap", 2_000)]
    [InlineData("copy_process", "- fork: {name: child, program: [exit: 0]}", "fork", 20_000)]
    [InlineData("rt_sigaction", "- sigaction: {signal: SIGUSR1}", "rt_sigaction", 300)]
    public void A_syscall_timing_set_in_the_scenario_delays_the_task_by_the_difference(string key, string step, string syscall, long defaultNs)
    {
        var asDefault = SyscallToReturn(Scenario(step, string.Empty), syscall);
        var longer = SyscallToReturn(Scenario(step, $"model: {{timings: {{{key}: 50us}}}}\n"), syscall);

        Assert.Equal(50_000 - defaultNs, longer - asDefault);
    }

    [Theory]
    [InlineData("copy_process: 5 parsecs", "model.timings.copy_process", "unknown unit")]
    [InlineData("wait4: 2min", "model.timings.wait4", "longer than a minute")]
    [InlineData("sched_setaffinity: -1us", "model.timings.sched_setaffinity", "")]
    [InlineData("mmap_cost: 1us", "model.timings: unknown key 'mmap_cost'", "")]
    public void A_bad_timing_is_refused_naming_its_key(string timing, string key, string message)
    {
        var yaml = $"cpus: 2\nmodel:\n  timings:\n    {timing}\n";

        var ex = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(yaml, "t.yaml"));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(4, error.Line);
        Assert.StartsWith(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static Scenario Scenario(string step, string model) => ScenarioLoader.Load($"""
        cpus: 2
        {model}duration: 1ms
        tasks:
          - name: t
            cpus: 0
            program:
              {step}
              - exit: 0
        """, "t.yaml");

    /// <summary>From the task's entry into <paramref name="syscall"/> to its next one (the exit): the call's cost and a fixed return.</summary>
    private long SyscallToReturn(Scenario scenario, string syscall)
    {
        var run = ScenarioRunner.Run(Sys, scenario, new RunSettings { Mode = ExecutionMode.Controlled, Seed = 1 });
        var events = run.Machine.Recorder.Events;
        var entered = events.OfType<SyscallEntered>().Single(e => e.Task.Comm == "t" && e.Name == syscall);
        var next = events.OfType<SyscallEntered>().First(e => e.Task.Comm == "t" && e.Time > entered.Time);
        return next.Time - entered.Time;
    }
}
