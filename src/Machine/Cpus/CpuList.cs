namespace TaskIsolation.Machine.Cpus;

/// <summary>
/// The kernel's CPU list syntax (docs/model.md §3): <c>cpulist_parse()</c>, that is the modern
/// <c>bitmap_parselist()</c> of lib/bitmap.c, a superset of 4.7's. Printing is <see cref="CpuMask.ToList"/>.
/// </summary>
/// <remarks>
/// Grammar, as the kernel reads it:
/// <list type="bullet">
/// <item>regions are separated by <c>,</c> or whitespace; empty regions and leading or trailing separators are fine;</item>
/// <item>a region is <c>a</c>, <c>a-b</c> or <c>all</c> (any case), optionally followed by <c>:used/group</c>;
/// <c>N</c> stands for <c>nbits-1</c> wherever a number may stand; numbers are decimal digits only;</item>
/// <item>the list ends at the end of the text, at a NUL, or at a newline that directly follows a region without a
/// <c>:used/group</c> part. Anywhere else a newline is whitespace, because <c>bitmap_find_region()</c> skips it
/// with <c>isspace()</c> and only the no-pattern exit of <c>bitmap_parse_region()</c> tests for it.</item>
/// </list>
/// </remarks>
public static class CpuList
{
    /// <summary>
    /// Parses <paramref name="text"/> into a mask of <paramref name="nbits"/> bits, as <c>bitmap_parselist()</c>:
    /// the mask is zeroed, then each region is parsed, checked and applied in turn; the first failing region stops
    /// the parse and the earlier regions stay set. Never throws for any text.
    /// </summary>
    /// <param name="text">The list as a user typed it.</param>
    /// <param name="nbits">The mask size (number of CPUs), 0 to <see cref="CpuMask.MaxBits"/>.</param>
    public static CpuListResult Parse(string text, int nbits)
    {
        ArgumentNullException.ThrowIfNull(text);
        var mask = new CpuMask.Builder(nbits);

        // r->nbits - 1 in unsigned arithmetic: with nbits == 0, N is 4294967295 and every region is ERANGE.
        var lastBit = unchecked((uint)(nbits - 1));
        var pos = 0;
        while (true)
        {
            // as bitmap_find_region(): skip separators (newline included); stop at the end of the string.
            while (pos < text.Length && IsRegionSeparator(text[pos]))
            {
                pos++;
            }

            if (IsEndOfString(text, pos))
            {
                return Success(text, mask);
            }

            var regionStart = pos;
            var step = ParseRegion(text, ref pos, lastBit, out var region);
            if (step.Error is { } parseError)
            {
                return Failure(text, mask, regionStart, parseError, step.Reason!);
            }

            // as bitmap_check_region(): shape first, then range.
            var check = CheckRegion(region, nbits);
            if (check.Error is { } checkError)
            {
                return Failure(text, mask, regionStart, checkError, check.Reason!);
            }

            SetRegion(mask, region);
            if (step.EndsList)
            {
                return Success(text, mask);
            }
        }
    }

    /// <summary>
    /// Parses like <see cref="Parse"/> and reports success. <paramref name="mask"/> is never null: on failure it is
    /// the partial mask the kernel would have left behind.
    /// </summary>
    public static bool TryParse(string text, int nbits, out CpuMask mask)
    {
        var result = Parse(text, nbits);
        mask = result.Mask;
        return result.IsSuccess;
    }

    /// <summary>Parses like <see cref="Parse"/>; a list the kernel rejects throws <see cref="CpuListException"/>.</summary>
    public static CpuMask ParseOrThrow(string text, int nbits) => Parse(text, nbits).GetMaskOrThrow();

    /// <summary>
    /// A parsed region: bits <c>Start..End</c>, and from <c>Start</c> the first <c>Used</c> of every <c>Group</c>
    /// (the kernel's <c>struct region</c>, <c>off</c> named for what it means). Held in 64 bits: the kernel computes
    /// the implicit group <c>end + 1</c> in 32 bits, so "4294967295" or "0-4294967295" wrap to a group of 0 and
    /// fail as EINVAL; the model keeps docs/model.md §3's rule that an end past the mask is ERANGE.
    /// </summary>
    private readonly record struct Region(long Start, long End, long Used, long Group);

    /// <summary>Result of one parsing step: an error with its reason, or success and whether the list ended.</summary>
    private readonly record struct Step(CpuListError? Error, string? Reason, bool EndsList)
    {
        public static Step Fail(CpuListError error, string reason) => new(error, reason, false);
    }

    /// <summary>As <c>bitmap_parse_region()</c>. On success <paramref name="pos"/> is just past the region.</summary>
    private static Step ParseRegion(string text, ref int pos, uint lastBit, out Region region)
    {
        region = default;
        long start, end;
        if (IsAll(text, pos))
        {
            // as the strncasecmp(str, "all", 3) branch: "all" is 0-N and may take a pattern.
            start = 0;
            end = lastBit;
            pos += 3;
        }
        else
        {
            var num = GetNumber(text, ref pos, lastBit, out var startBits);
            start = startBits;
            if (num.Error is not null)
            {
                return num;
            }

            if (IsEndOfRegion(text, pos))
            {
                region = new Region(start, start, start + 1, start + 1);
                return new Step(null, null, IsEndOfString(text, pos));
            }

            if (text[pos] != '-')
            {
                return UnexpectedCharacter(text, pos, "'-', ':' or a separator");
            }

            pos++;
            num = GetNumber(text, ref pos, lastBit, out var endBits);
            if (num.Error is not null)
            {
                return num;
            }

            end = endBits;
        }

        // check_pattern:
        if (IsEndOfRegion(text, pos))
        {
            // no_pattern: used == group == end + 1, so one stride covers the whole range.
            region = new Region(start, end, end + 1, end + 1);
            return new Step(null, null, IsEndOfString(text, pos));
        }

        if (text[pos] != ':')
        {
            return UnexpectedCharacter(text, pos, "':' or a separator");
        }

        pos++;
        var used = GetNumber(text, ref pos, lastBit, out var usedBits);
        if (used.Error is not null)
        {
            return used;
        }

        if (pos >= text.Length || text[pos] != '/')
        {
            return UnexpectedCharacter(text, pos, "'/'");
        }

        pos++;
        var group = GetNumber(text, ref pos, lastBit, out var groupBits);
        if (group.Error is not null)
        {
            return group;
        }

        // The kernel returns right after the group number without looking at the next character: whatever follows
        // is parsed as the next region (so "0-7:1/2x" fails on region "x", and a newline here does not end the list).
        region = new Region(start, end, usedBits, groupBits);
        return new Step(null, null, false);
    }

    /// <summary>As <c>bitmap_getnum()</c>: <c>N</c>, or decimal digits that must fit 32 bits unsigned.</summary>
    private static Step GetNumber(string text, ref int pos, uint lastBit, out uint value)
    {
        value = 0;
        if (pos < text.Length && text[pos] == 'N')
        {
            value = lastBit;
            pos++;
            return default;
        }

        // as _parse_integer(str, 10, ...): every digit is consumed even past an overflow.
        var first = pos;
        ulong n = 0;
        var overflow = false;
        while (pos < text.Length && text[pos] is >= '0' and <= '9')
        {
            if (!overflow)
            {
                n = (n * 10) + (ulong)(text[pos] - '0');
                overflow = n > uint.MaxValue;
            }

            pos++;
        }

        if (pos == first)
        {
            return Step.Fail(CpuListError.EINVAL, pos < text.Length && !IsEndOfRegion(text, pos)
                ? $"expected a number, found '{CpuListResult.Escape(text[pos].ToString())}'"
                : "missing number");
        }

        if (overflow)
        {
            return Step.Fail(CpuListError.EOVERFLOW, $"number {text[first..pos]} does not fit 32 bits");
        }

        value = (uint)n;
        return default;
    }

    /// <summary>As <c>bitmap_check_region()</c>: a malformed region is EINVAL before an out-of-range one is ERANGE.</summary>
    private static Step CheckRegion(Region r, int nbits)
    {
        if (r.Start > r.End)
        {
            return Step.Fail(CpuListError.EINVAL, $"range start {r.Start} is after its end {r.End}");
        }

        if (r.Group == 0)
        {
            return Step.Fail(CpuListError.EINVAL, "group size is 0");
        }

        if (r.Used > r.Group)
        {
            return Step.Fail(CpuListError.EINVAL, $"used size {r.Used} is larger than group size {r.Group}");
        }

        if (r.End >= nbits)
        {
            return Step.Fail(CpuListError.ERANGE, nbits == 0
                ? $"CPU {r.End} does not exist: the mask has no bits"
                : $"CPU {r.End} is past the last CPU {nbits - 1}");
        }

        return default;
    }

    /// <summary>
    /// As <c>bitmap_set_region()</c>: from <c>Start</c>, every <c>Group</c> bits set the first <c>Used</c>, never
    /// past <c>End</c>. The kernel steps in 32-bit unsigned arithmetic, so a group near 2^32 wraps back to bit 0
    /// ("1-5:1/4294967295" sets 0 and 1); the model steps in 64 bits and sets only bit 1, as docs/model.md §3 states
    /// the rule ("from a ... never past b").
    /// </summary>
    private static void SetRegion(CpuMask.Builder mask, Region r)
    {
        for (var first = r.Start; first <= r.End; first += r.Group)
        {
            var last = Math.Min(r.End, first + r.Used - 1);
            for (var cpu = first; cpu <= last; cpu++)
            {
                mask.Set((int)cpu);
            }
        }
    }

    /// <summary>As <c>strncasecmp(str, "all", 3) == 0</c>, ASCII case only.</summary>
    private static bool IsAll(string text, int pos) =>
        pos + 3 <= text.Length
        && (text[pos] | 0x20) == 'a'
        && (text[pos + 1] | 0x20) == 'l'
        && (text[pos + 2] | 0x20) == 'l';

    private static Step UnexpectedCharacter(string text, int pos, string expected) =>
        Step.Fail(CpuListError.EINVAL, pos >= text.Length || IsEndOfString(text, pos)
            ? $"unexpected end of list, expected {expected}"
            : $"unexpected character '{CpuListResult.Escape(text[pos].ToString())}', expected {expected}");

    private static CpuListResult Success(string text, CpuMask.Builder mask) =>
        new(text, mask.ToMask(), null, null, -1, null);

    private static CpuListResult Failure(string text, CpuMask.Builder mask, int regionStart, CpuListError error, string reason)
    {
        var regionEnd = regionStart;
        while (!IsEndOfRegion(text, regionEnd))
        {
            regionEnd++;
        }

        return new(text, mask.ToMask(), error, text[regionStart..regionEnd], regionStart, reason);
    }

    /// <summary>As <c>__end_of_region()</c>: whitespace or a comma.</summary>
    private static bool IsRegionSeparator(char c) => KernelCType.IsSpace(c) || c == ',';

    /// <summary>As <c>end_of_str()</c>: the end, a NUL (where a C string ends) or a newline.</summary>
    private static bool IsEndOfString(string text, int pos) =>
        pos >= text.Length || text[pos] == '\0' || text[pos] == '\n';

    /// <summary>As <c>end_of_region()</c>.</summary>
    private static bool IsEndOfRegion(string text, int pos) =>
        IsEndOfString(text, pos) || IsRegionSeparator(text[pos]);
}
