using System.Collections.Immutable;
using System.Globalization;

namespace TaskIsolation.Scenarios;

/// <summary>One problem in a scenario file, at a place: <c>file:line:col: what was found, what was expected</c>.</summary>
/// <param name="File">The file name as the user gave it (or <c>&lt;name&gt;</c> for text without a file).</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="Message">What was found and what was expected.</param>
public sealed record ScenarioError(string File, int Line, int Column, string Message)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{File}:{Line}:{Column}: {Message}");
}

/// <summary>
/// A scenario that cannot run: every problem the validator found, each with its place. The only exception
/// <see cref="ScenarioLoader"/> throws for any input.
/// </summary>
public sealed class ScenarioException : Exception
{
    /// <summary>The problems, in file order; never empty.</summary>
    public ImmutableArray<ScenarioError> Errors { get; }

    /// <summary>An exception carrying <paramref name="errors"/> (at least one).</summary>
    public ScenarioException(IEnumerable<ScenarioError> errors)
        : this([.. errors ?? throw new ArgumentNullException(nameof(errors))])
    {
    }

    private ScenarioException(ImmutableArray<ScenarioError> errors)
        : base(errors.IsEmpty ? "invalid scenario" : string.Join("\n", errors))
    {
        Errors = errors.IsEmpty ? [new ScenarioError("<scenario>", 1, 1, "invalid scenario")] : errors;
    }

    /// <summary>An exception with one problem.</summary>
    public ScenarioException(string message)
        : this([new ScenarioError("<scenario>", 1, 1, message)])
    {
    }

    /// <summary>An exception with one problem, caused by <paramref name="innerException"/>.</summary>
    public ScenarioException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [new ScenarioError("<scenario>", 1, 1, message)];
    }

    /// <summary>Required by the exception pattern; prefer a constructor with errors.</summary>
    public ScenarioException()
        : this("invalid scenario")
    {
    }
}
