using Spectre.Console.Testing;
using TaskIsolation.Exploration;
using TaskIsolation.Host.Commands;
using TaskIsolation.Host.Soak;
using TaskIsolation.Reports;
using TaskIsolation.Soak;

namespace TaskIsolation.Host.Tests.Usability;

/// <summary>
/// The terminal paths of the live displays (issue 18), on Spectre's <see cref="TestConsole"/>: explore's bar with its
/// percentage, rate and findings as they appear, soak's ETA, longest single noise per CPU and latest violation chain.
/// The plain paths are what the goldens and docs hold.
/// </summary>
public sealed class ProgressDisplayTests
{
    private static readonly FindingInfo Tlb = new("violation", "sig", 3, "CallFunctionIpi", "iso/101", 504_760_800,
        ["task sibling/102 on cpu 0: munmap", "TLB shootdown IPI → cpu 3"]);

    [Fact]
    public void Explore_shows_percentage_rate_and_each_finding_once_as_it_appears()
    {
        var console = new TestConsole().Interactive();
        var view = new LiveExploreProgress(console);

        var result = view.Show(progress =>
        {
            progress(new CampaignProgress(10, 40, 250, 0, TimeSpan.FromSeconds(0.04)));
            progress(new CampaignProgress(20, 40, 250, 1, TimeSpan.FromSeconds(0.08)) { Findings = [Tlb] });
            progress(new CampaignProgress(40, 40, 250, 1, TimeSpan.FromSeconds(0.16)) { Findings = [Tlb] });
            return 42;
        });

        Assert.Equal(42, result);
        var text = console.Output;
        Assert.Contains("explore 40/40, 250 schedules/s, 1 finding", text, StringComparison.Ordinal);
        Assert.Contains("100%", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n'), l => l.Contains("violation on cpu 3 (CallFunctionIpi): root task sibling/102 on cpu 0: munmap", StringComparison.Ordinal));
    }

    [Fact]
    public void Explore_plain_lines_keep_their_form()
    {
        using var w = new StringWriter { NewLine = "\n" };
        new PlainExploreProgress(w).Show(progress =>
        {
            progress(new CampaignProgress(40, 40, 250, 1, TimeSpan.FromSeconds(0.16)) { Findings = [Tlb] });
            return 0;
        });

        Assert.Equal("  40/40 schedules  250 schedules/s  1 distinct finding\n", w.ToString());
    }

    [Fact]
    public void Soak_table_has_the_eta_the_longest_single_noise_and_the_latest_chain()
    {
        var status = new SoakStatus(30_000_000_000, 120_000_000_000, TimeSpan.FromSeconds(10), 1000, 1, 0, [new NoiseShare(1_000_000, 1_000), new NoiseShare(0, 0)], 3);
        var cpu0 = new CpuNoise(0, true, 10, 1_000_000, 1_000, 1_000, 12_345, 0, 0, 1, 0, 0, 1);
        var violation = new KeptFinding(
            new TaskIsolation.Machine.Events.ViolationDetected(7, 504_760_800, 3, 1, new TaskIsolation.Machine.Events.TaskRef(101, "iso"), new TaskIsolation.Machine.Events.SignalWakeup(9), []),
            [new TaskIsolation.Machine.Events.ChainLink(1, 0, "task sibling/102 on cpu 0: munmap"), new TaskIsolation.Machine.Events.ChainLink(2, 3, "TLB shootdown IPI")],
            0,
            0);
        var capture = new SoakCapture(30_000_000_000, 1000, [], [cpu0], [], null, [], [violation], 1, [], 0, []);
        var console = new TestConsole().Width(200);

        console.Write(LiveProgress.Render(status, "#3 at 30.000 s", capture));

        var text = console.Output;
        Assert.Contains("00:00:30", text, StringComparison.Ordinal);
        Assert.Contains("max single 12.345 us", text, StringComparison.Ordinal);
        Assert.Contains("504760800 ns cpu 3: task sibling/102 on cpu 0: munmap → TLB shootdown IPI", text, StringComparison.Ordinal);
        Assert.Equal("00:00:30", LiveProgress.Eta(status));
    }
}
