using System.Collections.Immutable;
using TaskIsolation.Machine.Cpus;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Machine.Programs;

/// <summary>
/// One step of a task's program: what a user-space thread does. Every step but <see cref="Compute"/> enters the
/// kernel (a system call or an exception), which is where task isolation's rules bite.
/// </summary>
public abstract record Operation
{
    /// <summary>How the step reads in a causal chain: <c>munmap</c>, <c>write</c>, <c>compute 2ms</c>.</summary>
    public abstract string Describe();

    /// <summary>What kind of step this is, as events carry it (decisions use it, never <see cref="Describe"/>).</summary>
    public abstract TaskStep Step { get; }
}

/// <summary>User-mode work (a polling loop, a spin) for a simulated duration; interrupts stretch it.</summary>
/// <param name="Ns">How long, in user-mode ns; <see cref="Forever"/> for work that never ends (a pure-compute loop forever).</param>
public sealed record Compute(long Ns) : Operation
{
    /// <summary>The length of user compute that never ends.</summary>
    public const long Forever = long.MaxValue;

    /// <inheritdoc />
    public override string Describe() => Ns == Forever ? "compute forever" : Texts.Get(Ns);

    /// <summary>The descriptions made so far, one string per length.</summary>
    private static readonly Durations.TextCache Texts = new(ns => $"compute {Durations.Format(ns)}");

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Compute);
}

/// <summary>A system call with no model-visible effect but its cost (read, write, getpid, …), by name or number.</summary>
/// <param name="Name">Syscall name (resolved with the arch's table); null when <paramref name="Nr"/> is given.</param>
/// <param name="Nr">Syscall number; -1 when <paramref name="Name"/> is given.</param>
/// <param name="WorkNs">Time spent in the kernel doing it.</param>
public sealed record Syscall(string? Name, int Nr = -1, long WorkNs = 2_000) : Operation
{
    /// <inheritdoc />
    public override string Describe() => Name ?? $"syscall {Nr}";

    /// <inheritdoc />
    public override TaskStep Step => Name is null ? TaskStep.Of(OperationKind.Syscall) : Steps.GetOrAdd(Name, static n => new TaskStep(OperationKind.Syscall, n));

    /// <summary>One step value per syscall name: every start of a <c>write</c> published a new one.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskStep> Steps = new(StringComparer.Ordinal);
}

/// <summary><c>prctl(option, arg)</c>: PR_SET_TASK_ISOLATION / PR_GET_TASK_ISOLATION or any other option.</summary>
public sealed record Prctl(int Option, ulong Arg, ulong Arg3 = 0, ulong Arg4 = 0, ulong Arg5 = 0) : Operation
{
    /// <inheritdoc />
    public override string Describe() =>
        Arg3 == 0 && Arg4 == 0 && Arg5 == 0 ? $"prctl({Option}, 0x{Arg:x})" : $"prctl({Option}, 0x{Arg:x}, 0x{Arg3:x}, 0x{Arg4:x}, 0x{Arg5:x})";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Prctl);
}

/// <summary><c>sched_setaffinity</c> of this task, or of the task named <paramref name="Target"/>.</summary>
public sealed record SetAffinity(CpuMask Mask, string? Target = null) : Operation
{
    /// <inheritdoc />
    public override string Describe() => $"sched_setaffinity({Target ?? "self"}, {Mask.ToList()})";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.SetAffinity);
}

/// <summary>First touch of a present but not yet faulted page of a shared file mapping: a page fault.</summary>
public sealed record TouchPage(ulong Address) : Operation
{
    /// <inheritdoc />
    public override string Describe() => $"touch 0x{Address:x}";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.TouchPage);
}

/// <summary>
/// A misaligned load or store at <paramref name="Address"/> by the instruction at <paramref name="Pc"/>. Only tile traps
/// it and fixes it up silently in the kernel (its JIT fixup), a quiet exception that costs an isolated task its
/// isolation (§8 selftest 7) with the arch's reason; x86_64 and arm64 handle misaligned user accesses in hardware, so
/// there it is a few nanoseconds of user work and no kernel entry at all.
/// </summary>
public sealed record UnalignedAccess(ulong Address, ulong Pc) : Operation
{
    /// <inheritdoc />
    public override string Describe() => $"unaligned access 0x{Address:x}";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.UnalignedAccess);
}

/// <summary><c>mmap</c> of a region into the task's address space (dirties vmstat and this CPU's LRU batches).</summary>
public sealed record Mmap(ulong Length) : Operation
{
    /// <inheritdoc />
    public override string Describe() => "mmap";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Mmap);
}

/// <summary><c>munmap</c>: a local TLB flush, then a shootdown of every other CPU in the mm's cpumask (x86, tile).</summary>
public sealed record Munmap(ulong Address) : Operation
{
    /// <inheritdoc />
    public override string Describe() => "munmap";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Munmap);
}

/// <summary><c>mlock</c>: in 4.7 it calls <c>lru_add_drain_all()</c>, queueing drain work on every CPU with batches.</summary>
public sealed record Mlock(ulong Length) : Operation
{
    /// <inheritdoc />
    public override string Describe() => "mlock";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Mlock);
}

/// <summary>Arms a POSIX CPU timer (<c>timer_settime</c> on a CPU-time clock): sets the POSIX_TIMER tick dependency.</summary>
/// <param name="Ns">Expiry, in CPU time of the process.</param>
/// <param name="Signal">Signal on expiry.</param>
/// <param name="PerProcess">Process-wide clock (per-process dependency) rather than this thread's.</param>
public sealed record ArmPosixTimer(long Ns, int Signal, bool PerProcess = false) : Operation
{
    /// <inheritdoc />
    public override string Describe() => $"timer_settime({Durations.Format(Ns)})";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.ArmPosixTimer);
}

/// <summary><c>nanosleep</c>: blocks, the CPU goes to another task or idle, and a timer wakes it.</summary>
public sealed record Sleep(long Ns) : Operation
{
    /// <inheritdoc />
    public override string Describe() => Texts.Get(Ns);

    /// <summary>The descriptions made so far, one string per length.</summary>
    private static readonly Durations.TextCache Texts = new(ns => $"nanosleep({Durations.Format(ns)})");

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Sleep);
}

/// <summary><c>kill(pid of Target, Signal)</c>.</summary>
public sealed record Kill(string Target, int Signal) : Operation
{
    /// <inheritdoc />
    public override string Describe() => $"kill({Target}, {Signal})";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Kill);
}

/// <summary><c>rt_sigaction</c>: install <paramref name="Handler"/> for <paramref name="Signal"/> (it ends with sigreturn).</summary>
public sealed record Sigaction(int Signal, ImmutableArray<Operation> Handler) : Operation
{
    /// <inheritdoc />
    public override string Describe() => $"sigaction({Signal})";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Sigaction);
}

/// <summary><c>fork</c> (or a thread with <paramref name="Thread"/>): the child runs <paramref name="Program"/>.</summary>
public sealed record Spawn(string Comm, ImmutableArray<Operation> Program, bool Thread = false) : Operation
{
    /// <inheritdoc />
    public override string Describe() => Thread ? $"clone({Comm})" : $"fork({Comm})";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(Thread ? OperationKind.Clone : OperationKind.Fork);
}

/// <summary><c>wait4</c> for any child to exit.</summary>
public sealed record WaitChild : Operation
{
    /// <inheritdoc />
    public override string Describe() => "wait4";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Wait);
}

/// <summary><c>exit_group(code)</c>.</summary>
public sealed record Exit(int Code) : Operation
{
    /// <inheritdoc />
    public override string Describe() => $"exit_group({Code})";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Exit);
}

/// <summary>Repeat <paramref name="Body"/> <paramref name="Count"/> times (-1: forever).</summary>
public sealed record Loop(int Count, ImmutableArray<Operation> Body) : Operation
{
    /// <inheritdoc />
    public override string Describe() => Count < 0 ? "loop forever" : $"loop {Count}";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Loop);
}

/// <summary>Human-readable simulated durations.</summary>
public static class Durations
{
    /// <summary>1 ms = 1,000,000 ns, and so on: <c>500us</c>, <c>2ms</c>, <c>1.5s</c>.</summary>
    public static string Format(long ns)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        return ns switch
        {
            >= 1_000_000_000 when ns % 1_000_000 == 0 => (ns / 1e9).ToString("0.###", c) + "s",
            >= 1_000_000 when ns % 1_000 == 0 => (ns / 1e6).ToString("0.###", c) + "ms",
            >= 1_000 => (ns / 1e3).ToString("0.###", c) + "us",
            _ => ns.ToString(c) + "ns",
        };
    }

    /// <summary>
    /// Texts made from a duration, each made once: every step a task starts is published with its description, so a
    /// daemon's <c>nanosleep(1s)</c> was formatted (and a new string kept by the event) at every wake-up. Holds at most
    /// <see cref="MaxEntries"/> lengths; past that (a swarm's perturbed timings) a text is made each time, as before.
    /// </summary>
    /// <param name="make">Makes the text of a length.</param>
    internal sealed class TextCache(Func<long, string> make)
    {
        /// <summary>How many lengths a cache keeps.</summary>
        public const int MaxEntries = 4_096;

        private readonly System.Collections.Concurrent.ConcurrentDictionary<long, string> _texts = new();
        private int _count;

        /// <summary>The text of <paramref name="ns"/>.</summary>
        public string Get(long ns)
        {
            if (_texts.TryGetValue(ns, out var text))
            {
                return text;
            }

            text = make(ns);
            if (Volatile.Read(ref _count) < MaxEntries && _texts.TryAdd(ns, text))
            {
                Interlocked.Increment(ref _count);
            }

            return text;
        }
    }
}

/// <summary><c>rt_sigreturn</c>: the end of a signal handler (added by the task itself, not written by users).</summary>
public sealed record Sigreturn : Operation
{
    /// <inheritdoc />
    public override string Describe() => "rt_sigreturn";

    /// <inheritdoc />
    public override TaskStep Step => TaskStep.Of(OperationKind.Sigreturn);
}
