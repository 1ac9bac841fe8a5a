using System.Diagnostics;
using Akka.Actor;
using TaskIsolation.Simulation;

namespace TaskIsolation.Host.Bench;

/// <summary>
/// The ceiling: plain Akka actors playing ping-pong with the model's dispatcher settings and nothing else. Concurrent:
/// pairs on the fork-join dispatcher of <see cref="SimulationConfig"/>. Single-threaded: the controlled setup — the
/// inline executor, and a driver loop that tells the next queued message, as <see cref="Simulation"/> does (an actor
/// never tells another directly, it hands its message to the driver).
/// </summary>
internal static class RawAkka
{
    /// <summary>Deliveries per wall second of <paramref name="pairs"/> ping-pong pairs on the concurrent dispatcher.</summary>
    public static double Concurrent(ActorSystem system, int pairs, long deliveriesPerPair)
    {
        using var done = new CountdownEvent(pairs);
        var pingers = new List<IActorRef>();
        for (var i = 0; i < pairs; i++)
        {
            var ponger = system.ActorOf(Props.Create(() => new Ponger(null)).WithDispatcher(SimulationConfig.ConcurrentDispatcher));
            pingers.Add(system.ActorOf(Props.Create(() => new Pinger(ponger, deliveriesPerPair, done, null)).WithDispatcher(SimulationConfig.ConcurrentDispatcher)));
        }

        foreach (var p in pingers)
        {
            Started(p);
        }

        var clock = Stopwatch.StartNew();
        foreach (var p in pingers)
        {
            p.Tell(new Ball(0));
        }

        done.Wait();
        clock.Stop();
        foreach (var p in pingers)
        {
            system.Stop(p);
        }

        return pairs * deliveriesPerPair / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Deliveries per wall second of one ping-pong pair driven one delivery at a time on the calling thread.</summary>
    public static double Controlled(ActorSystem system, long deliveries)
    {
        var driver = new Driver();
        using var done = new CountdownEvent(1);
        var ponger = system.ActorOf(Props.Create(() => new Ponger(driver)).WithDispatcher(SimulationConfig.ControlledDispatcher));
        var pinger = system.ActorOf(Props.Create(() => new Pinger(ponger, deliveries, done, driver)).WithDispatcher(SimulationConfig.ControlledDispatcher));
        Started(ponger);
        Started(pinger);

        var clock = Stopwatch.StartNew();
        driver.Post(pinger, new Ball(0), ActorRefs.Nobody);
        driver.Run();
        clock.Stop();
        system.Stop(pinger);
        system.Stop(ponger);
        return deliveries / clock.Elapsed.TotalSeconds;
    }

    /// <summary>A top-level actor starts asynchronously: wait until it answers, so the timed part is deliveries only.</summary>
    private static void Started(IActorRef actor) =>
        actor.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();

    private sealed record Ball(long N);

    /// <summary>The single-threaded driver: a FIFO of pending deliveries, told one at a time.</summary>
    private sealed class Driver
    {
        private readonly Queue<(IActorRef To, object Message, IActorRef From)> _pending = new();

        public void Post(IActorRef to, object message, IActorRef from) => _pending.Enqueue((to, message, from));

        public void Run()
        {
            while (_pending.TryDequeue(out var d))
            {
                d.To.Tell(d.Message, d.From);
            }
        }
    }

    private sealed class Ponger(Driver? driver) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (driver is null)
            {
                Sender.Tell(message);
            }
            else
            {
                driver.Post(Sender, message, Self);
            }
        }
    }

    private sealed class Pinger(IActorRef ponger, long deliveries, CountdownEvent done, Driver? driver) : UntypedActor
    {
        private long _count;

        protected override void OnReceive(object message)
        {
            // Each round trip is two deliveries: this one and the ponger's.
            _count += 2;
            if (_count >= deliveries)
            {
                done.Signal();
                return;
            }

            var ball = new Ball(_count);
            if (driver is null)
            {
                ponger.Tell(ball);
            }
            else
            {
                driver.Post(ponger, ball, Self);
            }
        }
    }
}
