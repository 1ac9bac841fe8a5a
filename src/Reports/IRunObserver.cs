using TaskIsolation.Machine.Events;

namespace TaskIsolation.Reports;

/// <summary>
/// A consumer of a run's event stream that sees each <see cref="MachineEvent"/> once, in publication order, and keeps
/// what it needs (counters, open intervals), never the stream itself. The same observer serves a finished run (feed
/// it <c>EventRecorder.Events</c> with <see cref="RunObservers.Replay"/>) and a live one (the soak feeds it as events
/// arrive), so hours of simulated time cost bounded memory.
/// </summary>
public interface IRunObserver
{
    /// <summary>One event; events of one CPU arrive in time order.</summary>
    void Observe(MachineEvent e);

    /// <summary>The run stopped at virtual time <paramref name="nowNs"/>: close whatever is still open.</summary>
    void Finish(long nowNs);
}

/// <summary>Helpers to drive <see cref="IRunObserver"/>s.</summary>
public static class RunObservers
{
    /// <summary>Feeds recorded <paramref name="events"/> to every observer in order, then finishes them at <paramref name="nowNs"/>.</summary>
    public static void Replay(IEnumerable<MachineEvent> events, long nowNs, params IRunObserver[] observers)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(observers);
        foreach (var e in events)
        {
            foreach (var o in observers)
            {
                o.Observe(e);
            }
        }

        foreach (var o in observers)
        {
            o.Finish(nowNs);
        }
    }
}
