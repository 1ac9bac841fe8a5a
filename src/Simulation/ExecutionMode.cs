namespace TaskIsolation.Simulation;

/// <summary>How the actors of a simulated machine are executed. The model's code is the same in both.</summary>
public enum ExecutionMode
{
    /// <summary>
    /// Akka's ordinary multi-threaded dispatcher: messages of one simulated instant are processed by whatever
    /// threads pick them up, so interleavings are whatever the machine's threads produce.
    /// </summary>
    Concurrent,

    /// <summary>
    /// One thread; every delivery is chosen by a seeded <see cref="ISchedulingStrategy"/>, so the same seed gives the
    /// same run and the recorded decisions replay it exactly.
    /// </summary>
    Controlled,
}
