using TaskIsolation.Scenarios;
using Xunit.Abstractions;

namespace TaskIsolation.Actors.Tests.Scenarios;

/// <summary>The check every scenario test ends with: each verdict in the test's output, then all of them held.</summary>
internal static class ExpectationAssert
{
    /// <summary>Writes every expectation's verdict to <paramref name="output"/> (when given), then fails naming those that did not hold.</summary>
    public static void AllHeld(ScenarioRun run, ITestOutputHelper? output = null)
    {
        foreach (var e in run.Expectations)
        {
            output?.WriteLine($"{(e.Held ? "held" : "FAILED")}: {e.Text} — {e.Detail}");
        }

        Assert.True(run.AllHeld, string.Join("\n", run.Expectations.Where(e => !e.Held).Select(e => $"{e.Text}: {e.Detail}")));
    }
}
