using Akka.Actor;
using TaskIsolation.Simulation;

namespace TaskIsolation.Exploration;

/// <summary>A minimized reproducer and how much it shrank.</summary>
/// <param name="Target">The smallest target that still fails the same way.</param>
/// <param name="Reproducer">Its reproducer (strategy <c>guided</c>; the decisions replay it exactly).</param>
/// <param name="OriginalDeviations">Non-default decisions of the original.</param>
/// <param name="Deviations">Non-default decisions of the minimized one.</param>
/// <param name="OriginalDecisions">Decisions of the original.</param>
/// <param name="TargetShrinks">Shrinks of the target accepted.</param>
/// <param name="Runs">Schedules run to minimize.</param>
public sealed record MinimizeResult(IExplorationTarget Target, Reproducer Reproducer, int OriginalDeviations, int Deviations, int OriginalDecisions, int TargetShrinks, int Runs)
{
    /// <summary>Changes of the original's swarm perturbation (0 when it had none).</summary>
    public int OriginalPerturbations { get; init; }

    /// <summary>
    /// Of those, the changes the finding still needs: they are applied in the minimized target's text (whose reproducer
    /// then has no perturbation of its own).
    /// </summary>
    public int Perturbations { get; init; }
}

/// <summary>
/// Shrinks a reproducer while its finding (same signature and CPU) persists. First delta debugging (Zeller and
/// Hildebrandt's ddmin) over the schedule's deviations from the default choice — every decision not taken as option 0
/// is a preemption, a jitter or a timer order the bug may or may not need — then over the target's own shrinks
/// (fewer noise sources, tasks, steps; shorter runs), each tried with the surviving deviations, with none, and with a
/// few seeded schedules before giving up on it.
/// </summary>
public static class Minimizer
{
    /// <summary>Minimizes <paramref name="original"/>.</summary>
    /// <param name="system">Actor system to run in.</param>
    /// <param name="original">A reproducer that replays.</param>
    /// <param name="loader">Rebuilds its target.</param>
    /// <param name="maxRuns">Budget of schedules.</param>
    /// <param name="searchPerShrink">Seeded schedules tried on a shrunk target when the deviations no longer apply.</param>
    /// <exception cref="InvalidOperationException">The original does not reproduce.</exception>
    public static MinimizeResult Minimize(ActorSystem system, Reproducer original, TargetLoader loader, int maxRuns = 3_000, int searchPerShrink = 48)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(loader);
        var replay = Replayer.Replay(system, original, loader);
        if (!replay.Ok)
        {
            throw new InvalidOperationException($"cannot minimize: the reproducer does not replay: {replay.Message}");
        }

        var expected = original.Finding;
        var runs = 1;
        var target = loader(original.Target.Kind, original.Target.Text);
        var recorded = original.DecisionList;
        var deviations = DeviationsOf(recorded);
        var originalDeviations = deviations.Count;

        ScheduleRun? Try(IExplorationTarget t, ISchedulingStrategy s)
        {
            if (runs >= maxRuns)
            {
                return null;
            }

            runs++;
            var run = ScheduleRunner.Run(system, t, s, original.Run.MaxSteps, original.Run.FindingsBefore);
            return run.Finding is { } f && f.Signature == expected.Signature && f.Cpu == expected.Cpu ? run : null;
        }

        ScheduleRun? Guided(IExplorationTarget t, IEnumerable<KeyValuePair<int, Decision>> subset) =>
            Try(t, new GuidedStrategy(subset.ToDictionary(kv => kv.Key, kv => kv.Value)));

        // The deviations of the run that a subset actually produced: positions move when earlier choices change.
        (ScheduleRun Run, List<KeyValuePair<int, Decision>> Deviations)? Reduce(IExplorationTarget t, List<KeyValuePair<int, Decision>> start)
        {
            var best = Guided(t, start);
            if (best is null)
            {
                return null;
            }

            var current = DeviationsOf(best.Decisions);
            while (true)
            {
                var smaller = DdMin(current, subset => Guided(t, subset) is not null);
                var run = Guided(t, smaller);
                if (run is null)
                {
                    return (best, current);
                }

                var next = DeviationsOf(run.Decisions);
                if (next.Count >= current.Count)
                {
                    return (run, next);
                }

                (best, current) = (run, next);
            }
        }

        // A swarm perturbation shrinks first, towards the unperturbed target: ddmin over its changes, each subset run with
        // the recorded deviations. The changes kept are applied, so the target shrinks below are of the perturbed text.
        var originalPerturbations = 0;
        var perturbations = 0;
        if (original.Swarm is { } swarm && target is ISwarmTarget unperturbed)
        {
            originalPerturbations = swarm.Changes.Length;
            var kept = DdMin([.. swarm.Changes], subset => Guided(unperturbed.Perturb(subset), deviations) is not null);
            perturbations = kept.Count;
            target = unperturbed.Perturb(kept);
        }

        var reduced = Reduce(target, deviations) ?? throw new InvalidOperationException("cannot minimize: the guided re-run of the recorded decisions does not reproduce");
        var (lastRun, devs) = reduced;
        var shrinks = 0;
        var changed = true;
        while (changed && runs < maxRuns)
        {
            changed = false;
            foreach (var candidate in target.Shrinks())
            {
                var found = Reduce(candidate, devs) ?? Reduce(candidate, []);
                for (var j = 0; found is null && j < searchPerShrink && runs < maxRuns; j++)
                {
                    var kind = ScheduleSeeds.StrategyOf(StrategyKind.Portfolio, j);
                    var seed = ScheduleSeeds.For(original.Run.CampaignSeed ^ 0x5EED, j);
                    if (Try(candidate, StrategyFactory.Create(kind, seed, Math.Max(1, original.Run.Depth), Math.Max(1, original.Run.PctSteps))) is { } hit)
                    {
                        found = Reduce(candidate, DeviationsOf(hit.Decisions));
                    }
                }

                // Never trade a smaller target for more preemptions: the result must be no larger on either count.
                if (found is { } ok && ok.Deviations.Count <= devs.Count)
                {
                    (target, lastRun, devs) = (candidate, ok.Run, ok.Deviations);
                    shrinks++;
                    changed = true;
                    break;
                }
            }
        }

        var reproducer = Reproducer.Of(
            target,
            new ReproducerRun("guided", 0, original.Run.CampaignSeed, -1, original.Run.Depth, original.Run.PctSteps, original.Run.MaxSteps, original.Run.FindingsBefore),
            lastRun.Decisions,
            lastRun.Finding!);
        return new MinimizeResult(target, reproducer, originalDeviations, DeviationsOf(lastRun.Decisions).Count, recorded.Count, shrinks, runs) { OriginalPerturbations = originalPerturbations, Perturbations = perturbations };
    }

    /// <summary>The decisions that did not take the default option, by position.</summary>
    public static List<KeyValuePair<int, Decision>> DeviationsOf(IReadOnlyList<Decision> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        var list = new List<KeyValuePair<int, Decision>>();
        for (var i = 0; i < decisions.Count; i++)
        {
            if (decisions[i].Chosen != 0)
            {
                list.Add(new(i, decisions[i]));
            }
        }

        return list;
    }

    /// <summary>
    /// ddmin: a 1-minimal subset of <paramref name="items"/> for which <paramref name="fails"/> holds (given that it
    /// holds for all of them): removing any single remaining item makes it pass.
    /// </summary>
    public static List<T> DdMin<T>(List<T> items, Func<List<T>, bool> fails)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(fails);
        if (items.Count == 0 || fails([]))
        {
            return [];
        }

        var n = 2;
        while (items.Count >= 2)
        {
            var chunks = Split(items, n);
            var reduced = false;
            foreach (var chunk in chunks)
            {
                if (fails(chunk))
                {
                    (items, n, reduced) = (chunk, 2, true);
                    break;
                }
            }

            if (!reduced && n > 2)
            {
                foreach (var chunk in chunks)
                {
                    var complement = items.Except(chunk).ToList();
                    if (fails(complement))
                    {
                        (items, n, reduced) = (complement, Math.Max(n - 1, 2), true);
                        break;
                    }
                }
            }

            if (!reduced)
            {
                if (n >= items.Count)
                {
                    break;
                }

                n = Math.Min(items.Count, 2 * n);
            }
        }

        return items;
    }

    private static List<List<T>> Split<T>(List<T> items, int n)
    {
        var chunks = new List<List<T>>();
        var start = 0;
        for (var i = 0; i < n; i++)
        {
            var size = (items.Count - start) / (n - i);
            chunks.Add(items.GetRange(start, size));
            start += size;
        }

        return chunks;
    }
}
