namespace TaskIsolation.Simulation;

/// <summary>
/// A strategy that also watches every delivery of a controlled run (the exhaustive search's sleep sets need each
/// delivery's footprint, including the deliveries no decision chose). <see cref="ControlledSimulation"/> calls it on its
/// one thread: <see cref="Delivering"/> before a delivery, <see cref="Sent"/> for each message the handler sends at the
/// current instant, <see cref="Delivered"/> when the handler has returned. Receivers are named by an id: the order in
/// which the run first sent to them (1, 2, …). Actor names are not unique (every CPU's tick source is <c>tick</c>); the
/// ids are, and a given decision prefix gives every receiver it reaches the same id.
/// </summary>
public interface IDeliveryObserver
{
    /// <summary>
    /// The next delivery goes to <paramref name="receiver"/>; return false to end the run here instead (it returns
    /// <see cref="RunOutcome.Stopped"/> and nothing is delivered).
    /// </summary>
    bool Delivering(int receiver);

    /// <summary>Called before the strategy picks among two or more runnable receivers: their ids, in the order offered.</summary>
    void Offered(IReadOnlyList<int> runnable);

    /// <summary>The delivery in progress sent a message to <paramref name="receiver"/> at the current instant.</summary>
    void Sent(int receiver);

    /// <summary>
    /// The delivery's handler returned. <paramref name="sharedAccesses"/> is how many times it read or wrote state
    /// outside its receiver (<see cref="Simulation.SharedAccesses"/> after minus before: kernel memory, event ids).
    /// </summary>
    void Delivered(long sharedAccesses);
}
