using System.Diagnostics;

namespace TaskIsolation.Host.Tests.Usability;

/// <summary>
/// The README's ways to run taskisol on a machine with only the .NET SDK, run as a user would: the tool package is
/// packed from the checkout, installed into a tool path, and <c>taskisol run</c> runs from it; and <c>dotnet run
/// --project src/Host -- run</c>. Packing builds everything in Release with ReadyToRun code (minutes on two cores),
/// so this is category <c>ToolInstall</c>, run by .ci/run with <c>TASKISOL_TOOL_TEST=1</c> (docs/testing.md) and
/// skipped, saying so, in the normal suite.
/// </summary>
[Trait("Category", "ToolInstall")]
public sealed class ToolInstallTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("taskisol-tool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static bool Enabled => Environment.GetEnvironmentVariable("TASKISOL_TOOL_TEST") == "1";

    [SkippableFact]
    public void The_packed_tool_installs_into_a_tool_path_and_runs()
    {
        Skip.IfNot(Enabled, "packs and installs the tool (minutes): set TASKISOL_TOOL_TEST=1, as .ci/run does");
        var root = Fuzz.Mutations.Root;
        var nupkg = Path.Combine(_dir, "nupkg");
        var tools = Path.Combine(_dir, "tools");

        Run(Dotnet, root, "pack", "src/Host", "-o", nupkg).AssertExit(0);
        Assert.Single(Directory.GetFiles(nupkg, "TaskIsolation.Tool.*.nupkg"));
        Run(Dotnet, _dir, "tool", "install", "--tool-path", tools, "--add-source", nupkg, "TaskIsolation.Tool").AssertExit(0);

        var taskisol = Path.Combine(tools, "taskisol");
        var run = Run(taskisol, _dir, "run");
        run.AssertExit(0);
        Assert.Contains("expectation", run.Out, StringComparison.Ordinal);
        Assert.Contains("held", run.Out, StringComparison.Ordinal);

        var typo = Run(taskisol, _dir, "rnu");
        Assert.Equal(2, typo.Exit);
        Assert.StartsWith("taskisol: unknown command 'rnu'; did you mean 'run'?\n", typo.Err, StringComparison.Ordinal);

        var explore = Run(taskisol, _dir, "explore", "r09-tlb-shootdown", "--iterations", "20", "--until", "first", "--out", Path.Combine(_dir, "findings"));
        Assert.Equal(1, explore.Exit);
        Assert.True(File.Exists(Path.Combine(_dir, "findings", "finding-1.json")));
    }

    [SkippableFact]
    public void Dotnet_run_from_the_checkout_runs_the_default_scenario()
    {
        Skip.IfNot(Enabled, "builds the host with dotnet run: set TASKISOL_TOOL_TEST=1, as .ci/run does");
        var r = Run(Dotnet, Fuzz.Mutations.Root, "run", "--project", "src/Host", "--", "run");

        r.AssertExit(0);
        Assert.Contains("held", r.Out, StringComparison.Ordinal);
    }

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static Outcome Run(string program, string directory, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        // The test host's MSBuild variables would steer a nested dotnet build elsewhere.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        // A guard against a hung child: packing on a loaded two-core machine takes a few minutes.
        if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not exit");
        }

        return new Outcome(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}

internal static class OutcomeAsserts
{
    public static void AssertExit(this Outcome o, int exit) =>
        Assert.True(o.Exit == exit, $"exit {o.Exit}, expected {exit}\nstdout:\n{o.Out}\nstderr:\n{o.Err}");
}
