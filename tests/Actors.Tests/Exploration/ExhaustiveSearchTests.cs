using TaskIsolation.Exploration;

namespace TaskIsolation.Actors.Tests.Exploration;

/// <summary>
/// The exhaustive search's counts on trees small enough to count by hand: a toy driver calls the strategy as the
/// controlled simulation does (offer, choose, deliver, data choice, delivered).
/// </summary>
public sealed class ExhaustiveSearchTests
{
    /// <summary>One step of a toy process: whether it touches shared state and how many data options it takes.</summary>
    private sealed record Step(bool Shared, int Options = 1);

    private static (long Schedules, long Pruned, double Fraction) Search(bool reduction, params Step[][] processes)
    {
        var search = new ExhaustiveSearch(reduction);
        while (search.Next() is { } strategy)
        {
            var next = new int[processes.Length];
            while (true)
            {
                var runnable = Enumerable.Range(0, processes.Length).Where(p => next[p] < processes[p].Length).ToList();
                if (runnable.Count == 0)
                {
                    break;
                }

                var pick = 0;
                if (runnable.Count > 1)
                {
                    strategy.Offered([.. runnable.Select(p => p + 1)]);
                    pick = strategy.NextReceiver([.. runnable.Select(p => $"p{p}")]);
                }

                var process = runnable[pick];
                if (!strategy.Delivering(process + 1))
                {
                    break;
                }

                var step = processes[process][next[process]++];
                if (step.Options > 1)
                {
                    strategy.NextChoice(step.Options);
                }

                strategy.Delivered(step.Shared ? 1 : 0);
            }

            search.Finished(strategy);
        }

        Assert.True(search.Complete);
        return (search.Schedules, search.Pruned, search.Fraction);
    }

    [Fact]
    public void Two_independent_processes_of_two_steps_are_six_interleavings_and_one_with_sleep_sets()
    {
        Step[] a = [new(false), new(false)], b = [new(false), new(false)];

        // C(4, 2) = 6 interleavings; all of them commute into one.
        Assert.Equal(6, Search(false, a, b).Schedules);
        Assert.Equal(1, Search(true, a, b).Schedules);
        Assert.Equal(1.0, Search(true, a, b).Fraction);
    }

    [Fact]
    public void Two_processes_that_both_touch_shared_state_keep_every_interleaving()
    {
        Step[] a = [new(true), new(true)], b = [new(true), new(true)];

        Assert.Equal(6, Search(false, a, b).Schedules);
        var reduced = Search(true, a, b);
        Assert.Equal(6, reduced.Schedules);
        Assert.Equal(0, reduced.Pruned);
    }

    [Fact]
    public void A_data_choice_multiplies_the_schedules_and_is_never_pruned()
    {
        // a's first step picks among 3 values (an IPI's jitter): 6 interleavings × 3 values; reduced, 1 × 3.
        Step[] a = [new(false, 3), new(false)], b = [new(false), new(false)];

        Assert.Equal(18, Search(false, a, b).Schedules);
        Assert.Equal(3, Search(true, a, b).Schedules);
    }

    [Fact]
    public void Only_the_order_of_the_dependent_steps_matters()
    {
        // a: local, shared; b: shared. The Mazurkiewicz classes are the two orders of the shared steps: 2 schedules of
        // the 3 interleavings.
        Step[] a = [new(false), new(true)], b = [new(true)];

        Assert.Equal(3, Search(false, a, b).Schedules);
        Assert.Equal(2, Search(true, a, b).Schedules);
    }
}
