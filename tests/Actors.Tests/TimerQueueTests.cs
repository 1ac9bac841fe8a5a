using Akka.Actor;
using Akka.TestKit.Xunit2;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.StepBoundaryTests;

namespace TaskIsolation.Actors.Tests;

/// <summary>
/// The simulation's timer queue and the way it drops cancelled deliveries: the order deliveries come out in must be
/// exactly (time, as-of time, sequence number), whatever was queued, cancelled and taken out before.
/// </summary>
public sealed class TimerQueueTests : TestKit
{
    public TimerQueueTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Deliveries_come_out_in_time_as_of_and_sequence_order_whatever_was_removed(int seed)
    {
        // Few distinct times and as-of times, so ties are common and the sequence number decides; removals at random.
        var random = new Random(seed);
        var queue = new TimerQueue<long>();
        var reference = new SortedSet<(long Time, long AsOf, long Seq)>();
        var seq = 0L;
        var floor = 0L;
        for (var round = 0; round < 5_000; round++)
        {
            var op = random.Next(10);
            if (op < 5)
            {
                var time = floor + random.Next(20);
                var asOf = Math.Min(time, floor + random.Next(3));
                queue.Enqueue(++seq, time, asOf, seq);
                reference.Add((time, asOf, seq));
            }
            else if (op < 9 && reference.Count > 0)
            {
                var expected = reference.Min;
                Assert.True(queue.TryPeek(out var time, out var peeked));
                Assert.Equal((expected.Time, expected.Seq), (time, peeked));
                Assert.Equal(expected.Seq, queue.Dequeue());
                reference.Remove(expected);
                floor = expected.Time;
            }
            else
            {
                // Take out a random third, as Simulation.Compact takes out the cancelled deliveries.
                var gone = reference.Where(_ => random.Next(3) == 0).Select(e => e.Seq).ToHashSet();
                var also = new HashSet<long>(gone.Where(s => s % 2 == 0)) { -1 };
                Assert.Equal(gone.Count, queue.RemoveAll(gone, also));
                Assert.Equal([-1], also);
                reference.RemoveWhere(e => gone.Contains(e.Seq));
            }

            Assert.Equal(reference.Count, queue.Count);
        }

        while (reference.Count > 0)
        {
            Assert.Equal(reference.Min.Seq, queue.Dequeue());
            reference.Remove(reference.Min);
        }

        Assert.False(queue.TryPeek(out _, out _));
    }

    [Fact]
    public void Cancelled_deliveries_taken_out_early_are_never_delivered_and_the_rest_keep_their_order()
    {
        // Enough cancellations that the queue drops them several times over (Simulation.Compact), interleaved with
        // deliveries at shared instants, where the order among the instant's deliveries is the sequence's.
        var sim = TaskIsolation.Simulation.Simulation.Create(ExecutionMode.Controlled, new RandomStrategy(1));
        var log = new DeliveryLog();
        var a = Sys.ActorOf(Props.Create(() => new Receiver(sim, log)).WithDispatcher(sim.Dispatcher), "a");
        var handles = new List<(int N, TimerHandle Handle)>();
        for (var n = 0; n < 600; n++)
        {
            handles.Add((n, sim.SendAfter(1_000 + (n % 50 * 1_000), a, new Mark(n), ActorRefs.Nobody)));
        }

        var cancelled = handles.Where(h => h.N % 5 != 0).ToList();
        foreach (var (_, handle) in cancelled)
        {
            sim.Cancel(handle);
        }

        sim.RunUntil(100_000);
        var expected = handles.Where(h => h.N % 5 == 0).OrderBy(h => h.Handle.DueNs).ThenBy(h => h.N).Select(h => $"a {h.N}").ToList();
        Assert.Equal((cancelled.Count, expected.Count), (sim.Cancelled, sim.Deliveries));

        // The receiver is a top-level actor, which Akka initialises on the thread pool: what it got arrives there.
        AwaitAssert(() => Assert.Equal(expected, log.Order()));
    }
}
