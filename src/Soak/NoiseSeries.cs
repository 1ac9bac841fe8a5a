using System.Collections.Immutable;
using TaskIsolation.Reports;

namespace TaskIsolation.Soak;

/// <summary>Noise of every CPU over one interval of simulated time: a point of the noise-over-time picture.</summary>
/// <param name="StartNs">Interval start.</param>
/// <param name="EndNs">Interval end.</param>
/// <param name="NoiseNs">Noise per CPU within the interval, in ns.</param>
/// <param name="RuntimeNs">Measured time per CPU within the interval, in ns (0 for a CPU not measured).</param>
public sealed record SeriesPoint(long StartNs, long EndNs, ImmutableArray<long> NoiseNs, ImmutableArray<long> RuntimeNs)
{
    /// <summary>The noise share of <paramref name="cpu"/> within the interval, by the one definition (<see cref="NoiseShare"/>).</summary>
    public NoiseShare Share(int cpu) => new(RuntimeNs[cpu], NoiseNs[cpu]);
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
    private long[] _lastNoise = [];
    private long[] _lastRuntime = [];

    /// <summary>A series of at most <paramref name="capacity"/> points (2 or more).</summary>
    public NoiseSeries(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        _capacity = capacity;
    }

    /// <summary>The points so far, oldest first.</summary>
    public ImmutableArray<SeriesPoint> Points => [.. _points];

    /// <summary>Closes the interval ending at <paramref name="nowNs"/> given each CPU's figures then (<see cref="NoiseAccountant.Snapshot"/>).</summary>
    public void Close(long nowNs, IReadOnlyList<CpuNoise> cpus)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        if (nowNs <= _lastNs)
        {
            return;
        }

        if (_lastNoise.Length != cpus.Count)
        {
            _lastNoise = new long[cpus.Count];
            _lastRuntime = new long[cpus.Count];
        }

        var noise = ImmutableArray.CreateBuilder<long>(cpus.Count);
        var runtime = ImmutableArray.CreateBuilder<long>(cpus.Count);
        for (var c = 0; c < cpus.Count; c++)
        {
            noise.Add(cpus[c].NoiseNs - _lastNoise[c]);
            runtime.Add(cpus[c].RuntimeNs - _lastRuntime[c]);
            _lastNoise[c] = cpus[c].NoiseNs;
            _lastRuntime[c] = cpus[c].RuntimeNs;
        }

        _points.Add(new SeriesPoint(_lastNs, nowNs, noise.MoveToImmutable(), runtime.MoveToImmutable()));
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
            merged.Add(new SeriesPoint(a.StartNs, b.EndNs, [.. a.NoiseNs.Zip(b.NoiseNs, (x, y) => x + y)], [.. a.RuntimeNs.Zip(b.RuntimeNs, (x, y) => x + y)]));
        }

        _points.Clear();
        _points.AddRange(merged);
    }
}
