using System.CommandLine;
using System.CommandLine.Invocation;
using TaskIsolation.Reports;

namespace TaskIsolation.Host;

/// <summary>Entry point of <c>taskisol</c>.</summary>
public static class Program
{
    /// <summary>Runs the command line against the console and returns the exit code.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>
    /// Runs one command line with its output going to <paramref name="stdout"/> and <paramref name="stderr"/>, as
    /// <see cref="Main"/> does; tests call this in-process. Returns an <see cref="ExitCodes"/> value: bad input (2) is
    /// reported on <paramref name="stderr"/> as <c>taskisol [command]: what and where</c>, one line (<see cref="ErrorText"/>),
    /// never as a stack trace; a command stopped by a signal before it had an answer returns 128 + the signal's number
    /// (<see cref="ExitCodes.Interrupted"/>); an exception no command expected is an internal error (3), reported with
    /// its stack trace.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        // No response files: an argument starting with '@' is a value (a command line may hold one), not a path.
        var parse = Cli.BuildRoot().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var prefix = parse.CommandResult.Command is RootCommand ? Cli.Name : $"{Cli.Name} {parse.CommandResult.Command.Name}";
        var errors = Cli.Errors(parse);
        if (errors.Count > 0 || parse.Action is ParseErrorAction)
        {
            foreach (var error in errors)
            {
                stderr.WriteLine($"{prefix}: {error}");
            }

            stderr.WriteLine($"Try '{prefix} --help'.");
            return ExitCodes.BadInput;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (UsageException ex)
        {
            stderr.WriteLine($"{prefix}: {ErrorText.OneLine(ex.Message)}");
            return ExitCodes.BadInput;
        }
        catch (OutputFileException ex)
        {
            // A file the user named that could not be written, whenever that was found (a full disk after the run).
            stderr.WriteLine($"{prefix}: {ErrorText.OneLine(ex.Message)}");
            return ExitCodes.BadInput;
        }
        catch (StoppedException ex)
        {
            stderr.WriteLine($"{prefix}: {ErrorText.OneLine(ex.Message)}");
            return ex.ExitCode;
        }
        catch (Exception ex)
        {
            // A bug, not bad input: keep everything a bug report needs.
            stderr.WriteLine($"{prefix}: internal error: {ex}");
            return ExitCodes.InternalError;
        }
    }
}
