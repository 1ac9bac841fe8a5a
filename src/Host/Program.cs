namespace TaskIsolation.Host;

/// <summary>Entry point of <c>taskisol</c>.</summary>
public static class Program
{
    /// <summary>Runs the command line and returns the exit code.</summary>
    public static int Main(string[] args) => args.Length == 0 ? 0 : 2;
}
