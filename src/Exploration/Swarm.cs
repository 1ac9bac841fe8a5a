using System.Collections.Immutable;
using System.Globalization;

namespace TaskIsolation.Exploration;

/// <summary>
/// The ranges a swarm campaign perturbs its scenario within, schedule by schedule (as FoundationDB's swarm testing
/// varies its simulation's configuration): every timing within a factor, every device IRQ and NMI rate within a factor,
/// and each noise source on or off.
/// </summary>
/// <param name="TimingFactor">Each timing (a compute step, a system call's work, a sleep, a task's start, a periodic source's period) is drawn within [t/F, t·F], log-uniformly; 1 leaves timings alone.</param>
/// <param name="IrqRateFactor">Each device IRQ's and NMI source's rate is drawn within [r/F, r·F], log-uniformly; 1 leaves rates alone.</param>
/// <param name="ToggleNoise">Whether each noise source is switched off with probability one half.</param>
public sealed record SwarmSettings(double TimingFactor = 2, double IrqRateFactor = 2, bool ToggleNoise = true)
{
    /// <summary>The largest factor accepted.</summary>
    public const double MaxFactor = 100;

    /// <summary>Null when a factor is a usable range (a finite number from 1 to <see cref="MaxFactor"/>), else why not.</summary>
    public static string? CheckFactor(double factor) =>
        double.IsFinite(factor) && factor >= 1 && factor <= MaxFactor
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"expected a number from 1 to {MaxFactor} (each value is drawn within [v/F, v·F])");
}

/// <summary>Kinds of <see cref="SwarmChange"/>.</summary>
public static class SwarmKinds
{
    /// <summary>A timing set to <see cref="SwarmChange.Ns"/>.</summary>
    public const string Timing = "timing";

    /// <summary>A device IRQ's or NMI source's period set to <see cref="SwarmChange.Ns"/>.</summary>
    public const string IrqRate = "irq-rate";

    /// <summary>A noise source switched off.</summary>
    public const string NoiseOff = "noise-off";

    /// <summary>Every kind.</summary>
    public static IReadOnlyList<string> All { get; } = [Timing, IrqRate, NoiseOff];
}

/// <summary>One value of the scenario a swarm schedule changed.</summary>
/// <param name="Kind"><see cref="SwarmKinds"/>: <c>timing</c>, <c>irq-rate</c> or <c>noise-off</c>.</param>
/// <param name="Where">Where in the scenario: <c>tasks[0].program[2]</c> (a step; nested programs as <c>.program[i]</c> of a thread or fork, <c>.body[i]</c> of a loop, <c>.handler[i]</c> of a sigaction), <c>tasks[0].start</c>, <c>noise[1]</c>.</param>
/// <param name="Ns">The new value in nanoseconds (a timing, or an IRQ source's period); 0 for <c>noise-off</c>.</param>
public sealed record SwarmChange(string Kind, string Where, long Ns)
{
    /// <summary><c>timing tasks[0].program[2] = 41234 ns</c>, <c>noise-off noise[1]</c>.</summary>
    public override string ToString() => Kind == SwarmKinds.NoiseOff
        ? $"{Kind} {Where}"
        : string.Create(CultureInfo.InvariantCulture, $"{Kind} {Where} = {Ns} ns");
}

/// <summary>
/// A swarm schedule's perturbation of its scenario, as its reproducer records it: the ranges it was drawn from and the
/// changes drawn. Replay applies the changes to the embedded scenario (<see cref="ISwarmTarget.Perturb"/>).
/// </summary>
/// <param name="TimingFactor">The timing range's factor.</param>
/// <param name="IrqRateFactor">The IRQ-rate range's factor.</param>
/// <param name="ToggleNoise">Whether noise sources could be switched off.</param>
/// <param name="Changes">The changes, in scenario order.</param>
public sealed record SwarmPerturbation(double TimingFactor, double IrqRateFactor, bool ToggleNoise, ImmutableArray<SwarmChange> Changes);

/// <summary>A value of a target that swarm runs may change.</summary>
/// <param name="Kind"><see cref="SwarmKinds"/>.</param>
/// <param name="Where">Where (see <see cref="SwarmChange.Where"/>).</param>
/// <param name="Ns">Its value in the target (0 for a noise source that may be switched off).</param>
public sealed record SwarmKnob(string Kind, string Where, long Ns);

/// <summary>A target whose values a swarm campaign can perturb.</summary>
public interface ISwarmTarget : IExplorationTarget
{
    /// <summary>The values that may be perturbed, in a fixed order.</summary>
    IReadOnlyList<SwarmKnob> SwarmKnobs();

    /// <summary>
    /// The target with <paramref name="changes"/> applied (its text is the perturbed one; a reproducer embeds the
    /// unperturbed target and the changes).
    /// </summary>
    /// <exception cref="FormatException">A change names no value of the target, or the result is not a valid target.</exception>
    IExplorationTarget Perturb(IReadOnlyList<SwarmChange> changes);
}

/// <summary>Draws swarm perturbations.</summary>
public static class Swarm
{
    /// <summary>
    /// The perturbation of the schedule seeded with <paramref name="scheduleSeed"/>: a pure function of the seed, the
    /// target's knobs and the settings. Each knob takes one draw in order, whether it changes or not.
    /// </summary>
    public static SwarmPerturbation Draw(ISwarmTarget target, SwarmSettings settings, int scheduleSeed)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(settings);
        var random = new Random(ScheduleSeeds.For(scheduleSeed, 0x5357_4152_4DL));
        var changes = ImmutableArray.CreateBuilder<SwarmChange>();
        foreach (var knob in target.SwarmKnobs())
        {
            var u = random.NextDouble();
            switch (knob.Kind)
            {
                case SwarmKinds.Timing when settings.TimingFactor > 1:
                    {
                        var ns = Scale(knob.Ns, Math.Exp(((2 * u) - 1) * Math.Log(settings.TimingFactor)));
                        if (ns != knob.Ns)
                        {
                            changes.Add(new SwarmChange(knob.Kind, knob.Where, ns));
                        }

                        break;
                    }

                case SwarmKinds.IrqRate when settings.IrqRateFactor > 1:
                    {
                        // A rate r·f is a period t/f.
                        var ns = Scale(knob.Ns, 1 / Math.Exp(((2 * u) - 1) * Math.Log(settings.IrqRateFactor)));
                        if (ns != knob.Ns)
                        {
                            changes.Add(new SwarmChange(knob.Kind, knob.Where, ns));
                        }

                        break;
                    }

                case SwarmKinds.NoiseOff when settings.ToggleNoise && u < 0.5:
                    changes.Add(new SwarmChange(knob.Kind, knob.Where, 0));
                    break;
            }
        }

        return new SwarmPerturbation(settings.TimingFactor, settings.IrqRateFactor, settings.ToggleNoise, changes.ToImmutable());
    }

    private static long Scale(long ns, double factor) => (long)Math.Clamp(Math.Round(ns * factor), 1, long.MaxValue / 4);
}
