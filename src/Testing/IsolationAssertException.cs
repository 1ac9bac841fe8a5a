namespace TaskIsolation.Testing;

/// <summary>
/// A property of a run or an exploration did not hold. The message says what was expected and lists what was found,
/// so a test runner (xunit, NUnit, MSTest) that shows it needs nothing else.
/// </summary>
public sealed class IsolationAssertException : Exception
{
    /// <summary>An assertion failure with its full message.</summary>
    public IsolationAssertException(string message)
        : base(message)
    {
    }

    /// <summary>An assertion failure with its full message and the exception that caused it.</summary>
    public IsolationAssertException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>An assertion failure with no message of its own (the base exception's).</summary>
    public IsolationAssertException()
    {
    }
}
