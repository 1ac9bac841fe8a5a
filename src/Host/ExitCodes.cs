namespace TaskIsolation.Host;

/// <summary>What <c>taskisol</c> returns to the shell.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary><c>taskisol run</c>: the run finished and at least one expectation of the scenario failed.</summary>
    public const int ExpectationFailed = 1;

    /// <summary><c>taskisol explore</c> and <c>taskisol soak</c>: the run found a violation or a liveness failure.</summary>
    public const int Found = 1;

    /// <summary>A bug in taskisol: an exception no command expected. Reported on stderr with its stack trace.</summary>
    public const int InternalError = 1;

    /// <summary>Bad input: an unknown command or option, or a value the model refuses. Reported on stderr, naming
    /// what was wrong and where, without a stack trace.</summary>
    public const int BadInput = 2;
}
