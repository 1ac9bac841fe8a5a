namespace TaskIsolation.Simulation;

/// <summary>
/// Marker of every message exchanged between the simulated machine's actors. Each carries the id of the event that
/// caused it, so a violation's causal chain can be walked back to its root. Such messages are only ever sent through
/// <see cref="Simulation"/>, never with a bare <c>Tell</c>: that is what lets the simulation own time and ordering.
/// </summary>
public interface IMachineMessage
{
    /// <summary>Id of the machine event that caused this message; 0 for none (a root).</summary>
    long Cause { get; }
}
