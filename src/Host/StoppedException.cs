namespace TaskIsolation.Host;

/// <summary>
/// A command stopped by a signal before it had an answer: <see cref="Program.Run"/> prints the message on stderr and
/// returns <see cref="ExitCode"/> (<see cref="ExitCodes.StoppedBy"/>), neither bad input nor a failure.
/// </summary>
public sealed class StoppedException : Exception
{
    /// <summary>A stop with its message and exit code.</summary>
    public StoppedException(string message, int exitCode)
        : base(message)
    {
        ExitCode = exitCode;
    }

    /// <summary>A stop by Ctrl-C; prefer a constructor with a message.</summary>
    public StoppedException()
        : this("stopped", ExitCodes.Interrupted)
    {
    }

    /// <summary>A stop by Ctrl-C with a message.</summary>
    public StoppedException(string message)
        : this(message, ExitCodes.Interrupted)
    {
    }

    /// <summary>A stop by Ctrl-C with a message and cause.</summary>
    public StoppedException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.Interrupted;
    }

    /// <summary>What the process exits with.</summary>
    public int ExitCode { get; }
}
