using Akka.Actor;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>How a replay ended.</summary>
public enum ReplayStatus
{
    /// <summary>The same finding, from the same decisions, on the same target text.</summary>
    Reproduced,

    /// <summary>The recorded decisions no longer fit the run (the first divergent one is named).</summary>
    Diverged,

    /// <summary>The run followed every decision but found nothing.</summary>
    NoFinding,

    /// <summary>The run found something else.</summary>
    DifferentFinding,

    /// <summary>The run reproduced the finding, but the embedded target text no longer matches its recorded hash.</summary>
    TargetEdited,
}

/// <summary>The outcome of a replay, with a message for the user.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="Message">One paragraph saying so.</param>
/// <param name="Run">The run (null when it diverged).</param>
/// <param name="Divergence">The first divergent decision, when it diverged.</param>
/// <param name="HashMatches">Whether the embedded text still has its recorded hash.</param>
/// <param name="ModelMatches">Whether the reproducer was recorded by this model version.</param>
public sealed record ReplayReport(ReplayStatus Status, string Message, ScheduleRun? Run, ReplayDivergedException? Divergence, bool HashMatches, bool ModelMatches)
{
    /// <summary>
    /// When every decision fitted but the finding did not come back, the first decision that, set to another of its
    /// options, brings it back: where an edited decision list departs from the recorded run. Null otherwise.
    /// </summary>
    public int? EditedDecision { get; init; }

    /// <summary>True only for <see cref="ReplayStatus.Reproduced"/>.</summary>
    public bool Ok => Status == ReplayStatus.Reproduced;
}

/// <summary>
/// Re-runs a reproducer exactly: its target rebuilt from the embedded text, its recorded decisions under
/// <see cref="ReplayStrategy"/>, the same step bound and stop rule as exploration. It never gives a wrong answer
/// quietly: an edited target, a changed model, or a decision that no longer applies is reported as such.
/// </summary>
public static class Replayer
{
    /// <summary>Replays <paramref name="reproducer"/> once.</summary>
    /// <exception cref="FormatException">The embedded target text does not load.</exception>
    public static ReplayReport Replay(ActorSystem system, Reproducer reproducer, TargetLoader loader)
    {
        ArgumentNullException.ThrowIfNull(reproducer);
        ArgumentNullException.ThrowIfNull(loader);
        var target = TargetOf(reproducer, loader);
        var hashOk = TargetHash.Of(reproducer.Target.Text) == reproducer.Target.Hash;
        var modelOk = reproducer.ModelVersion == ModelVersion.Current;
        var context = (hashOk ? string.Empty : $"the target text was edited (its hash is {TargetHash.Of(reproducer.Target.Text)}, recorded {reproducer.Target.Hash}); ")
            + (modelOk ? string.Empty : $"{ModelVersion.Mismatch(reproducer.ModelVersion)}; ");
        var decisions = reproducer.DecisionList;
        var prefix = reproducer.Prefix;
        var strategy = new ReplayStrategy(decisions, prefix);
        ScheduleRun run;
        try
        {
            run = ScheduleRunner.Run(system, target, strategy, reproducer.Run.MaxSteps, reproducer.Run.FindingsBefore);
        }
        catch (ReplayDivergedException ex)
        {
            return new ReplayReport(ReplayStatus.Diverged, context + ex.Message, null, ex, hashOk, modelOk);
        }

        if (strategy.Unfinished() is { } unfinished)
        {
            return new ReplayReport(ReplayStatus.Diverged, context + unfinished.Message, run, unfinished, hashOk, modelOk);
        }

        var expected = reproducer.Finding;
        if (run.Finding is null || run.Finding.Signature != expected.Signature || run.Finding.Cpu != expected.Cpu)
        {
            // Every decision fitted, yet the finding did not come: with the target and model as recorded, a decision
            // was edited to another valid one: look for the first such. Not where the decisions before the listed ones
            // are taken again from the seed: each try would run that whole prefix again (hours of a soak).
            (EditedDecision? Found, int Tries)? edit = hashOk && modelOk && prefix is null ? FindEditedDecision(system, reproducer, target, decisions) : null;
            var where = edit switch
            {
                null when prefix is not null => $"; edited decisions are not searched for when the first {prefix.Count} are taken again from the seed",
                null => string.Empty,
                { Found: { } e } => $"; decision {e.Index} looks edited: the run took {e.Recorded} there, and with {e.Instead} it reproduces",
                { Tries: var t } => $"; no single decision changed reproduces it ({t} alternatives tried): the scenario, the model or several decisions differ from the recording",
            };
            return run.Finding is null
                ? new ReplayReport(ReplayStatus.NoFinding, $"{context}replay followed all {(prefix is null ? string.Empty : $"{prefix.Count} regenerated and ")}{decisions.Count} decisions but found nothing; expected {expected.Signature}{where}", run, null, hashOk, modelOk) { EditedDecision = edit?.Found?.Index }
                : new ReplayReport(ReplayStatus.DifferentFinding, $"{context}replay found '{run.Finding.Signature}' on cpu {run.Finding.Cpu}; expected '{expected.Signature}' on cpu {expected.Cpu}{where}", run, null, hashOk, modelOk) { EditedDecision = edit?.Found?.Index };
        }

        if (!hashOk)
        {
            return new ReplayReport(ReplayStatus.TargetEdited, context + "the finding reproduced, but not from the recorded target", run, null, hashOk, modelOk);
        }

        return new ReplayReport(ReplayStatus.Reproduced, $"{context}reproduced: {run.Finding.Kind} on cpu {run.Finding.Cpu} at {run.Finding.TimeNs} ns: {run.Finding.ChainText}", run, null, hashOk, modelOk);
    }

    /// <summary>
    /// The target a reproducer's schedule ran: the embedded one, perturbed as its swarm perturbation says when it has one.
    /// </summary>
    /// <exception cref="FormatException">The text does not load, or the perturbation does not fit it.</exception>
    public static IExplorationTarget TargetOf(Reproducer reproducer, TargetLoader loader)
    {
        ArgumentNullException.ThrowIfNull(reproducer);
        ArgumentNullException.ThrowIfNull(loader);
        var target = loader(reproducer.Target.Kind, reproducer.Target.Text);
        if (reproducer.Swarm is not { } swarm)
        {
            return target;
        }

        return target is ISwarmTarget s
            ? s.Perturb(swarm.Changes)
            : throw new FormatException($"target kind '{reproducer.Target.Kind}' cannot be perturbed, but the reproducer has a swarm perturbation");
    }

    /// <summary>
    /// The first decision that, set to another of its options with every other decision as recorded, makes the replay
    /// reproduce the recorded finding: where a hand- or tool-edited decision list diverges from the recorded run. At
    /// most <see cref="EditSearchBudget"/> alternatives are replayed; null Found when none does.
    /// </summary>
    private static (EditedDecision? Found, int Tries) FindEditedDecision(ActorSystem system, Reproducer reproducer, IExplorationTarget target, IReadOnlyList<Decision> decisions)
    {
        var expected = reproducer.Finding;
        var tries = 0;
        for (var i = 0; i < decisions.Count; i++)
        {
            var d = decisions[i];
            for (var c = 0; c < d.Of; c++)
            {
                if (c == d.Chosen)
                {
                    continue;
                }

                if (++tries > EditSearchBudget)
                {
                    return (null, tries - 1);
                }

                var changed = decisions.ToArray();
                changed[i] = d with { Chosen = c };
                var strategy = new ReplayStrategy(changed);
                try
                {
                    var run = ScheduleRunner.Run(system, target, strategy, reproducer.Run.MaxSteps, reproducer.Run.FindingsBefore);
                    if (strategy.Used == changed.Length && run.Finding is { } f && f.Signature == expected.Signature && f.Cpu == expected.Cpu)
                    {
                        return (new EditedDecision(i, d, changed[i]), tries);
                    }
                }
                catch (ReplayDivergedException)
                {
                    // Not this one: the rest of the record no longer fits.
                }
            }
        }

        return (null, tries);
    }

    /// <summary>Most replays <see cref="Replay"/> spends looking for an edited decision.</summary>
    public const int EditSearchBudget = 100;

    private sealed record EditedDecision(int Index, Decision Recorded, Decision Instead);

    /// <summary>
    /// Replays twice and compares the traces byte for byte. Returns the first replay's report, or a failing one naming
    /// the first line where the traces differ.
    /// </summary>
    public static ReplayReport Check(ActorSystem system, Reproducer reproducer, TargetLoader loader)
    {
        var first = Replay(system, reproducer, loader);
        var second = Replay(system, reproducer, loader);
        if (first.Run is null || second.Run is null)
        {
            return first;
        }

        var a = first.Run.Machine.Recorder.Trace();
        var b = second.Run.Machine.Recorder.Trace();
        if (a == b)
        {
            return first with { Message = first.Message + $" (check: two replays gave byte-identical traces, {a.Length} bytes)" };
        }

        var la = a.Split('\n');
        var lb = b.Split('\n');
        var i = 0;
        while (i < la.Length && i < lb.Length && la[i] == lb[i])
        {
            i++;
        }

        return first with
        {
            Status = ReplayStatus.Diverged,
            Message = $"check failed: two replays differ at trace line {i + 1}: first '{(i < la.Length ? la[i] : "(end)")}', second '{(i < lb.Length ? lb[i] : "(end)")}'",
        };
    }
}
