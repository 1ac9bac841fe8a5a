using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Microsoft.Coyote;
using Microsoft.Coyote.Logging;
using Microsoft.Coyote.SystematicTesting;
using TaskIsolation.Exploration;
using TaskIsolation.Scenarios;
using TaskIsolation.Simulation;

namespace TaskIsolation.PeerBench;

/// <summary>What the peer stage runs.</summary>
/// <param name="Iterations">Schedules each tool runs for its schedules/s figure (all run, past findings).</param>
/// <param name="Seeds">Campaign seeds (1..Seeds) each tool runs to its first finding.</param>
/// <param name="FirstCap">The most schedules a run to the first finding may take.</param>
internal sealed record PeerSettings(int Iterations = 2_000, int Seeds = 15, int FirstCap = 2_000);

/// <summary>One tool's figures.</summary>
/// <param name="Tool">The tool, for people.</param>
/// <param name="Schedules">Schedules run for the rate.</param>
/// <param name="Wall">Their wall time.</param>
/// <param name="Failing">Schedules of those that found the race.</param>
/// <param name="ToFirst">Per seed, the schedules to the first finding (the failing one included); null when none was found within the cap.</param>
internal sealed record ToolFigures(string Tool, long Schedules, TimeSpan Wall, long Failing, IReadOnlyList<long?> ToFirst)
{
    public double SchedulesPerSecond => Schedules / Wall.TotalSeconds;

    public int SeedsFound => ToFirst.Count(s => s is not null);

    /// <summary>The median over the seeds (a seed that found nothing counts as more than any that did); null when most found nothing.</summary>
    public double? MedianToFirst
    {
        get
        {
            var sorted = ToFirst.Select(s => s ?? long.MaxValue).Order().ToList();
            var n = sorted.Count;
            var mid = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] / 2.0) + (sorted[n / 2] / 2.0);
            return n == 0 || sorted[(n - 1) / 2] == long.MaxValue || sorted[n / 2] == long.MaxValue ? null : mid;
        }
    }
}

/// <summary>Both tools' figures from one process run.</summary>
internal sealed record PeerReport(PeerSettings Settings, ToolFigures Ours, ToolFigures Coyote, DateTimeOffset Date)
{
    /// <summary>taskisol's schedules/s over Coyote's.</summary>
    public double RateRatio => Ours.SchedulesPerSecond / Coyote.SchedulesPerSecond;

    /// <summary>taskisol's median schedules to the first finding over Coyote's; null when either has no median.</summary>
    public double? FirstRatio => Ours.MedianToFirst is { } o && Coyote.MedianToFirst is { } c ? o / c : null;

    public void WriteTable(TextWriter w)
    {
        w.WriteLine(Invariant($"peer bench: the TLB race, taskisol's explorer on scenarios/tlb-race.yaml and Coyote's TestingEngine on its actor model, one thread each"));
        w.WriteLine(Invariant($"  rate: {Settings.Iterations:N0} schedules each (seed 1, all run); first finding: seeds 1-{Settings.Seeds}, at most {Settings.FirstCap:N0} schedules each"));
        w.WriteLine(Invariant($"{"Tool",-40} {"schedules/s",12} {"schedules",10} {"failing",8}  {"to first finding: median (min-max)",-36} seeds that found it"));
        foreach (var t in new[] { Ours, Coyote })
        {
            var found = t.ToFirst.Where(s => s is not null).Select(s => s!.Value).ToList();
            var range = found.Count == 0 ? "-" : Invariant($"({found.Min():N0}-{found.Max():N0})");
            var median = t.MedianToFirst is { } m ? Invariant($"{m:N1}") : "none";
            w.WriteLine(Invariant($"{t.Tool,-40} {t.SchedulesPerSecond,12:N0} {t.Schedules,10:N0} {t.Failing,8:N0}  {median + " " + range,-36} {t.SeedsFound} of {t.ToFirst.Count}"));
        }

        var first = FirstRatio is { } f ? Invariant($"{f:N2}") : "-";
        w.WriteLine(Invariant($"{"ratio taskisol / Coyote",-40} {RateRatio,12:N3} {string.Empty,10} {string.Empty,8}  {first,-36}"));
    }

    public void WriteJson(Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n" });
        w.WriteStartObject();
        w.WriteString("tool", "taskisol-peerbench");
        w.WriteString("date", Date.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        w.WriteNumber("iterations", Settings.Iterations);
        w.WriteNumber("seeds", Settings.Seeds);
        w.WriteNumber("firstCap", Settings.FirstCap);
        w.WriteNumber("processors", Environment.ProcessorCount);
        foreach (var (key, t) in new[] { ("taskisol", Ours), ("coyote", Coyote) })
        {
            w.WriteStartObject(key);
            w.WriteString("tool", t.Tool);
            w.WriteNumber("schedules", t.Schedules);
            w.WriteNumber("wallSeconds", t.Wall.TotalSeconds);
            w.WriteNumber("schedulesPerSecond", t.SchedulesPerSecond);
            w.WriteNumber("failingSchedules", t.Failing);
            w.WriteStartArray("schedulesToFirstFinding");
            foreach (var s in t.ToFirst)
            {
                if (s is { } v)
                {
                    w.WriteNumberValue(v);
                }
                else
                {
                    w.WriteNullValue();
                }
            }

            w.WriteEndArray();
            if (t.MedianToFirst is { } m)
            {
                w.WriteNumber("medianToFirstFinding", m);
            }
            else
            {
                w.WriteNull("medianToFirstFinding");
            }

            w.WriteEndObject();
        }

        w.WriteNumber("ratioSchedulesPerSecond", RateRatio);
        if (FirstRatio is { } f)
        {
            w.WriteNumber("ratioMedianToFirstFinding", f);
        }
        else
        {
            w.WriteNull("ratioMedianToFirstFinding");
        }

        w.WriteEndObject();
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Runs both tools in this process, one after the other, each on one thread: taskisol's explorer (the portfolio
/// strategy, one actor system reused across schedules, as each of explore's workers runs them) on
/// scenarios/tlb-race.yaml, and Coyote's TestingEngine (its default portfolio) on <see cref="CoyoteTlbRace"/>.
/// </summary>
internal static class PeerRun
{
    /// <summary>The scenario, as embedded from scenarios/tlb-race.yaml.</summary>
    public static Scenario Scenario()
    {
        using var stream = typeof(PeerRun).Assembly.GetManifestResourceStream("peer/tlb-race.yaml")
            ?? throw new InvalidOperationException("scenarios/tlb-race.yaml is not embedded in taskisol-peerbench");
        using var reader = new StreamReader(stream);
        return ScenarioLoader.Load(reader.ReadToEnd(), "scenarios/tlb-race.yaml");
    }

    public static PeerReport Run(PeerSettings settings, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(settings);
        progress.WriteLine("peer bench: taskisol explore on scenarios/tlb-race.yaml …");
        var ours = Ours(settings);
        progress.WriteLine("peer bench: Coyote TestingEngine on the TLB race's actor model …");
        var coyote = Coyote(settings);
        return new PeerReport(settings, ours, coyote, DateTimeOffset.UtcNow);
    }

    private static ToolFigures Ours(PeerSettings settings)
    {
        var target = new ScenarioTarget(Scenario());
        using var system = ActorSystem.Create("peerbench", SimulationConfig.Hocon);
        try
        {
            // An untimed first campaign JIT-compiles the paths, as Coyote's warm-up does below.
            var warm = Explorer.Plan(system, target, new CampaignOptions { Seed = 1_000, Workers = 1 });
            Explorer.RunBatch(system, target, warm, 0, Math.Min(64, settings.Iterations));

            var plan = Explorer.Plan(system, target, new CampaignOptions { Seed = 1, Workers = 1, Iterations = settings.Iterations });
            var clock = Stopwatch.StartNew();
            var all = Explorer.RunBatch(system, target, plan, 0, settings.Iterations);
            clock.Stop();

            var toFirst = new List<long?>();
            for (var seed = 1; seed <= settings.Seeds; seed++)
            {
                var first = Explorer.Plan(system, target, new CampaignOptions { Seed = seed, Workers = 1, Iterations = settings.FirstCap, Until = UntilMode.First });
                var r = Explorer.RunBatch(system, target, first, 0, settings.FirstCap);
                toFirst.Add(r.FirstFinding == long.MaxValue ? null : r.FirstFinding + 1);
            }

            return new ToolFigures("taskisol explore (portfolio)", all.Schedules, clock.Elapsed, all.FailingSchedules, toFirst);
        }
        finally
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }

    private static ToolFigures Coyote(PeerSettings settings)
    {
        // Warm-up, untimed.
        using (var warm = Engine(Math.Min(64, settings.Iterations), 1_000, toCompletion: true))
        {
            warm.Run();
        }

        using var engine = Engine(settings.Iterations, 1, toCompletion: true);
        var clock = Stopwatch.StartNew();
        engine.Run();
        clock.Stop();
        var report = engine.TestReport;
        var schedules = (long)report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;

        var toFirst = new List<long?>();
        for (var seed = 1; seed <= settings.Seeds; seed++)
        {
            using var first = Engine(settings.FirstCap, (uint)seed, toCompletion: false);
            first.Run();
            var r = first.TestReport;
            toFirst.Add(r.NumOfFoundBugs == 0 ? null : (long)r.NumOfExploredFairPaths + r.NumOfExploredUnfairPaths);
        }

        return new ToolFigures("Coyote 1.7.11 TestingEngine (portfolio)", schedules, clock.Elapsed, report.NumOfFoundBugs, toFirst);
    }

    private static TestingEngine Engine(int iterations, uint seed, bool toCompletion)
    {
        var configuration = Configuration.Create()
            .WithTestingIterations((uint)iterations)
            .WithRandomGeneratorSeed(seed)
            .WithTestIterationsRunToCompletion(toCompletion)
            .WithTelemetryEnabled(false)
            .WithVerbosityEnabled(VerbosityLevel.None)
            .WithConsoleLoggingEnabled(false);
        var engine = TestingEngine.Create(configuration, CoyoteTlbRace.Execute);

        // The engine logs each iteration to the console otherwise (whatever the verbosity): the table is the output.
        engine.SetLogger(new TextWriterLogger(TextWriter.Null, VerbosityLevel.None));
        return engine;
    }
}
