using Akka.TestKit.Xunit2;
using TaskIsolation.Actors.Machine;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Programs;
using TaskIsolation.Simulation;
using static TaskIsolation.Actors.Tests.Machines;

namespace TaskIsolation.Actors.Tests;

/// <summary>The recorder's two retention modes: every event (tests, traces) and a bounded ring (soaks).</summary>
public sealed class EventRecorderTests : TestKit
{
    public EventRecorderTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Fact]
    public void A_ring_keeps_the_last_events_in_order_and_counts_them_all()
    {
        long ids = 0;
        var r = new EventRecorder([], null, () => ++ids, keepLast: 3);
        for (var i = 1; i <= 5; i++)
        {
            r.Publish(new KernelLogged(++ids, i, 0, 0, KernelLogLine.Warn($"line {i}")));
        }

        Assert.Equal(["line 3", "line 4", "line 5"], r.Events.Cast<KernelLogged>().Select(e => e.Text));
        Assert.Equal(5, r.TotalEvents);
        Assert.Equal(5, r.CountsByType["KernelLogged"]);
        Assert.NotNull(r.Find(1));
        Assert.NotNull(r.Find(5));
        Assert.Equal(3, r.Trace().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void A_chain_that_reaches_past_the_ring_says_where_it_was_cut()
    {
        // A cause window of 100 ns: the munmap at 0 is forgotten by 200 unless something names it again.
        long ids = 10;
        var r = new EventRecorder([], null, () => ++ids, keepLast: 2, causeWindowNs: 100);
        r.Publish(new OperationStarted(1, 0, 0, 0, new TaskRef(101, "hk"), TaskStep.Of(OperationKind.Munmap), "munmap"));
        r.Publish(new InterruptSent(2, 90, 0, 1, TlbShootdown.Instance, 3));
        r.Publish(new KernelLogged(3, 120, 0, 0, KernelLogLine.Warn("unrelated")));
        r.Publish(new KernelLogged(5, 300, 0, 0, KernelLogLine.Warn("unrelated")));
        var taken = new InterruptTaken(4, 301, 3, 2, TlbShootdown.Instance, CpuState.UserIsolated, new TaskRef(102, "iso"), false);
        r.Publish(taken);

        var chain = r.ChainOf(taken);

        Assert.Equal(["#2 (no longer kept: older than 0 s and not named since)", taken.What], chain.Select(l => l.What));
    }

    [Fact]
    public void A_cause_named_again_stays_findable_past_the_window()
    {
        long ids = 10;
        var r = new EventRecorder([], null, () => ++ids, keepLast: 2, causeWindowNs: 100);
        r.Publish(new TickRestarted(1, 0, 1, 0, TaskIsolation.Machine.Abi.Tick.TickDep.None));
        for (var t = 1; t <= 10; t++)
        {
            // A periodic tick: every expiry names the event that started the tick.
            r.Publish(new KernelLogged(100 + t, t * 60, 1, 1, KernelLogLine.Warn("tick")));
        }

        Assert.NotNull(r.Find(1));
        Assert.Equal("tick restarted: idle exit", r.ChainOf(r.Find(110)!)[0].What);
        Assert.InRange(r.IndexedEvents, 2, 5);
    }

    [Fact]
    public void The_cause_index_moves_past_old_ids_and_keeps_what_is_still_named_or_comes_late()
    {
        // A window of 100 ns swept every 12 ns; ids recorded nearly in order, as the simulation hands them out.
        long ids = 1_000;
        var r = new EventRecorder([], null, () => ++ids, keepLast: 2, causeWindowNs: 100);
        r.Publish(new TickRestarted(1, 0, 1, 0, TaskIsolation.Machine.Abi.Tick.TickDep.None));
        for (var i = 2; i <= 400; i++)
        {
            // Every tenth event names event 1 (a periodic tick naming what started it); the rest name nothing.
            r.Publish(new KernelLogged(i, i * 10, 1, i % 10 == 0 ? 1 : 0, KernelLogLine.Warn($"e{i}")));
        }

        // Event 1 was named within the window, so it is still findable; an unnamed event of long ago is not.
        Assert.NotNull(r.Find(1));
        Assert.Null(r.Find(100));
        Assert.NotNull(r.Find(400));
        Assert.Equal("tick restarted: idle exit", r.ChainOf(r.Find(390)!)[0].What);

        // An id handed out before the window moved but recorded after it (out of order) is still indexed and found.
        r.Publish(new KernelLogged(150, 4_005, 1, 0, KernelLogLine.Warn("late")));
        Assert.Equal("late", ((KernelLogged)r.Find(150)!).Text);

        // Only the window's events plus the named one are held, not the 400 recorded.
        Assert.InRange(r.IndexedEvents, 10, 20);
    }

    [Fact]
    public void The_cause_index_over_many_chunks_finds_exactly_what_the_sweep_rule_keeps()
    {
        // Tens of thousands of ids over many windows (the index holds its window in chunks of about a thousand slots,
        // reused as the window moves): every 3,200 ids, every id so far is findable exactly when the rule keeps it, checked
        // against a plain model of the rule (an entry leaves at a sweep, every sixteenth of a window, when it was last named
        // before the horizon; the window's start moves past ids older than the horizon, which stay findable while
        // named).
        const long window = 1_000;
        long ids = 1_000_000;
        var r = new EventRecorder([], null, () => ++ids, keepLast: 4, causeWindowNs: window);
        var touched = new Dictionary<long, long>();
        var nextSweep = window;
        var random = new Random(5);
        var order = new long[8];
        for (long block = 0; block < 5_000; block++)
        {
            // Ids are handed out in order but published nearly in order: shuffled within blocks of eight.
            for (var i = 0; i < order.Length; i++)
            {
                order[i] = (block * order.Length) + i + 1;
            }

            random.Shuffle(order);
            foreach (var id in order)
            {
                Record(id, block * 2);
            }

            if (block % 400 == 399)
            {
                var last = (block + 1) * order.Length;
                for (long probe = 1; probe <= last; probe++)
                {
                    Assert.True(touched.ContainsKey(probe) == (r.Find(probe) is not null), $"id {probe} after {last}: model {touched.ContainsKey(probe)}");
                }

                Assert.Equal(touched.Count, r.IndexedEvents);
            }
        }

        Assert.NotNull(r.Find(1));
        Assert.InRange(r.IndexedEvents, 4_000, 4_600);

        void Record(long id, long time)
        {
            // Most events name nothing; some name a recent one, a few name event 1 (a periodic tick naming what
            // started it).
            var cause = id % 97 == 0 ? 1 : id > 20 && random.Next(3) == 0 ? id - random.Next(9, 20) : 0;
            r.Publish(new KernelLogged(id, time, 0, cause, KernelLogLine.Warn($"e{id}")));
            touched[id] = time;
            if (cause != 0 && touched.ContainsKey(cause))
            {
                touched[cause] = time;
            }

            if (time >= nextSweep)
            {
                foreach (var (k, _) in touched.Where(kv => kv.Value < time - window).ToList())
                {
                    touched.Remove(k);
                }

                nextSweep = time + (window / EventRecorder.SweepsPerWindow);
            }
        }
    }

    [Fact]
    public void Unbounded_is_the_default_and_keeps_every_event()
    {
        long ids = 0;
        var r = new EventRecorder([], null, () => ++ids);
        for (var i = 0; i < 100; i++)
        {
            r.Publish(new KernelLogged(++ids, i, 0, 0, KernelLogLine.Warn("x")));
        }

        Assert.Equal(0, r.KeepLast);
        Assert.Equal(100, r.Events.Count);
        Assert.NotNull(r.Find(1));
    }

    [Fact]
    public void A_ring_finds_the_same_violations_with_the_same_chains_and_stays_bounded()
    {
        static SimulatedMachine Run(Akka.Actor.ActorSystem sys, int keep)
        {
            var m = Boot(sys, Controlled(3) with { KeepEvents = keep });
            m.Start(new TaskSpec("hk", OnCpu(0), Program(new Loop(-1, [new Compute(9_000_000), new Syscall("write"), new Mmap(4096)]))));
            m.Start(new TaskSpec("dpdk", OnCpu(3), Program(new Prctl(PrctlOptions.SetTaskIsolation, NoSig), new Loop(-1, [new Compute(1_000_000_000)]))));
            m.RunFor(5_000_000_000);
            return m;
        }

        var all = Run(Sys, 0);
        var ring = Run(Sys, 500);

        Assert.Equal(4, all.Violations.Count);
        Assert.Equal(all.Violations.Select(v => v.ChainText), ring.Violations.Select(v => v.ChainText));
        Assert.Equal(all.Recorder.TotalEvents, ring.Recorder.TotalEvents);
        Assert.Equal(500, ring.Recorder.Events.Count);
        Assert.Equal(all.Recorder.Events.TakeLast(500).Select(e => e.ToTraceLine()), ring.Recorder.Events.Select(e => e.ToTraceLine()));
        Assert.Equal(all.Recorder.CountsByType, ring.Recorder.CountsByType);
    }
}
