using System.Globalization;
using Spectre.Console;
using TaskIsolation.Exploration;

namespace TaskIsolation.Host.Commands;

/// <summary>Shows an exploration campaign's progress: live on a terminal, plain lines otherwise.</summary>
internal interface IExploreProgress
{
    /// <summary>Runs <paramref name="campaign"/>, feeding this display through the callback it is given.</summary>
    T Show<T>(Func<Action<CampaignProgress>, T> campaign);
}

/// <summary>
/// One line a second, <c>  N/T schedules  R schedules/s  F distinct findings</c>, and the last one when the campaign
/// ends: the form of logs, pipes, goldens and docs.
/// </summary>
internal sealed class PlainExploreProgress(TextWriter output) : IExploreProgress
{
    public T Show<T>(Func<Action<CampaignProgress>, T> campaign)
    {
        var lastLine = TimeSpan.Zero;
        return campaign(p =>
        {
            if (p.Elapsed - lastLine >= TimeSpan.FromSeconds(1) || p.Done == p.Total)
            {
                lastLine = p.Elapsed;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p.Done}/{p.Total} schedules  {p.PerSecond:0} schedules/s  {p.DistinctFindings} distinct finding{(p.DistinctFindings == 1 ? string.Empty : "s")}"));
            }
        });
    }
}

/// <summary>
/// A Spectre.Console progress bar with the percentage, the rate and the ETA; each distinct finding is printed above
/// it as it appears (kind, CPU, the root of its chain).
/// </summary>
internal sealed class LiveExploreProgress(IAnsiConsole console) : IExploreProgress
{
    public T Show<T>(Func<Action<CampaignProgress>, T> campaign)
    {
        T result = default!;
        var shown = 0;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Description(null), maxValue: 1);
                result = campaign(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    task.Description = Description(p);
                    for (; shown < p.Findings.Count; shown++)
                    {
                        console.MarkupLine(Finding(p.Findings[shown]));
                    }

                    ctx.Refresh();
                });
                task.StopTask();
            });
        return result;
    }

    /// <summary><c>explore 812 schedules/s, 2 findings</c>: what the bar's columns do not show.</summary>
    internal static string Description(CampaignProgress? p) => p is null
        ? "explore"
        : Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"explore {p.Done}/{p.Total}, {p.PerSecond:0} schedules/s, {p.DistinctFindings} finding{(p.DistinctFindings == 1 ? string.Empty : "s")}"));

    /// <summary>A finding's line: kind, CPU (and interrupt), and the root of its chain.</summary>
    internal static string Finding(FindingInfo f) =>
        $"[red]{Markup.Escape(f.Kind)}[/] on cpu {f.Cpu.ToString(CultureInfo.InvariantCulture)}{(f.Interrupt is null ? string.Empty : Markup.Escape($" ({f.Interrupt})"))}: root {Markup.Escape(f.Root)}";
}
