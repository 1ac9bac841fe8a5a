namespace TaskIsolation.Simulation;

/// <summary>What a recorded decision chose between.</summary>
public enum DecisionKind : byte
{
    /// <summary>Which runnable mailbox (receiver with pending deliveries) runs next.</summary>
    Schedule = 0,

    /// <summary>A value the model leaves open, such as an IPI's latency jitter or the order of same-time timers.</summary>
    Choice = 1,
}

/// <summary>
/// One decision of a controlled run: option <see cref="Chosen"/> of <see cref="Of"/>. Only real choices (two or more
/// options) are recorded, so a run with no concurrency records nothing.
/// </summary>
/// <param name="Kind">Scheduling or data choice.</param>
/// <param name="Chosen">Index chosen, 0-based.</param>
/// <param name="Of">Number of options there were.</param>
public readonly record struct Decision(DecisionKind Kind, int Chosen, int Of)
{
    /// <summary>Compact text form, <c>s2/3</c> or <c>c0/4</c>, as reproducers store it.</summary>
    public override string ToString() => $"{(Kind == DecisionKind.Schedule ? 's' : 'c')}{Chosen}/{Of}";

    /// <summary>Parses <see cref="ToString"/>'s form.</summary>
    public static Decision Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (text.Length < 4 || (text[0] != 's' && text[0] != 'c') || slash < 2
            || !int.TryParse(text.AsSpan(1, slash - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var chosen)
            || !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var of)
            || chosen >= of)
        {
            throw new FormatException($"not a decision: '{text}' (expected s<chosen>/<of> or c<chosen>/<of>)");
        }

        return new Decision(text[0] == 's' ? DecisionKind.Schedule : DecisionKind.Choice, chosen, of);
    }
}
