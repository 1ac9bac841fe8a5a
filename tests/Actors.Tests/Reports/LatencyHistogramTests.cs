using Akka.TestKit.Xunit2;
using TaskIsolation.Reports;
using TaskIsolation.Simulation;

namespace TaskIsolation.Actors.Tests.Reports;

/// <summary>The HdrHistogram of single noises: percentiles that keep the tail, log buckets without overflow, an encoding that round-trips.</summary>
public sealed class LatencyHistogramTests() : TestKit(SimulationConfig.Hocon)
{
    [Fact]
    public void Percentiles_keep_the_tail_to_three_significant_digits()
    {
        var h = new LatencyHistogram();
        for (var i = 1; i <= 1000; i++)
        {
            h.Record(i * 1000L);
        }

        h.Record(3_000_000_000); // one noise of 3 s: far past rtla's 256 us histogram
        Assert.Equal(1001, h.Count);
        // Each is the highest value of its HdrHistogram bucket: within 0.1 % above the exact one.
        Assert.InRange(h.AtPercentile(50), 500_000, 501_500);
        Assert.InRange(h.AtPercentile(99), 990_000, 991_500);
        Assert.InRange(h.AtPercentile(99.9), 999_000, 1_001_000);
        Assert.InRange(h.MaxNs, 2_997_000_000, 3_003_000_000);
    }

    [Fact]
    public void Log_buckets_go_in_1_2_5_steps_and_give_the_tail_a_bucket_of_its_own()
    {
        var h = new LatencyHistogram();
        h.Record(1_500);
        h.Record(1_700);
        h.Record(7_000_000);
        var buckets = h.LogBuckets();
        Assert.Equal((1_000L, 2_000L, 2L), buckets[0]);
        Assert.Equal((5_000_000L, 10_000_000L, 1L), buckets[^1]);
        Assert.Equal(3, buckets.Sum(b => b.Count));
        Assert.All(buckets.Zip(buckets.Skip(1)), p => Assert.Equal(p.First.ToNs, p.Second.FromNs));
        Assert.Equal([1_000L, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000], buckets.Select(b => b.FromNs));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(9, 5)]
    [InlineData(1_999, 1_000)]
    [InlineData(2_000, 2_000)]
    [InlineData(49_999, 20_000)]
    [InlineData(50_000, 50_000)]
    public void LogFloor_is_the_largest_1_2_5_bound_not_above(long ns, long floor) => Assert.Equal(floor, LatencyHistogram.LogFloor(ns));

    [Fact]
    public void The_compressed_encoding_gives_the_same_histogram_back()
    {
        var h = new LatencyHistogram();
        foreach (var ns in new long[] { 800, 2_300, 2_300, 45_000, 1_200_000_000 })
        {
            h.Record(ns);
        }

        var back = LatencyHistogram.Decode(h.Encode());
        Assert.Equal(h.Count, back.Count);
        Assert.Equal(h.MaxNs, back.MaxNs);
        foreach (var p in LatencyHistogram.ReportedPercentiles)
        {
            Assert.Equal(h.AtPercentile(p), back.AtPercentile(p));
        }

        Assert.Throws<FormatException>(() => LatencyHistogram.Decode([1, 2, 3]));
    }

    [Fact]
    public void The_accountant_tells_each_single_noise_as_it_ends_and_keeps_its_percentiles()
    {
        var m = ReportRuns.Shootdown(Sys);
        var seen = new List<SingleNoise>();
        var noise = new NoiseAccountant(m.Booted.NrCpus, m.Options.Timings, latency: true) { NoiseEnded = seen.Add };
        RunObservers.Replay(m.Recorder.Events, m.Now, noise);
        var cpus = noise.Cpus;
        for (var c = 0; c < m.Booted.NrCpus; c++)
        {
            Assert.Equal(cpus[c].Noises, noise.Latency(c).Count);
            Assert.Equal(cpus[c].Noises, seen.Count(n => n.Cpu == c));
            Assert.Equal(cpus[c].NoiseNs, seen.Where(n => n.Cpu == c).Sum(n => n.Ns));
        }

        Assert.Contains(seen, n => n.Ns > 0);
    }
}
