using System.Diagnostics;
using TaskIsolation.Reports;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.Soak;

/// <summary>Why a soak ended.</summary>
public enum SoakEnd
{
    /// <summary>It ran the whole simulated duration.</summary>
    Completed,

    /// <summary>The wall-clock limit was reached.</summary>
    WallLimit,

    /// <summary>Someone asked it to stop (Ctrl-C, SIGTERM, a test).</summary>
    StopRequested,

    /// <summary>Nothing was left to happen on the machine, now or later.</summary>
    Idle,

    /// <summary>A single noise longer than <see cref="SoakSettings.StopAboveNs"/> ended (<c>--stop-us</c>).</summary>
    NoiseAbove,

    /// <summary>Simulated time stopped: one instant held more deliveries than the scenario's bound (a no-progress finding).</summary>
    NoProgress,
}

/// <summary>Where a soak stands, reported after every slice.</summary>
/// <param name="NowNs">Simulated time.</param>
/// <param name="ForNs">Simulated time it will run to.</param>
/// <param name="Wall">Wall-clock time since the soak started.</param>
/// <param name="Events">Events so far.</param>
/// <param name="Violations">Violations so far.</param>
/// <param name="LivenessFailures">Liveness failures so far.</param>
/// <param name="Noise">Noise so far per CPU: its share of the runtime (<see cref="NoiseShare"/>: 100 − % CPU Aval), or not measured.</param>
/// <param name="Snapshots">Snapshots written so far.</param>
public sealed record SoakStatus(long NowNs, long ForNs, TimeSpan Wall, long Events, long Violations, long LivenessFailures, IReadOnlyList<NoiseShare> Noise, int Snapshots)
{
    /// <summary>Simulated seconds per wall-clock second.</summary>
    public double SimPerWall => Wall.TotalSeconds > 0 ? NowNs / 1e9 / Wall.TotalSeconds : 0;

    /// <summary>Events per wall-clock second.</summary>
    public double EventsPerSecond => Wall.TotalSeconds > 0 ? Events / Wall.TotalSeconds : 0;
}

/// <summary>One snapshot: the ledger's capture plus where the run stood.</summary>
/// <param name="Sequence">1 for the first snapshot, and so on.</param>
/// <param name="Final">The last one, written when the soak ended.</param>
/// <param name="End">Why it ended (final snapshot only).</param>
/// <param name="Status">Progress when it was taken.</param>
/// <param name="Capture">What the ledger held.</param>
/// <param name="Deliveries">Messages the simulation delivered.</param>
/// <param name="Decisions">Controlled-mode decisions taken (all of them, those forgotten included).</param>
/// <param name="First">The run's first finding, if any (what a reproducer is made of).</param>
/// <param name="Distinct">The first finding of each distinct signature so far, in the order found (the first is <paramref name="First"/>).</param>
public sealed record SoakSnapshot(int Sequence, bool Final, SoakEnd? End, SoakStatus Status, SoakCapture Capture, long Deliveries, long Decisions, FirstFinding? First, IReadOnlyList<FirstFinding>? Distinct = null);

/// <summary>Where snapshots go (files, a test's list).</summary>
public interface ISoakOutput
{
    /// <summary>Writes <paramref name="snapshot"/>; every file it writes must be complete when it appears.</summary>
    void Write(SoakSnapshot snapshot);
}

/// <summary>How a soak ended and its last snapshot.</summary>
/// <param name="End">Why it ended.</param>
/// <param name="Last">The final snapshot.</param>
public sealed record SoakResult(SoakEnd End, SoakSnapshot Last);

/// <summary>
/// Runs a <see cref="ScenarioSession"/> for hours of simulated time in slices: after each slice it reports progress and checks for a
/// stop request and the wall-clock limit; every <see cref="SoakSettings.SnapshotEveryNs"/> of simulated time it writes
/// a snapshot; whatever ends it, it writes a final one. What it keeps is the <see cref="SoakLedger"/>'s: bounded.
/// </summary>
public static class SoakDriver
{
    /// <summary>
    /// Soaks <paramref name="session"/> (its machine booted with <see cref="SoakLedger.Observe"/>'s options and attached
    /// to <paramref name="ledger"/>). Slices also end at each task's start time, so a task starts at its instant.
    /// </summary>
    /// <param name="session">The session.</param>
    /// <param name="ledger">The ledger observing it.</param>
    /// <param name="settings">Duration, limits, intervals.</param>
    /// <param name="output">Where snapshots go.</param>
    /// <param name="progress">Told after every slice (null: nobody).</param>
    /// <param name="stop">A stop request: the current slice finishes, then the final snapshot is written.</param>
    /// <param name="wallClock">The wall clock for the limit and rates (the system's when null); never seen by the model.</param>
    public static SoakResult Run(
        ScenarioSession session,
        SoakLedger ledger,
        SoakSettings settings,
        ISoakOutput output,
        Action<SoakStatus>? progress = null,
        CancellationToken stop = default,
        TimeProvider? wallClock = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        settings.Validate();
        var machine = session.Machine;
        var clock = wallClock ?? TimeProvider.System;
        var started = clock.GetTimestamp();
        var origin = machine.Now;
        var endNs = origin + settings.ForNs;
        var nextSnapshot = origin + settings.SnapshotEveryNs;
        var sequence = 0;

        SoakStatus Status() => new(
            machine.Now - origin,
            settings.ForNs,
            clock.GetElapsedTime(started),
            ledger.Events,
            ledger.Violations,
            ledger.LivenessFailures,
            ledger.Noise(machine.Now),
            sequence);

        SoakSnapshot Snapshot(bool final, SoakEnd? end)
        {
            ledger.Settle();
            sequence++;
            var log = machine.Simulation.Log;
            var snapshot = new SoakSnapshot(sequence, final, end, Status(), ledger.Capture(machine.Now, clock.GetElapsedTime(started)), machine.Simulation.Deliveries, log.Total, ledger.First, ledger.Distinct);
            output.Write(snapshot);

            // Every finding so far has its decision count (Settle above), and the output has made the reproducers of the
            // new ones: the decisions before now are needed no more. A reproducer made later lists the decisions from
            // here on, and its replay takes the earlier ones again from the seed (SoakReproducer). So the log holds one
            // snapshot interval's decisions, however long the soak runs.
            log.ForgetBefore(log.Total);
            return snapshot;
        }

        // A stop request interrupts the slice at once (between two deliveries, or, concurrently, once what is in flight
        // is handled): a slice normally lasts at most 100 ms of simulated time, but one whose instant never ends would
        // last for ever, and the signal must end the soak within a second whatever the model does.
        using var interrupt = stop.Register(machine.Simulation.Interrupt);
        SoakEnd why;
        while (true)
        {
            if (machine.Now >= endNs)
            {
                why = SoakEnd.Completed;
                break;
            }

            if (stop.IsCancellationRequested)
            {
                why = SoakEnd.StopRequested;
                break;
            }

            if (settings.WallLimit is { } limit && clock.GetElapsedTime(started) >= limit)
            {
                why = SoakEnd.WallLimit;
                break;
            }

            session.StartDue();
            var until = Math.Min(Math.Min(endNs, machine.Now + settings.SliceNs), nextSnapshot);
            if (session.NextStartNs is { } next)
            {
                until = Math.Min(until, next);
            }

            // The stop check runs between deliveries: the ledger uses it to note where each finding's delivery ended.
            var outcome = session.RunUntil(until, () =>
            {
                ledger.Settle();
                return ledger.StopNow(machine.Now);
            });
            Debug.Assert(outcome != RunOutcome.Stopped || machine.Simulation.Interrupted || ledger.Crossing is not null, "only an interrupt or a noise above --stop-us stops the run");
            if (outcome == RunOutcome.NoProgress)
            {
                why = SoakEnd.NoProgress;
                break;
            }

            if (ledger.Crossing is not null)
            {
                why = SoakEnd.NoiseAbove;
                break;
            }

            if (outcome == RunOutcome.Stopped)
            {
                // A stop request interrupted the slice (it may have been an instant that never ends): the machine is
                // between two deliveries, so the final snapshot is taken there.
                why = SoakEnd.StopRequested;
                break;
            }
            if (machine.Now >= nextSnapshot && machine.Now < endNs)
            {
                Snapshot(final: false, end: null);
                nextSnapshot += settings.SnapshotEveryNs;
            }

            progress?.Invoke(Status());
            if (outcome == RunOutcome.Idle && session.NextStartNs is null)
            {
                why = SoakEnd.Idle;
                break;
            }
        }

        var last = Snapshot(final: true, end: why);
        progress?.Invoke(last.Status);
        return new SoakResult(why, last);
    }
}
