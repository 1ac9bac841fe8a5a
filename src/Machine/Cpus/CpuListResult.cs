namespace TaskIsolation.Machine.Cpus;

/// <summary>
/// The outcome of <see cref="CpuList.Parse"/>: the mask as the parser left it and, on failure, which region failed
/// and why. On failure the mask still holds every region before the failing one, because
/// <c>bitmap_parselist()</c> sets bits region by region into the caller's mask (docs/model.md §2 relies on this for
/// <c>task_isolation=</c>).
/// </summary>
public sealed record CpuListResult
{
    internal CpuListResult(string text, CpuMask mask, CpuListError? error, string? region, int regionOffset, string? reason)
    {
        Text = text;
        Mask = mask;
        Error = error;
        Region = region;
        RegionOffset = regionOffset;
        Reason = reason;
    }

    /// <summary>The text that was parsed.</summary>
    public string Text { get; }

    /// <summary>The mask: complete on success, the regions before the failing one on failure.</summary>
    public CpuMask Mask { get; }

    /// <summary>The errno, or null on success.</summary>
    public CpuListError? Error { get; }

    /// <summary>The failing region's text (up to the next separator or end), or null on success.</summary>
    public string? Region { get; }

    /// <summary>Offset of the failing region in <see cref="Text"/>, or -1 on success.</summary>
    public int RegionOffset { get; }

    /// <summary>A short explanation of the failure for people (not part of the kernel's ABI), or null on success.</summary>
    public string? Reason { get; }

    /// <summary>True when the whole list parsed.</summary>
    public bool IsSuccess => Error is null;

    /// <summary>The mask, or a <see cref="CpuListException"/> describing the failure.</summary>
    public CpuMask GetMaskOrThrow() => IsSuccess ? Mask : throw new CpuListException(this);

    /// <summary>One line naming the errno, the offending region and where it is, e.g.
    /// <c>EINVAL in region '1-x' at offset 2 of '0,1-x': unexpected character 'x'</c>; "ok" on success.</summary>
    public string Describe() =>
        IsSuccess
            ? "ok"
            : $"{Error} in region '{Escape(Region!)}' at offset {RegionOffset} of '{Escape(Text)}': {Reason}";

    /// <summary>Control characters (a newline ends a list) shown as C escapes so a message stays on one line.</summary>
    internal static string Escape(string s)
    {
        if (!s.Any(char.IsControl))
        {
            return s;
        }

        var sb = new System.Text.StringBuilder(s.Length + 8);
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                '\0' => "\\0",
                _ when char.IsControl(c) => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }
}
