using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Kernel;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>Known runs the report tests read: machines booted with CPUs 1-3 isolated, with noise of several kinds.</summary>
internal static class ReportRuns
{
    /// <summary>
    /// A housekeeping task on CPU 0, a NOSIG task on CPU 2 and an isolated task on CPU 3 whose sibling thread, moved to
    /// CPU 0 where it shares the CPU with the housekeeping task, munmaps after 300 ms of its own CPU time (selftest 6):
    /// the TLB shootdown IPI kills the isolated task. With the 4.7 residual tick (the default) CPU 2 takes one a
    /// second.
    /// </summary>
    public static SimulatedMachine Shootdown(ActorSystem sys, ExecutionMode mode = ExecutionMode.Controlled, int seed = 7, ResidualTick residual = ResidualTick.OneHz)
    {
        var m = Boot(sys, new MachineOptions { Mode = mode, Seed = seed, Switches = new ModelSwitches { ResidualTick = residual } });
        m.Start(new TaskSpec("hk", OnCpu(0), Program(new Loop(-1, [new Compute(9_000_000), new Syscall("write"), new Mmap(4096)]))));
        m.Start(new TaskSpec("nosig", OnCpu(2), Program(new Prctl(PrctlOptions.SetTaskIsolation, NoSig), new Loop(-1, [new Compute(1_000_000_000)]))));
        m.Start(new TaskSpec("iso", OnCpu(3), Program(
            new Spawn("sibling", [new SetAffinity(CpuMask.Single(4, 0)), new Compute(300_000_000), new Munmap(0x1000), new Exit(0)], Thread: true),
            new Compute(20_000_000),
            new Prctl(PrctlOptions.SetTaskIsolation, Enable),
            new Compute(3_000_000_000))));
        m.RunFor(2_500_000_000);
        return m;
    }

    /// <summary>The accounting of a finished machine's recorded events.</summary>
    public static (NoiseAccountant Noise, RunReportCollector Collector) Account(SimulatedMachine m)
    {
        var noise = new NoiseAccountant(m.Booted.NrCpus, m.Options.Timings);
        var collector = new RunReportCollector();
        RunObservers.Replay(m.Recorder.Events, m.Now, noise, collector);
        return (noise, collector);
    }
}
