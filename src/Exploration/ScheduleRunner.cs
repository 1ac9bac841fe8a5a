using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>One schedule run to its end: the machine (torn down, its events still readable) and what it found.</summary>
/// <param name="Machine">The machine; its actors are stopped.</param>
/// <param name="Outcome">Why the run stopped.</param>
/// <param name="Finding">The first finding (of the kind looked for, if one was), if any.</param>
public sealed record ScheduleRun(SimulatedMachine Machine, RunOutcome Outcome, FindingInfo? Finding)
{
    /// <summary>How many findings the run passed before <see cref="Finding"/> (other kinds, when one kind was looked for).</summary>
    public int FindingsBefore { get; init; }

    /// <summary>The decisions the run took: replaying them reproduces it.</summary>
    public IReadOnlyList<Decision> Decisions => Machine.Simulation.Decisions;
}

/// <summary>
/// Runs one schedule of a target the way exploration, replay and minimization all do, so a recorded decision list
/// replays under exactly the same protocol: controlled mode, at most <c>maxSteps</c> deliveries, and a stop at the
/// first finding (checked between deliveries, so the decisions after it are never taken) — or, for a reproducer of a
/// soak's later finding (<see cref="ReproducerRun.FindingsBefore"/>), at the finding after that many.
/// </summary>
public static class ScheduleRunner
{
    /// <summary>Runs <paramref name="target"/> once under <paramref name="strategy"/> and tears the machine down.</summary>
    /// <param name="system">The actor system.</param>
    /// <param name="target">The target.</param>
    /// <param name="strategy">The strategy deciding the schedule.</param>
    /// <param name="maxSteps">The delivery bound.</param>
    /// <param name="findingsBefore">Findings to run past before stopping at the next (0: stop at the first).</param>
    /// <param name="kind">
    /// Stop at the first finding of this kind (<see cref="FindingInfo.Kinds"/>), running past findings of the others; null
    /// for any kind. The finding's <see cref="ScheduleRun.FindingsBefore"/> then says how many came before it, which is what
    /// its reproducer replays past.
    /// </param>
    public static ScheduleRun Run(ActorSystem system, IExplorationTarget target, ISchedulingStrategy strategy, long maxSteps, int findingsBefore = 0, string? kind = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentOutOfRangeException.ThrowIfNegative(findingsBefore);
        if (kind is not null && !FindingInfo.Kinds.Contains(kind))
        {
            throw new ArgumentException($"no finding kind '{kind}' (expected {string.Join(", ", FindingInfo.Kinds)})", nameof(kind));
        }

        var seen = 0;
        var match = -1;
        bool Stop(SimulatedMachine m)
        {
            var count = m.Recorder.FindingCount;
            if (kind is null || count == seen)
            {
                return count > findingsBefore;
            }

            // A new finding: is it (or one of the new ones) of the kind looked for? Only then does the copy happen.
            var findings = m.Recorder.Findings;
            for (; seen < findings.Count && match < 0; seen++)
            {
                if (FindingInfo.KindOf(findings[seen]) == kind)
                {
                    match = seen;
                }
            }

            return match >= 0;
        }

        var machine = target.Run(system, strategy, maxSteps, Stop);
        try
        {
            var outcome = machine.Simulation.Deliveries >= maxSteps ? RunOutcome.StepLimit : RunOutcome.TimeLimit;
            if (kind is not null)
            {
                // The run may have ended on its duration between two checks: look once more.
                Stop(machine);
                return new ScheduleRun(machine, outcome, match < 0 ? null : FindingInfo.NthOf(machine, match)) { FindingsBefore = Math.Max(0, match) };
            }

            return new ScheduleRun(machine, outcome, findingsBefore == 0 ? FindingInfo.FirstOf(machine) : FindingInfo.NthOf(machine, findingsBefore)) { FindingsBefore = findingsBefore };
        }
        finally
        {
            machine.Shutdown();
        }
    }
}
