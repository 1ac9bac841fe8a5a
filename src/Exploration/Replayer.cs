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
        var target = loader(reproducer.Target.Kind, reproducer.Target.Text);
        var hashOk = TargetHash.Of(reproducer.Target.Text) == reproducer.Target.Hash;
        var modelOk = reproducer.ModelVersion == ModelVersion.Current;
        var context = (hashOk ? string.Empty : $"the target text was edited (its hash is {TargetHash.Of(reproducer.Target.Text)}, recorded {reproducer.Target.Hash}); ")
            + (modelOk ? string.Empty : $"recorded by model '{reproducer.ModelVersion}', this is '{ModelVersion.Current}'; ");
        var decisions = reproducer.DecisionList;
        var strategy = new ReplayStrategy(decisions);
        ScheduleRun run;
        try
        {
            run = ScheduleRunner.Run(system, target, strategy, reproducer.Run.MaxSteps, reproducer.Run.FindingsBefore);
        }
        catch (ReplayDivergedException ex)
        {
            return new ReplayReport(ReplayStatus.Diverged, context + ex.Message, null, ex, hashOk, modelOk);
        }

        if (strategy.Used < decisions.Count)
        {
            var ex = new ReplayDivergedException(strategy.Used, $"decision {decisions[strategy.Used]}", "no more decisions (the run ended first)");
            return new ReplayReport(ReplayStatus.Diverged, context + ex.Message, run, ex, hashOk, modelOk);
        }

        var expected = reproducer.Finding;
        if (run.Finding is null)
        {
            return new ReplayReport(ReplayStatus.NoFinding, $"{context}replay followed all {decisions.Count} decisions but found nothing; expected {expected.Signature}", run, null, hashOk, modelOk);
        }

        if (run.Finding.Signature != expected.Signature || run.Finding.Cpu != expected.Cpu)
        {
            return new ReplayReport(ReplayStatus.DifferentFinding, $"{context}replay found '{run.Finding.Signature}' on cpu {run.Finding.Cpu}; expected '{expected.Signature}' on cpu {expected.Cpu}", run, null, hashOk, modelOk);
        }

        if (!hashOk)
        {
            return new ReplayReport(ReplayStatus.TargetEdited, context + "the finding reproduced, but not from the recorded target", run, null, hashOk, modelOk);
        }

        return new ReplayReport(ReplayStatus.Reproduced, $"reproduced: {run.Finding.Kind} on cpu {run.Finding.Cpu} at {run.Finding.TimeNs} ns: {run.Finding.ChainText}", run, null, hashOk, modelOk);
    }

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
            Message = $"check failed: two replays differ at trace line {i + 1}:\n  first:  {(i < la.Length ? la[i] : "(end)")}\n  second: {(i < lb.Length ? lb[i] : "(end)")}",
        };
    }
}
