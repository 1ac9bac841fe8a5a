using System.Globalization;
using HdrHistogram;
using HdrHistogram.Utilities;

namespace TaskIsolation.Reports;

/// <summary>
/// The single-noise durations of one CPU as an HdrHistogram (the .NET port of Gil Tene's High Dynamic Range
/// histogram): every duration from 1 ns to an hour kept to three significant digits in a fixed, bounded array, so the
/// tail (p99.9, the maximum) is as exact as the median however long the run, and two histograms merge by adding. The
/// percentiles of the HTML report (docs/reports.md) and of the soak's <c>snapshot.json</c> come from here; the
/// compressed encoding (<see cref="Encode"/>, base64 in the snapshot) gives the histogram back whole
/// (<see cref="Decode"/>).
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>The longest duration kept apart, one hour; longer ones count as this.</summary>
    public const long HighestNs = 3_600_000_000_000;

    /// <summary>Significant decimal digits every duration is kept to.</summary>
    public const int Digits = 3;

    /// <summary>The percentiles the reports show, in order: p50, p90, p99, p99.9 (the maximum is <see cref="MaxNs"/>).</summary>
    public static readonly IReadOnlyList<double> ReportedPercentiles = [50, 90, 99, 99.9];

    private readonly LongHistogram _h;

    /// <summary>An empty histogram.</summary>
    public LatencyHistogram()
        : this(new LongHistogram(1, HighestNs, Digits))
    {
    }

    private LatencyHistogram(LongHistogram h) => _h = h;

    /// <summary>Durations recorded.</summary>
    public long Count => _h.TotalCount;

    /// <summary>The longest duration recorded, in ns (to the histogram's precision: within 0.1 %); 0 when empty.</summary>
    public long MaxNs => Count == 0 ? 0 : _h.GetMaxValue();

    /// <summary>Records one duration of <paramref name="ns"/> nanoseconds (at least 1, at most <see cref="HighestNs"/>).</summary>
    public void Record(long ns) => _h.RecordValue(Math.Clamp(ns, 1, HighestNs));

    /// <summary>Adds every duration of <paramref name="other"/>.</summary>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _h.Add(other._h);
    }

    /// <summary>A copy, for a snapshot that must not change as the run goes on.</summary>
    public LatencyHistogram Clone() => new((LongHistogram)_h.Copy());

    /// <summary>The duration, in ns, at or below which <paramref name="percentile"/> % of the durations are (0 when empty).</summary>
    public long AtPercentile(double percentile) => Count == 0 ? 0 : _h.HighestEquivalentValue(_h.GetValueAtPercentile(percentile));

    /// <summary>
    /// The durations in log-scaled buckets of 1, 2 and 5 times a power of ten nanoseconds (<c>[1 us, 2 us)</c>,
    /// <c>[2 us, 5 us)</c>, …), from the bucket of the shortest to that of the longest, empty ones included: the tail
    /// has buckets of its own, with no overflow bucket.
    /// </summary>
    public IReadOnlyList<(long FromNs, long ToNs, long Count)> LogBuckets()
    {
        var counts = new SortedDictionary<long, long>();
        foreach (var v in _h.RecordedValues())
        {
            var from = LogFloor(_h.LowestEquivalentValue(v.ValueIteratedTo));
            counts[from] = counts.GetValueOrDefault(from) + v.CountAddedInThisIterationStep;
        }

        var list = new List<(long, long, long)>();
        if (counts.Count == 0)
        {
            return list;
        }

        var last = counts.Keys.Last();
        for (var b = counts.Keys.First(); b <= last; b = LogNext(b))
        {
            list.Add((b, LogNext(b), counts.GetValueOrDefault(b)));
        }

        return list;
    }

    /// <summary>The compressed HdrHistogram encoding (V2, DEFLATE), as HdrHistogram's other ports read it.</summary>
    public byte[] Encode()
    {
        var buffer = ByteBuffer.Allocate(_h.GetNeededByteBufferCapacity());
        var length = _h.EncodeIntoCompressedByteBuffer(buffer);
        buffer.Position = 0;
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = buffer.Get();
        }

        return bytes;
    }

    /// <summary>The histogram <see cref="Encode"/> wrote.</summary>
    /// <exception cref="FormatException">The bytes are not such an encoding.</exception>
    public static LatencyHistogram Decode(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            var decoded = HistogramEncoding.DecodeFromCompressedByteBuffer(ByteBuffer.Allocate(bytes), 0);
            var h = new LatencyHistogram();
            h._h.Add(decoded);
            return h;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new FormatException("not a compressed HdrHistogram encoding: " + ex.Message, ex);
        }
    }

    /// <summary>The bucket lower bound of <paramref name="ns"/>: the largest 1, 2 or 5 times a power of ten not above it.</summary>
    public static long LogFloor(long ns)
    {
        if (ns < 1)
        {
            return 1;
        }

        long p = 1;
        while (p <= ns / 10)
        {
            p *= 10;
        }

        return ns >= 5 * p ? 5 * p : ns >= 2 * p ? 2 * p : p;
    }

    /// <summary>The next bucket bound after <paramref name="bound"/> (1 → 2 → 5 → 10 …).</summary>
    public static long LogNext(long bound)
    {
        var p = 1L;
        while (p * 10 <= bound)
        {
            p *= 10;
        }

        return (bound / p) switch
        {
            1 => 2 * p,
            2 => 5 * p,
            _ => 10 * p,
        };
    }

    /// <summary><c>p50 1.2 us, p90 …, max …</c>: the percentiles as one line.</summary>
    public string Describe() => Count == 0
        ? "no noise"
        : string.Join(", ", ReportedPercentiles.Select(p => string.Create(CultureInfo.InvariantCulture, $"p{p} {DurationText.Short(AtPercentile(p))}")).Append("max " + DurationText.Short(MaxNs)));
}

/// <summary>Durations for people: three significant digits in the unit that fits (<c>850 ns</c>, <c>12.3 us</c>, <c>4.56 ms</c>, <c>1.2 s</c>).</summary>
public static class DurationText
{
    /// <summary><paramref name="ns"/> in ns, us, ms or s with three significant digits at most; <paramref name="micro"/> names the microsecond (<c>us</c>, or <c>µs</c> where the text may be Unicode).</summary>
    public static string Short(long ns, string micro = "us")
    {
        var (value, unit) = ns switch
        {
            < 1_000 => (ns, "ns"),
            < 1_000_000 => (ns / 1e3, micro),
            < 1_000_000_000 => (ns / 1e6, "ms"),
            _ => (ns / 1e9, "s"),
        };
        var digits = value >= 100 ? "0" : value >= 10 ? "0.#" : "0.##";
        return value.ToString(digits, CultureInfo.InvariantCulture) + " " + unit;
    }
}
