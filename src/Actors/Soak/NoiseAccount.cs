using TaskIsolation.Actors.Events;
using TaskIsolation.Actors.Kernel;
using TaskIsolation.Machine.Abi;

namespace TaskIsolation.Actors.Soak;

/// <summary>What kind of interference a noise was, as <c>rtla osnoise</c> counts them.</summary>
public enum NoiseClass
{
    /// <summary>Hardware noise (SMIs and the like): the model has none, the column stays for the familiar layout.</summary>
    Hw,

    /// <summary>A non-maskable interrupt.</summary>
    Nmi,

    /// <summary>A hard interrupt: local timer, IPI, device IRQ.</summary>
    Irq,

    /// <summary>A softirq (the model runs none separately; kept for the layout).</summary>
    Softirq,

    /// <summary>Another thread ran on the CPU: a kworker's work item.</summary>
    Thread,
}

/// <summary>One CPU's noise so far: counters and a histogram, never a list.</summary>
public sealed class CpuNoise
{
    private readonly long[] _counts = new long[5];
    private long _period = -1;
    private long _periodNoiseNs;

    /// <summary>A CPU's account with a histogram of <paramref name="entries"/> buckets.</summary>
    public CpuNoise(int cpu, int entries)
    {
        Cpu = cpu;
        Histogram = new NoiseHistogram(entries);
    }

    /// <summary>The CPU.</summary>
    public int Cpu { get; }

    /// <summary>Total noise, in ns.</summary>
    public long NoiseNs { get; private set; }

    /// <summary>Longest single noise, in ns.</summary>
    public long MaxSingleNs { get; private set; }

    /// <summary>Most noise within one osnoise period (1 s of simulated time), in ns.</summary>
    public long MaxPeriodNoiseNs { get; private set; }

    /// <summary>Single-noise durations.</summary>
    public NoiseHistogram Histogram { get; private set; }

    /// <summary>Interferences of <paramref name="c"/> so far.</summary>
    public long Count(NoiseClass c) => _counts[(int)c];

    /// <summary>Records one noise of <paramref name="ns"/> that began at <paramref name="atNs"/>.</summary>
    public void Add(NoiseClass c, long atNs, long ns)
    {
        _counts[(int)c]++;
        NoiseNs += ns;
        MaxSingleNs = Math.Max(MaxSingleNs, ns);
        var period = atNs / NoiseAccount.PeriodNs;
        if (period != _period)
        {
            _period = period;
            _periodNoiseNs = 0;
        }

        _periodNoiseNs += ns;
        MaxPeriodNoiseNs = Math.Max(MaxPeriodNoiseNs, _periodNoiseNs);
        Histogram.Add(ns);
    }

    /// <summary>A copy, for a snapshot.</summary>
    public CpuNoise Clone()
    {
        var c = new CpuNoise(Cpu, 1)
        {
            NoiseNs = NoiseNs,
            MaxSingleNs = MaxSingleNs,
            MaxPeriodNoiseNs = MaxPeriodNoiseNs,
            Histogram = Histogram.Clone(),
            _period = _period,
            _periodNoiseNs = _periodNoiseNs,
        };
        Array.Copy(_counts, c._counts, _counts.Length);
        return c;
    }
}

/// <summary>
/// Streaming noise accounting per CPU in the manner of <c>rtla osnoise</c>: each interrupt taken is one IRQ (or NMI)
/// interference lasting its handler, each kworker work item one thread interference lasting from its context switch
/// to its end. It sees events one at a time and keeps counters, so its size does not grow with the run.
/// </summary>
public sealed class NoiseAccount
{
    /// <summary>The osnoise period (its default, 1 s) over which <see cref="CpuNoise.MaxPeriodNoiseNs"/> is taken.</summary>
    public const long PeriodNs = 1_000_000_000;

    private readonly ModelTimings _timings;
    private readonly CpuNoise[] _cpus;
    private readonly (long Id, long Time)[] _lastSwitch;

    /// <summary>Accounts for <paramref name="nrCpus"/> CPUs whose handlers cost what <paramref name="timings"/> says.</summary>
    public NoiseAccount(int nrCpus, ModelTimings timings, int histogramEntries)
    {
        _timings = timings;
        _cpus = [.. Enumerable.Range(0, nrCpus).Select(c => new CpuNoise(c, histogramEntries))];
        _lastSwitch = new (long, long)[nrCpus];
    }

    /// <summary>The CPUs' accounts.</summary>
    public IReadOnlyList<CpuNoise> Cpus => _cpus;

    /// <summary>Accounts for <paramref name="e"/> if it is noise.</summary>
    public void Observe(MachineEvent e)
    {
        if ((uint)e.Cpu >= (uint)_cpus.Length)
        {
            return;
        }

        switch (e)
        {
            case InterruptTaken { Kind: not InterruptKind.PageFault } t:
                _cpus[t.Cpu].Add(t.Kind == InterruptKind.Nmi ? NoiseClass.Nmi : NoiseClass.Irq, t.Time, HandlerNs(t.Kind));
                break;
            case ContextSwitched s:
                _lastSwitch[s.Cpu] = (s.Id, s.Time);
                break;
            case WorkExecuted w when _lastSwitch[w.Cpu].Id == w.Cause:
                var began = _lastSwitch[w.Cpu].Time;
                _cpus[w.Cpu].Add(NoiseClass.Thread, began, w.Time - began);
                break;
        }
    }

    /// <summary>Copies of every CPU's account.</summary>
    public CpuNoise[] Capture() => [.. _cpus.Select(c => c.Clone())];

    // The handler costs of CpuActor.HandlerCost (the CPU spends exactly this long in the handler).
    private long HandlerNs(InterruptKind kind) => kind switch
    {
        InterruptKind.Tick or InterruptKind.ResidualTick or InterruptKind.StaleTimer => _timings.TickHandlerNs,
        InterruptKind.DeviceIrq => _timings.DeviceIrqHandlerNs,
        InterruptKind.Nmi => _timings.NmiHandlerNs,
        InterruptKind.CallFunctionIpi => _timings.IpiHandlerNs + _timings.TlbFlushNs,
        _ => _timings.IpiHandlerNs,
    };
}
