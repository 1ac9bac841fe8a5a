using Akka.Actor;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Actors.Simulation;

namespace TaskIsolation.Actors.Exploration;

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
/// first finding (checked between deliveries, so the decisions after it are never taken).
/// </summary>
public static class ScheduleRunner
{
    /// <summary>Runs <paramref name="target"/> once under <paramref name="strategy"/> and tears the machine down.</summary>
    public static ScheduleRun Run(ActorSystem system, IExplorationTarget target, ISchedulingStrategy strategy, long maxSteps)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(strategy);
        var machine = target.Run(system, strategy, maxSteps, m => m.Recorder.FindingCount > 0);
        try
        {
            var outcome = machine.Simulation.Deliveries >= maxSteps ? RunOutcome.StepLimit : RunOutcome.TimeLimit;
            return new ScheduleRun(machine, outcome, FindingInfo.FirstOf(machine));
        }
        finally
        {
            machine.Shutdown();
        }
    }
}
