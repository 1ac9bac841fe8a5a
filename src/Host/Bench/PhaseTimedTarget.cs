using System.Diagnostics;
using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Exploration;
using TaskIsolation.Simulation;

namespace TaskIsolation.Host.Bench;

/// <summary>Where exploration's wall time went, summed over every schedule of every worker.</summary>
/// <param name="Schedules">Schedules timed.</param>
/// <param name="Boot">From the start of a schedule to its first delivery: the machine's actors created, noise added, tasks queued.</param>
/// <param name="Run">From the first delivery to the end of the run (its finding, its duration or its step bound).</param>
/// <param name="Teardown">Stopping the machine's actors.</param>
/// <param name="Between">On the same worker, from a schedule's teardown to the next one's start: the explorer's own
/// work (coverage, findings, reproducers, batches).</param>
internal sealed record ExplorePhases(long Schedules, TimeSpan Boot, TimeSpan Run, TimeSpan Teardown, TimeSpan Between)
{
    public TimeSpan Total => Boot + Run + Teardown + Between;
}

/// <summary>
/// An exploration target that times the phases of each schedule of the target it wraps, and changes nothing else: the
/// same machine, strategy, step bound and stop condition (whose first call, before the first delivery, marks the end
/// of boot). It tears the machine down itself, to time it; the explorer's own teardown then has nothing left to do.
/// </summary>
internal sealed class PhaseTimedTarget(IExplorationTarget inner) : IExplorationTarget
{
    [ThreadStatic]
    private static long t_lastEnd;

    private long _schedules;
    private long _boot;
    private long _run;
    private long _teardown;
    private long _between;

    public string Name => inner.Name;

    public string Kind => inner.Kind;

    public string Text => inner.Text;

    public string Hash => inner.Hash;

    public long DurationNs => inner.DurationNs;

    public ExplorePhases Phases => new(
        Interlocked.Read(ref _schedules),
        Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _boot)),
        Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _run)),
        Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _teardown)),
        Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _between)));

    public SimulatedMachine Run(ActorSystem system, ISchedulingStrategy strategy, long maxSteps, Func<SimulatedMachine, bool> stop)
    {
        var start = Stopwatch.GetTimestamp();
        if (t_lastEnd != 0)
        {
            Interlocked.Add(ref _between, start - t_lastEnd);
        }

        var running = 0L;
        var machine = inner.Run(system, strategy, maxSteps, m =>
        {
            if (running == 0)
            {
                running = Stopwatch.GetTimestamp();
            }

            return stop(m);
        });
        var ran = Stopwatch.GetTimestamp();
        if (running == 0)
        {
            running = ran;
        }

        machine.Shutdown();
        var end = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _boot, running - start);
        Interlocked.Add(ref _run, ran - running);
        Interlocked.Add(ref _teardown, end - ran);
        Interlocked.Increment(ref _schedules);
        t_lastEnd = end;
        return machine;
    }

    public IEnumerable<IExplorationTarget> Shrinks() => inner.Shrinks();
}
