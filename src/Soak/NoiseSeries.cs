using System.Collections.Immutable;
using TaskIsolation.Reports;

namespace TaskIsolation.Soak;

/// <summary>Noise of every CPU over one interval of simulated time: a point of the noise-over-time picture.</summary>
/// <param name="StartNs">Interval start.</param>
/// <param name="EndNs">Interval end.</param>
/// <param name="NoiseNs">Noise per CPU within the interval, in ns.</param>
public sealed record SeriesPoint(long StartNs, long EndNs, ImmutableArray<long> NoiseNs)
{
    /// <summary>Noise of <paramref name="cpu"/> as a percentage of the interval.</summary>
    public double Percent(int cpu) => EndNs > StartNs ? 100.0 * NoiseNs[cpu] / (EndNs - StartNs) : 0;
}

/// <summary>
/// Noise over time, one point per snapshot interval. However long the soak, it keeps at most a fixed number of
/// points: when full, neighbouring points are merged in pairs, so the picture covers the whole run at a coarser step.
/// </summary>
public sealed class NoiseSeries
{
    private readonly int _capacity;
    private readonly List<SeriesPoint> _points = [];
    private long _lastNs;
    private long[] _lastTotals = [];

    /// <summary>A series of at most <paramref name="capacity"/> points (2 or more).</summary>
    public NoiseSeries(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        _capacity = capacity;
    }

    /// <summary>The points so far, oldest first.</summary>
    public ImmutableArray<SeriesPoint> Points => [.. _points];

    /// <summary>Closes the interval ending at <paramref name="nowNs"/> given each CPU's total noise then.</summary>
    public void Close(long nowNs, IReadOnlyList<CpuNoise> cpus)
    {
        if (nowNs <= _lastNs)
        {
            return;
        }

        if (_lastTotals.Length != cpus.Count)
        {
            _lastTotals = new long[cpus.Count];
        }

        var delta = ImmutableArray.CreateBuilder<long>(cpus.Count);
        for (var c = 0; c < cpus.Count; c++)
        {
            delta.Add(cpus[c].NoiseNs - _lastTotals[c]);
            _lastTotals[c] = cpus[c].NoiseNs;
        }

        _points.Add(new SeriesPoint(_lastNs, nowNs, delta.MoveToImmutable()));
        _lastNs = nowNs;
        if (_points.Count > _capacity)
        {
            Halve();
        }
    }

    private void Halve()
    {
        var merged = new List<SeriesPoint>((_points.Count + 1) / 2);
        for (var i = 0; i < _points.Count; i += 2)
        {
            if (i + 1 == _points.Count)
            {
                merged.Add(_points[i]);
                break;
            }

            var a = _points[i];
            var b = _points[i + 1];
            merged.Add(new SeriesPoint(a.StartNs, b.EndNs, [.. a.NoiseNs.Zip(b.NoiseNs, (x, y) => x + y)]));
        }

        _points.Clear();
        _points.AddRange(merged);
    }
}
