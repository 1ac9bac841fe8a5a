namespace TaskIsolation.Host;

/// <summary>
/// Input the user can fix: a command throws it with a message naming what was wrong and where, and
/// <see cref="Program.Run"/> prints it on stderr and exits with <see cref="ExitCodes.BadInput"/>.
/// </summary>
public sealed class UsageException : Exception
{
    /// <summary>An input error with its message.</summary>
    public UsageException(string message)
        : base(message)
    {
    }

    /// <summary>An input error found by a lower layer (a CPU list or configuration error).</summary>
    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>An unexplained input error; prefer a constructor with a message.</summary>
    public UsageException()
        : base("bad input")
    {
    }
}
