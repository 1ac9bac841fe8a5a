namespace TaskIsolation.Reports;

/// <summary>
/// A histogram of single-noise durations in the manner of <c>rtla osnoise hist</c>: buckets of one microsecond
/// (bucket <c>i</c> holds durations in <c>[i, i+1)</c> us) and one overflow bucket for everything from
/// <see cref="Buckets"/> us up. Fixed size whatever the run's length; two histograms of the same size merge by adding.
/// </summary>
public sealed class NoiseHistogram
{
    /// <summary>rtla's default number of entries.</summary>
    public const int DefaultBuckets = 256;

    private readonly long[] _counts;

    /// <summary>An empty histogram of <paramref name="buckets"/> one-microsecond buckets plus overflow.</summary>
    public NoiseHistogram(int buckets = DefaultBuckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        _counts = new long[buckets];
    }

    /// <summary>Number of one-microsecond buckets (the overflow bucket not counted).</summary>
    public int Buckets => _counts.Length;

    /// <summary>Samples of at least <see cref="Buckets"/> us.</summary>
    public long Overflow { get; private set; }

    /// <summary>All samples.</summary>
    public long Count { get; private set; }

    /// <summary>Sum of all samples, in nanoseconds.</summary>
    public long TotalNs { get; private set; }

    /// <summary>The smallest sample in nanoseconds (0 when empty).</summary>
    public long MinNs { get; private set; }

    /// <summary>The largest sample in nanoseconds (0 when empty).</summary>
    public long MaxNs { get; private set; }

    /// <summary>Samples in bucket <paramref name="us"/> (durations of <c>us</c> to <c>us+1</c> microseconds).</summary>
    public long this[int us] => _counts[us];

    /// <summary>Adds one noise of <paramref name="ns"/> nanoseconds.</summary>
    public void Add(long ns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ns);
        var us = ns / 1000;
        if (us >= _counts.Length)
        {
            Overflow++;
        }
        else
        {
            _counts[us]++;
        }

        MinNs = Count == 0 ? ns : Math.Min(MinNs, ns);
        MaxNs = Math.Max(MaxNs, ns);
        Count++;
        TotalNs += ns;
    }

    /// <summary>Adds every sample of <paramref name="other"/> (same number of buckets) to this one.</summary>
    public void Merge(NoiseHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Buckets != Buckets)
        {
            throw new ArgumentException($"cannot merge a histogram of {other.Buckets} buckets into one of {Buckets}", nameof(other));
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        if (other.Count > 0)
        {
            MinNs = Count == 0 ? other.MinNs : Math.Min(MinNs, other.MinNs);
            MaxNs = Math.Max(MaxNs, other.MaxNs);
        }

        Overflow += other.Overflow;
        Count += other.Count;
        TotalNs += other.TotalNs;
    }

    /// <summary>A copy, for a snapshot that must not change as the run goes on.</summary>
    public NoiseHistogram Clone()
    {
        var c = new NoiseHistogram(Buckets);
        c.Merge(this);
        return c;
    }

    /// <summary>The non-empty buckets in order, as (lower bound in us, count); the overflow bucket is not included.</summary>
    public IEnumerable<(int Us, long Count)> NonEmpty()
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0)
            {
                yield return (i, _counts[i]);
            }
        }
    }
}
