using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Reports;

/// <summary>
/// One CPU's noise figures in the manner of <c>rtla osnoise top</c> (docs/model.md §11). See docs/reports.md for the
/// exact definitions.
/// </summary>
/// <param name="Cpu">The CPU.</param>
/// <param name="Measured">Whether the CPU was measured: selected, with a runtime above 0. When false every figure is 0 and there is no percentage.</param>
/// <param name="Periods">Measurement periods covered (rtla's <c>Period</c> column, <c>#N</c>), the last one possibly partial.</param>
/// <param name="RuntimeNs">The measured time: from the end of the warm-up to now. The measuring workload samples all of it.</param>
/// <param name="NoiseNs">The part of <paramref name="RuntimeNs"/> the workload was kept from the CPU: the sum of the single noises (one still going on counts up to now).</param>
/// <param name="MaxNoiseNs">The most noise within one period (rtla's <c>Max Noise</c>).</param>
/// <param name="MaxSingleNs">The longest single noise (rtla's <c>Max Single</c>).</param>
/// <param name="Hw">Hardware noise: a gap with no traced cause. The model has none, so always 0.</param>
/// <param name="Nmi">NMIs taken.</param>
/// <param name="Irq">Other interrupts taken: ticks, IPIs, irq_work, device interrupts.</param>
/// <param name="Softirq">Softirqs run. The model runs no softirq context, so always 0.</param>
/// <param name="Thread">Threads switched in that are not the measuring workload: kworkers and other tasks.</param>
/// <param name="Noises">Single noises that have ended (the histogram's count).</param>
public sealed record CpuNoise(
    int Cpu,
    bool Measured,
    long Periods,
    long RuntimeNs,
    long NoiseNs,
    long MaxNoiseNs,
    long MaxSingleNs,
    long Hw,
    long Nmi,
    long Irq,
    long Softirq,
    long Thread,
    long Noises)
{
    /// <summary>The noise share and <c>% CPU Aval</c>, by the one definition of <see cref="NoiseShare"/>.</summary>
    public NoiseShare Share => new(RuntimeNs, NoiseNs);
}

/// <summary>One single noise as it ended: the CPU, and when it started (the warm-up's end at the earliest) and ended.</summary>
/// <param name="Cpu">The CPU.</param>
/// <param name="StartNs">Its start.</param>
/// <param name="EndNs">Its end.</param>
public readonly record struct SingleNoise(int Cpu, long StartNs, long EndNs)
{
    /// <summary>Its length.</summary>
    public long Ns => EndNs - StartNs;
}

/// <summary>
/// Streaming noise accounting in the manner of <c>rtla osnoise</c> (docs/reports.md): on every selected CPU a
/// measuring workload runs for the whole measurement, and every moment something else has the CPU is noise, split
/// into single noises (from the first interference until the workload has the CPU again), each interference counted
/// by its kind from the events' typed fields: NMI and IRQ by <see cref="InterruptSource.Kind"/>, Thread by a
/// <see cref="ContextSwitched"/> to a thread that is not the workload.
/// <para>
/// The workload of a CPU is the virtual osnoise thread, which runs whenever the CPU would otherwise be idle and changes
/// nothing in the model; once a task enables isolation there (its <c>PR_SET_TASK_ISOLATION</c> with
/// <c>ENABLE</c> returns 0, or it starts a return to user isolated), that task is the workload instead, until it exits
/// or leaves the CPU: its own user code and its own system calls are its time, and what interrupts it, the exit path
/// after an interrupt in user mode up to its <see cref="ReturnedToUser"/>, and any other thread running in its place
/// are noise.
/// </para>
/// Counters and open intervals only: constant memory per CPU however long the run, and nothing allocated per event.
/// </summary>
public sealed class NoiseAccountant : IRunObserver
{
    private const int Idle = -1;
    private const int None = -1;

    private readonly ModelTimings _timings;
    private readonly OsnoiseSettings _settings;
    private readonly CpuTrack?[] _cpus;
    private readonly long _startNs;
    private readonly long _periodNs;
    private readonly NoiseHistogram _none;
    private readonly LatencyHistogram _noLatency = new();

    /// <summary>Accounting for <paramref name="nrCpus"/> CPUs of a machine run with <paramref name="timings"/>.</summary>
    /// <param name="nrCpus">The machine's CPUs.</param>
    /// <param name="timings">The handler and switch costs the machine charged (<see cref="ModelTimings.HandlerNs"/>).</param>
    /// <param name="settings">Which CPUs, the period and the warm-up (<see cref="OsnoiseSettings.Default"/> when null).</param>
    /// <param name="histogramBuckets">Buckets of each CPU's single-noise histogram.</param>
    /// <param name="latency">Also keep each CPU's single noises in a <see cref="LatencyHistogram"/> for percentiles (a fixed few hundred KiB per CPU).</param>
    /// <exception cref="ArgumentException">The settings do not fit the machine (<see cref="OsnoiseSettings.Validate"/>).</exception>
    public NoiseAccountant(int nrCpus, ModelTimings timings, OsnoiseSettings? settings = null, int histogramBuckets = NoiseHistogram.DefaultBuckets, bool latency = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nrCpus, 1);
        ArgumentNullException.ThrowIfNull(timings);
        settings ??= OsnoiseSettings.Default;
        settings.Validate(nrCpus);
        _timings = timings;
        _settings = settings;
        _startNs = settings.WarmUpNs;
        _periodNs = settings.PeriodNs;
        _none = new NoiseHistogram(histogramBuckets);
        _cpus = new CpuTrack?[nrCpus];
        for (var i = 0; i < nrCpus; i++)
        {
            _cpus[i] = settings.Selects(i) ? new CpuTrack(histogramBuckets, latency ? new LatencyHistogram() : null) { Cpu = i } : null;
        }
    }

    /// <summary>Number of CPUs.</summary>
    public int NrCpus => _cpus.Length;

    /// <summary>What is measured.</summary>
    public OsnoiseSettings Settings => _settings;

    /// <summary>
    /// Told of every single noise as it ends and enters the histogram (on a measured CPU, after the warm-up): what
    /// <c>--stop-us</c> watches, as <c>rtla osnoise -s</c> watches each sample.
    /// </summary>
    public Action<SingleNoise>? NoiseEnded { get; set; }

    /// <summary>Events seen so far.</summary>
    public long EventsSeen { get; private set; }

    /// <summary>Virtual time of the latest event seen.</summary>
    public long LastTimeNs { get; private set; }

    /// <summary>
    /// The noise of <paramref name="cpu"/> so far: the sum of its single noises that have ended (the table's
    /// <c>noise_ns</c> without an open one); cheap, for a reader that follows it event by event.
    /// </summary>
    public long NoiseNs(int cpu) => _cpus[cpu]?.NoiseNs ?? 0;

    /// <summary>
    /// The longest single noise of <paramref name="cpu"/> up to <paramref name="nowNs"/> (not before the last event
    /// seen): the longest that has ended, or the one still going on with its length so far, whichever is longer; 0 for
    /// a CPU not measured. What <see cref="Snapshot"/> gives as <see cref="CpuNoise.MaxSingleNs"/>, for one CPU and
    /// without allocating: a monitor asks it at every event.
    /// </summary>
    public long SingleNoiseNs(int cpu, long nowNs)
    {
        if ((uint)cpu >= (uint)_cpus.Length || _cpus[cpu] is not { } c || nowNs <= _startNs)
        {
            return 0;
        }

        c.Settle(nowNs, this);
        var open = c.InNoise ? Math.Max(0, Math.Min(c.End, nowNs) - Math.Max(c.NoiseStart, _startNs)) : 0;
        return Math.Max(c.MaxSingleNs, open);
    }

    /// <summary>Whether a single noise is going on on <paramref name="cpu"/> as of the last event seen.</summary>
    public bool InNoise(int cpu) => (uint)cpu < (uint)_cpus.Length && _cpus[cpu] is { InNoise: true };

    /// <summary>The figures as of the last event seen (after <see cref="Finish"/>, the final ones).</summary>
    public IReadOnlyList<CpuNoise> Cpus => Snapshot(LastTimeNs);

    /// <inheritdoc />
    public void Observe(MachineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        EventsSeen++;
        if (e.Time > LastTimeNs)
        {
            LastTimeNs = e.Time;
        }

        if ((uint)e.Cpu >= (uint)_cpus.Length || _cpus[e.Cpu] is not { } c)
        {
            return;
        }

        var t = e.Time;

        // A noise whose end is now known and past (the workload had the CPU again before this event) is closed first,
        // so what this event starts is a new one; one that ended exactly now goes on.
        c.Settle(t, this);
        var wasAvailable = c.Available;
        switch (e)
        {
            case InterruptTaken i when i.Kind != InterruptKind.PageFault:
                OnInterrupt(c, i);
                break;
            case ContextSwitched sw:
                OnSwitch(c, sw);
                break;
            case ReturnedToUser r:
                c.Current = r.Task.Pid;
                if (r.Isolated)
                {
                    Designate(c, r.Task.Pid);
                }

                if (r.Task.Pid == c.Workload)
                {
                    c.Involuntary = false;
                }

                break;
            case ReturnToUserBegan b:
                // Published only for a task with isolation enabled: it is this CPU's workload from now on.
                c.Current = b.Task.Pid;
                Designate(c, b.Task.Pid);
                break;
            case PrctlReturned p when p.Option == PrctlOptions.SetTaskIsolation && p.Result == 0 && new IsolationFlags((uint)p.Arg).Enable:
                // v13's PR_SET_TASK_ISOLATION and v16's PR_TASK_ISOLATION (both 48) with ENABLE succeeded.
                c.Current = p.Task.Pid;
                Designate(c, p.Task.Pid);
                break;
            case OperationStarted o when o.Task.Pid == c.Workload:
                // The workload asks for its next step from user mode: whatever interrupted it is over.
                c.Involuntary = false;
                break;
            case SyscallEntered s when s.Task.Pid == c.Workload:
                c.Involuntary = false;
                break;
            case TaskExited x:
                Leaves(c, x.Task.Pid);
                break;
            case TaskMigrated m:
                Leaves(c, m.Task.Pid);
                break;
        }

        if (!wasAvailable && c.Available)
        {
            c.AvailableSince = t;
        }
    }

    /// <inheritdoc />
    public void Finish(long nowNs)
    {
        if (nowNs > LastTimeNs)
        {
            LastTimeNs = nowNs;
        }

        foreach (var c in _cpus)
        {
            if (c is { InNoise: true })
            {
                // A noise still going on at the end ends there.
                c.Close(Math.Min(c.End, nowNs), this);
            }
        }
    }

    /// <summary>
    /// The figures at <paramref name="nowNs"/> (not before the last event seen). Noises that have ended by then are
    /// closed (the final figures are the same as without the snapshot); one still going on counts with its length so
    /// far in <see cref="CpuNoise.NoiseNs"/>, <see cref="CpuNoise.MaxNoiseNs"/> and <see cref="CpuNoise.MaxSingleNs"/>,
    /// and enters the histogram and <see cref="CpuNoise.Noises"/> when it ends. The soak snapshots with it.
    /// </summary>
    public IReadOnlyList<CpuNoise> Snapshot(long nowNs)
    {
        var list = new List<CpuNoise>(_cpus.Length);
        var runtime = Math.Max(0, nowNs - _startNs);
        var periods = (runtime + _periodNs - 1) / _periodNs;
        for (var i = 0; i < _cpus.Length; i++)
        {
            if (_cpus[i] is not { } c || runtime == 0)
            {
                list.Add(new CpuNoise(i, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
                continue;
            }

            c.Settle(nowNs, this);
            var open = c.InNoise ? Math.Max(0, Math.Min(c.End, nowNs) - Math.Max(c.NoiseStart, _startNs)) : 0;
            var period = open > 0 ? PeriodOf(nowNs) : -1;
            var periodNoise = (period == c.PeriodIndex ? c.PeriodNoiseNs : 0) + open;
            list.Add(new CpuNoise(
                i,
                true,
                periods,
                runtime,
                c.NoiseNs + open,
                open > 0 ? Math.Max(c.MaxNoiseNs, periodNoise) : c.MaxNoiseNs,
                Math.Max(c.MaxSingleNs, open),
                0,
                c.Nmi,
                c.Irq,
                0,
                c.Thread,
                c.Noises));
        }

        return list;
    }

    /// <summary>
    /// Closes every noise that has ended by <paramref name="nowNs"/> (not before the last event seen), as a snapshot
    /// does, without building the figures: a noise that ended while nothing else happened on its CPU is counted (and
    /// told to <see cref="NoiseEnded"/>) now instead of at the CPU's next event. The figures stay those of a run
    /// without the call.
    /// </summary>
    public void Settle(long nowNs)
    {
        foreach (var c in _cpus)
        {
            c?.Settle(nowNs, this);
        }
    }

    /// <summary>
    /// The single-noise durations of <paramref name="cpu"/> for percentiles (live: <see cref="LatencyHistogram.Clone"/>
    /// it to keep it); an empty one for a CPU not selected or an accountant made without <c>latency</c>.
    /// </summary>
    public LatencyHistogram Latency(int cpu) => _cpus[cpu]?.Latency ?? _noLatency;

    /// <summary>
    /// The histogram of single-noise durations on <paramref name="cpu"/> (live: copy it with
    /// <see cref="NoiseHistogram.Clone"/> to keep it); an empty one of the same size for a CPU not selected.
    /// </summary>
    public NoiseHistogram Histogram(int cpu) => _cpus[cpu]?.Histogram ?? _none;

    private void OnInterrupt(CpuTrack c, InterruptTaken i)
    {
        var t = i.Time;
        if (c.Workload != None && i.Current?.Pid == c.Workload && i.State is CpuState.User or CpuState.UserIsolated)
        {
            // Taken out of user mode against its will: the workload is kept from its work until it is back there.
            c.Current = c.Workload;
            c.Involuntary = true;
        }

        if (t >= _startNs)
        {
            if (i.Kind == InterruptKind.Nmi)
            {
                c.Nmi++;
            }
            else
            {
                c.Irq++;
            }
        }

        // The handler runs from now; an NMI inside another handler delays it by its own cost.
        c.BusyUntil = Math.Max(c.BusyUntil, t) + _timings.HandlerNs(i.Kind);
        c.Interfere(t);
    }

    private void OnSwitch(CpuTrack c, ContextSwitched sw)
    {
        var t = sw.Time;
        var fromKworker = sw.Prev is { } prev && IsKernelThread(prev);
        c.Current = sw.Next?.Pid ?? Idle;
        if (c.Current != Idle && c.Current != c.Workload)
        {
            // Another thread has the CPU: a kworker, or a task that is not the workload (osnoise's thread_entry()).
            if (t >= _startNs)
            {
                c.Thread++;
            }

            c.Interfere(t);
        }
        else if (fromKworker)
        {
            // The kworker's switch back costs the CPU a context switch before anything else runs (process_one_work()).
            c.BusyUntil = Math.Max(c.BusyUntil, t + _timings.ContextSwitchNs);
        }
    }

    private static void Designate(CpuTrack c, int pid)
    {
        if (c.Workload != pid)
        {
            c.Workload = pid;
            c.Involuntary = false;
        }
    }

    private static void Leaves(CpuTrack c, int pid)
    {
        if (pid == c.Workload)
        {
            c.Workload = None;
            c.Involuntary = false;
        }

        if (pid == c.Current)
        {
            // Gone from this CPU: what runs next is the switch's business.
            c.Current = Idle;
        }
    }

    /// <summary>The model's kworkers are the only threads with pid 0 (the idle task is no thread: a switch names it null).</summary>
    private static bool IsKernelThread(TaskRef t) => t.Pid == 0;

    /// <summary>The period a noise ending at <paramref name="endNs"/> (after the warm-up) belongs to: the one it ends in.</summary>
    private long PeriodOf(long endNs) => (endNs - _startNs - 1) / _periodNs;

    private sealed class CpuTrack(int buckets, LatencyHistogram? latency)
    {
        public int Cpu;

        /// <summary>Who has the CPU: <see cref="Idle"/>, a kworker (0) or a task's pid.</summary>
        public int Current = Idle;

        /// <summary>The task that is this CPU's workload, or <see cref="None"/> for the virtual osnoise thread.</summary>
        public int Workload = None;

        /// <summary>The workload task is out of user mode against its will (since an interrupt there).</summary>
        public bool Involuntary;

        /// <summary>End of the latest interrupt handler (or kworker switch-back).</summary>
        public long BusyUntil;

        /// <summary>When the workload last got the CPU back from something else.</summary>
        public long AvailableSince;

        public bool InNoise;
        public long NoiseStart;
        public long NoiseNs;
        public long MaxSingleNs;
        public long MaxNoiseNs;
        public long PeriodIndex = -1;
        public long PeriodNoiseNs;
        public long Noises;
        public long Nmi;
        public long Irq;
        public long Thread;

        public NoiseHistogram Histogram { get; } = new(buckets);

        public LatencyHistogram? Latency { get; } = latency;

        /// <summary>
        /// Whether the workload has the CPU as far as who runs goes: idle (the osnoise thread runs), or the workload task
        /// doing its own work. A handler may still be running: see <see cref="End"/>.
        /// </summary>
        public bool Available => Current == Idle || (Current == Workload && !Involuntary);

        /// <summary>When the open noise ends if nothing else comes: the last handler's end or the workload's return, whichever is later.</summary>
        public long End => Available ? Math.Max(BusyUntil, AvailableSince) : long.MaxValue;

        public void Interfere(long t)
        {
            if (!InNoise)
            {
                InNoise = true;
                NoiseStart = t;
            }
        }

        /// <summary>Closes the open noise if it ended before <paramref name="t"/>.</summary>
        public void Settle(long t, NoiseAccountant a)
        {
            if (InNoise && End < t)
            {
                Close(End, a);
            }
        }

        public void Close(long end, NoiseAccountant a)
        {
            InNoise = false;
            var from = Math.Max(NoiseStart, a._startNs);
            var ns = end - from;
            if (ns <= 0)
            {
                return; // over before the warm-up ended, or no time at all: nothing the workload could see
            }

            NoiseNs += ns;
            MaxSingleNs = Math.Max(MaxSingleNs, ns);
            Noises++;
            Histogram.Add(ns);
            Latency?.Record(ns);
            a.NoiseEnded?.Invoke(new SingleNoise(Cpu, from, end));
            var period = a.PeriodOf(end);
            if (period != PeriodIndex)
            {
                PeriodIndex = period;
                PeriodNoiseNs = 0;
            }

            PeriodNoiseNs += ns;
            MaxNoiseNs = Math.Max(MaxNoiseNs, PeriodNoiseNs);
        }
    }
}
