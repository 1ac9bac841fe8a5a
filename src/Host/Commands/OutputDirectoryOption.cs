using System.CommandLine;

namespace TaskIsolation.Host.Commands;

/// <summary>
/// <c>--force</c> of the commands that own an output directory (<c>explore</c>, <c>soak</c>, <c>minimize</c>): write
/// into a directory that holds other files, removing only taskisol's own (<see cref="Reports.OutputCheck.PrepareOwnedDirectory"/>).
/// </summary>
internal static class OutputDirectoryOption
{
    public static Option<bool> Force() => new("--force")
    {
        Description = "Write into an --out directory that holds other files; only the files taskisol wrote there (listed in its .taskisol-outputs) are removed",
    };
}
