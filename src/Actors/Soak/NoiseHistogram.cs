namespace TaskIsolation.Actors.Soak;

/// <summary>
/// Single-noise durations of one CPU in 1 us buckets, as <c>rtla osnoise hist</c> keeps them (default bucket size 1,
/// <c>--entries</c> buckets, longer ones counted as <c>over</c>): a fixed array however long the soak runs.
/// </summary>
public sealed class NoiseHistogram
{
    private readonly long[] _buckets;

    /// <summary>A histogram of <paramref name="entries"/> 1 us buckets.</summary>
    public NoiseHistogram(int entries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(entries, 1);
        _buckets = new long[entries];
    }

    /// <summary>Number of buckets.</summary>
    public int Entries => _buckets.Length;

    /// <summary>Samples at least <see cref="Entries"/> us long.</summary>
    public long Over { get; private set; }

    /// <summary>Samples recorded.</summary>
    public long Count { get; private set; }

    /// <summary>Shortest sample, in ns (0 when none).</summary>
    public long MinNs { get; private set; }

    /// <summary>Longest sample, in ns.</summary>
    public long MaxNs { get; private set; }

    /// <summary>Sum of all samples, in ns.</summary>
    public long SumNs { get; private set; }

    /// <summary>Samples in bucket <paramref name="us"/> (durations of [us, us+1) microseconds).</summary>
    public long this[int us] => _buckets[us];

    /// <summary>Records one noise of <paramref name="ns"/>.</summary>
    public void Add(long ns)
    {
        // rtla buckets by whole microseconds, truncating (osnoise_hist_update_multiple: duration / bucket_size).
        var us = ns / 1_000;
        if (us >= _buckets.Length)
        {
            Over++;
        }
        else
        {
            _buckets[us]++;
        }

        MinNs = Count == 0 ? ns : Math.Min(MinNs, ns);
        MaxNs = Math.Max(MaxNs, ns);
        SumNs += ns;
        Count++;
    }

    /// <summary>A copy, for a snapshot.</summary>
    public NoiseHistogram Clone()
    {
        var c = new NoiseHistogram(_buckets.Length) { Over = Over, Count = Count, MinNs = MinNs, MaxNs = MaxNs, SumNs = SumNs };
        Array.Copy(_buckets, c._buckets, _buckets.Length);
        return c;
    }
}
