using System.Diagnostics;

namespace TaskIsolation.Host.Tests;

/// <summary>What one run of <c>taskisol</c> returned and printed.</summary>
public sealed record Outcome(int Exit, string Out, string Err);

/// <summary>Runs <c>taskisol</c> through its real entry point, in-process or as a separate process.</summary>
public static class Taskisol
{
    /// <summary>Runs <see cref="Program.Run"/> with string writers ("\n" line ends, as on Linux).</summary>
    public static Outcome Run(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var exit = Program.Run(args, stdout, stderr);
        return new Outcome(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the built <c>taskisol.dll</c> (copied next to the tests) with <c>dotnet</c>.</summary>
    public static Outcome RunProcess(params string[] args)
    {
        // The dotnet CLI tells the processes it starts where it lives; outside it, take dotnet from PATH.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "taskisol.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {dotnet}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        // A guard against a hung child, not a wait for something to happen: a run takes well under a second.
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"taskisol {string.Join(' ', args)} did not exit");
        }

        return new Outcome(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
