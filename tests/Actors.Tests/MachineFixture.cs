using System.Collections.Immutable;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Boot;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using ArchKind = TaskIsolation.Machine.Arch.Arch;

namespace TaskIsolation.Actors.Tests;

/// <summary>Builds the machines the tests run: a 4-CPU box with CPUs 1-3 isolated, unless told otherwise.</summary>
internal static class Machines
{
    public const string Cmdline = "nohz_full=1-3 isolcpus=1-3 task_isolation=1-3";

    /// <summary>The v13 prctl argument <c>PR_TASK_ISOLATION_ENABLE</c>: isolated, SIGKILL on a violation.</summary>
    public const ulong Enable = IsolationFlags.EnableBit;

    /// <summary><c>ENABLE | NOSIG</c>: isolated, never signalled.</summary>
    public const ulong NoSig = IsolationFlags.EnableBit | IsolationFlags.NoSigBits;

    /// <summary><c>ENABLE | USERSIG | SET_SIG(SIGUSR1)</c>: isolated, SIGUSR1 on a violation.</summary>
    public static readonly ulong EnableUsr1 = IsolationFlags.EnabledWithSignal(10).Word;

    public static SimulatedMachine Boot(ActorSystem sys, MachineOptions? options = null, int cpus = 4, ArchKind arch = ArchKind.X86_64, string cmdline = Cmdline) =>
        SimulatedMachine.Boot(sys, BootedMachine.Boot(cpus, arch, KernelConfig.Default, cmdline), options ?? new MachineOptions());

    public static CpuMask OnCpu(int cpu, int nbits = 4) => CpuMask.Single(nbits, cpu);

    public static ImmutableArray<Operation> Program(params Operation[] ops) => [.. ops];

    public static MachineOptions Controlled(int seed = 1) => new() { Mode = ExecutionMode.Controlled, Seed = seed };

    public static MachineOptions Concurrent(int seed = 1) => new() { Mode = ExecutionMode.Concurrent, Seed = seed };
}
