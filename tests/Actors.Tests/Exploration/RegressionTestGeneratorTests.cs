using System.Runtime.CompilerServices;
using Akka.TestKit.Xunit2;
using TaskIsolation.Exploration;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Exploration;

/// <summary>
/// The committed regression test under Generated/ was written by <see cref="RegressionTestGenerator"/> from the
/// minimized TLB race (its reproducer sits next to it); it compiles and runs as part of this suite. Set
/// <c>TASKISOL_REGENERATE=1</c> to rewrite both after a model change.
/// </summary>
public sealed class RegressionTestGeneratorTests : TestKit
{
    private static readonly RegressionTestOptions Options = new(
        "TaskIsolation.Actors.Tests.Exploration.Generated",
        "TlbShootdownRaceRegression",
        "TlbRaceTarget.Load",
        ["TaskIsolation.Actors.Tests.Exploration"]);

    public RegressionTestGeneratorTests()
        : base(SimulationConfig.Hocon)
    {
    }

    [Fact]
    public void Regenerating_the_committed_regression_test_gives_the_same_text()
    {
        var dir = GeneratedDir();
        var json = Path.Combine(dir, "TlbShootdownRaceRegression.json");
        var cs = Path.Combine(dir, "TlbShootdownRaceRegression.cs");
        if (Environment.GetEnvironmentVariable("TASKISOL_REGENERATE") == "1")
        {
            var target = new TlbRaceTarget();
            var plan = Explorer.Plan(Sys, target, new CampaignOptions { Seed = 7, MaxSteps = 50_000 });
            var found = Explorer.RunBatch(Sys, target, plan, 0, 300).Findings.Single().Reproducer;
            var min = Minimizer.Minimize(Sys, found, TlbRaceTarget.Load);
            AtomicFile.WriteText(json, w => w.Write(min.Reproducer.ToJson()));
            AtomicFile.WriteText(cs, w => w.Write(RegressionTestGenerator.Generate(min.Reproducer, Options)));
        }

        var reproducer = Reproducer.Parse(File.ReadAllText(json));
        Assert.Equal(File.ReadAllText(cs), RegressionTestGenerator.Generate(reproducer, Options));
        Assert.Equal(ReplayStatus.Reproduced, Replayer.Replay(Sys, reproducer, TlbRaceTarget.Load).Status);
    }

    private static string GeneratedDir([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Generated");
}
