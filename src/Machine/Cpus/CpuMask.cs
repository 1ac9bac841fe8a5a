using System.Collections;
using System.Numerics;
using System.Text;

namespace TaskIsolation.Machine.Cpus;

/// <summary>
/// An immutable set of CPU numbers over a fixed number of bits (the kernel's <c>struct cpumask</c> of
/// <c>nr_cpu_ids</c> bits). Two masks are equal when they have the same size and the same bits.
/// </summary>
public sealed class CpuMask : IEquatable<CpuMask>, IEnumerable<int>
{
    /// <summary>The largest mask the model accepts; the kernel's own limit (CONFIG_NR_CPUS) is 8192.</summary>
    public const int MaxBits = 8192;

    private readonly ulong[] _words;

    private CpuMask(int nbits, ulong[] words)
    {
        NBits = nbits;
        _words = words;
    }

    /// <summary>Number of bits (CPUs) the mask spans.</summary>
    public int NBits { get; }

    /// <summary>Number of CPUs set (the kernel's <c>cpumask_weight</c>).</summary>
    public int Count
    {
        get
        {
            var n = 0;
            foreach (var w in _words)
            {
                n += BitOperations.PopCount(w);
            }

            return n;
        }
    }

    /// <summary>True when no CPU is set.</summary>
    public bool IsEmpty => Array.TrueForAll(_words, w => w == 0);

    /// <summary>The empty mask of <paramref name="nbits"/> bits.</summary>
    public static CpuMask Empty(int nbits) => new(CheckBits(nbits), new ulong[WordsFor(nbits)]);

    /// <summary>Every CPU of <paramref name="nbits"/> set.</summary>
    public static CpuMask Full(int nbits) => Range(nbits, 0, nbits - 1);

    /// <summary>Exactly one CPU set.</summary>
    public static CpuMask Single(int nbits, int cpu) => Empty(nbits).With(cpu);

    /// <summary>CPUs <paramref name="first"/> to <paramref name="last"/> inclusive; empty when last &lt; first.</summary>
    public static CpuMask Range(int nbits, int first, int last)
    {
        var b = new Builder(nbits);
        for (var c = first; c <= last; c++)
        {
            b.Set(c);
        }

        return b.ToMask();
    }

    /// <summary>The mask of the given CPUs.</summary>
    public static CpuMask Of(int nbits, params int[] cpus)
    {
        var b = new Builder(nbits);
        foreach (var c in cpus)
        {
            b.Set(c);
        }

        return b.ToMask();
    }

    /// <summary>Whether <paramref name="cpu"/> is set; CPUs outside the mask are not.</summary>
    public bool Test(int cpu) =>
        cpu >= 0 && cpu < NBits && (_words[cpu >> 6] & (1UL << (cpu & 63))) != 0;

    /// <summary>This mask with <paramref name="cpu"/> set.</summary>
    public CpuMask With(int cpu)
    {
        CheckCpu(cpu);
        var w = (ulong[])_words.Clone();
        w[cpu >> 6] |= 1UL << (cpu & 63);
        return new CpuMask(NBits, w);
    }

    /// <summary>This mask with <paramref name="cpu"/> clear.</summary>
    public CpuMask Without(int cpu)
    {
        CheckCpu(cpu);
        var w = (ulong[])_words.Clone();
        w[cpu >> 6] &= ~(1UL << (cpu & 63));
        return new CpuMask(NBits, w);
    }

    /// <summary>Union (<c>cpumask_or</c>). Both masks must be the same size.</summary>
    public CpuMask Or(CpuMask other) => Combine(other, static (a, b) => a | b);

    /// <summary>Intersection (<c>cpumask_and</c>).</summary>
    public CpuMask And(CpuMask other) => Combine(other, static (a, b) => a & b);

    /// <summary>Difference (<c>cpumask_andnot</c>).</summary>
    public CpuMask AndNot(CpuMask other) => Combine(other, static (a, b) => a & ~b);

    /// <summary>Whether the two masks share a CPU (<c>cpumask_intersects</c>).</summary>
    public bool Intersects(CpuMask other) => !And(other).IsEmpty;

    /// <summary>Whether every CPU of this mask is in <paramref name="other"/> (<c>cpumask_subset</c>).</summary>
    public bool IsSubsetOf(CpuMask other) => AndNot(other).IsEmpty;

    /// <summary>The lowest CPU set, or -1 (the kernel's <c>cpumask_first</c> returns nbits instead).</summary>
    public int First()
    {
        for (var i = 0; i < _words.Length; i++)
        {
            if (_words[i] != 0)
            {
                return (i << 6) + BitOperations.TrailingZeroCount(_words[i]);
            }
        }

        return -1;
    }

    /// <summary>The same bits in a mask of another size; bits past the new size are dropped.</summary>
    public CpuMask Resize(int nbits)
    {
        var b = new Builder(nbits);
        foreach (var c in this)
        {
            if (c < nbits)
            {
                b.Set(c);
            }
        }

        return b.ToMask();
    }

    /// <summary>The 64-bit words, least significant first (bit <c>i</c> of word <c>j</c> is CPU <c>64j+i</c>).</summary>
    public ReadOnlySpan<ulong> Words => _words;

    /// <summary>The kernel's <c>%*pbl</c> form: ascending, comma-separated maximal runs; empty set → "".</summary>
    public string ToList()
    {
        var sb = new StringBuilder();
        var cpu = NextSet(0);
        while (cpu >= 0)
        {
            var end = cpu;
            while (end + 1 < NBits && Test(end + 1))
            {
                end++;
            }

            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(cpu);
            if (end > cpu)
            {
                sb.Append('-').Append(end);
            }

            cpu = end + 1 < NBits ? NextSet(end + 1) : -1;
        }

        return sb.ToString();
    }

    /// <summary>
    /// The kernel's <c>%*pb</c> form: 32-bit words, most significant first, comma-separated; each word is 8 hex
    /// digits except the most significant, which has just enough digits for its bits (as <c>bitmap_print_to_pagebuf</c>).
    /// </summary>
    public string ToHex()
    {
        var chunks = (NBits + 31) / 32;
        if (chunks == 0)
        {
            return string.Empty;
        }

        var sb = new StringBuilder();
        for (var k = chunks - 1; k >= 0; k--)
        {
            var word = (uint)(_words[k >> 1] >> ((k & 1) * 32));
            int digits;
            if (k == chunks - 1)
            {
                var bitsInTop = NBits - (k * 32);
                digits = (bitsInTop + 3) / 4;
            }
            else
            {
                digits = 8;
            }

            sb.Append(word.ToString("x" + digits, System.Globalization.CultureInfo.InvariantCulture));
            if (k > 0)
            {
                sb.Append(',');
            }
        }

        return sb.ToString();
    }

    /// <summary>The list form (<see cref="ToList"/>).</summary>
    public override string ToString() => ToList();

    /// <inheritdoc />
    public bool Equals(CpuMask? other) =>
        other is not null && other.NBits == NBits && _words.AsSpan().SequenceEqual(other._words);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as CpuMask);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(NBits);
        foreach (var w in _words)
        {
            h.Add(w);
        }

        return h.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(CpuMask? a, CpuMask? b) => a is null ? b is null : a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(CpuMask? a, CpuMask? b) => !(a == b);

    /// <summary>The CPUs set, ascending.</summary>
    public IEnumerator<int> GetEnumerator()
    {
        var cpu = NextSet(0);
        while (cpu >= 0)
        {
            yield return cpu;
            cpu = cpu + 1 < NBits ? NextSet(cpu + 1) : -1;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The lowest CPU set at or after <paramref name="from"/>, or -1.</summary>
    public int NextSet(int from)
    {
        if (from < 0)
        {
            from = 0;
        }

        if (from >= NBits)
        {
            return -1;
        }

        var i = from >> 6;
        var w = _words[i] & (ulong.MaxValue << (from & 63));
        while (true)
        {
            if (w != 0)
            {
                var c = (i << 6) + BitOperations.TrailingZeroCount(w);
                return c < NBits ? c : -1;
            }

            if (++i >= _words.Length)
            {
                return -1;
            }

            w = _words[i];
        }
    }

    private CpuMask Combine(CpuMask other, Func<ulong, ulong, ulong> op)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.NBits != NBits)
        {
            throw new ArgumentException($"mask sizes differ: {NBits} and {other.NBits} bits", nameof(other));
        }

        var w = new ulong[_words.Length];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = op(_words[i], other._words[i]);
        }

        return new CpuMask(NBits, w);
    }

    private void CheckCpu(int cpu)
    {
        if (cpu < 0 || cpu >= NBits)
        {
            throw new ArgumentOutOfRangeException(nameof(cpu), cpu, $"CPU outside a mask of {NBits} bits");
        }
    }

    private static int WordsFor(int nbits) => (nbits + 63) / 64;

    private static int CheckBits(int nbits)
    {
        if (nbits < 0 || nbits > MaxBits)
        {
            throw new ArgumentOutOfRangeException(nameof(nbits), nbits, $"a mask has 0 to {MaxBits} bits");
        }

        return nbits;
    }

    /// <summary>A mutable mask under construction, as the parser fills it region by region.</summary>
    public sealed class Builder
    {
        private readonly ulong[] _words;

        /// <summary>An empty builder of <paramref name="nbits"/> bits.</summary>
        public Builder(int nbits)
        {
            NBits = CheckBits(nbits);
            _words = new ulong[WordsFor(nbits)];
        }

        /// <summary>Number of bits.</summary>
        public int NBits { get; }

        /// <summary>Set one CPU.</summary>
        public Builder Set(int cpu)
        {
            if (cpu < 0 || cpu >= NBits)
            {
                throw new ArgumentOutOfRangeException(nameof(cpu), cpu, $"CPU outside a mask of {NBits} bits");
            }

            _words[cpu >> 6] |= 1UL << (cpu & 63);
            return this;
        }

        /// <summary>Clear every bit (the parser zeroes the mask first).</summary>
        public Builder Clear()
        {
            Array.Clear(_words);
            return this;
        }

        /// <summary>An immutable snapshot of the bits set so far.</summary>
        public CpuMask ToMask() => new(NBits, (ulong[])_words.Clone());
    }
}
