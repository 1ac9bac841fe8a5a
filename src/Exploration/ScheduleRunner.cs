using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>One schedule run to its end: the machine (torn down, its events still readable) and what it found.</summary>
/// <param name="Machine">The machine; its actors are stopped.</param>
/// <param name="Outcome">Why the run stopped.</param>
/// <param name="Finding">The first finding, if any.</param>
public sealed record ScheduleRun(SimulatedMachine Machine, RunOutcome Outcome, FindingInfo? Finding)
{
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
    public static ScheduleRun Run(ActorSystem system, IExplorationTarget target, ISchedulingStrategy strategy, long maxSteps, int findingsBefore = 0)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(strategy);
        ArgumentOutOfRangeException.ThrowIfNegative(findingsBefore);
        var machine = target.Run(system, strategy, maxSteps, m => m.Recorder.FindingCount > findingsBefore);
        try
        {
            var outcome = machine.Simulation.Deliveries >= maxSteps ? RunOutcome.StepLimit : RunOutcome.TimeLimit;
            return new ScheduleRun(machine, outcome, findingsBefore == 0 ? FindingInfo.FirstOf(machine) : FindingInfo.NthOf(machine, findingsBefore));
        }
        finally
        {
            machine.Shutdown();
        }
    }
}
