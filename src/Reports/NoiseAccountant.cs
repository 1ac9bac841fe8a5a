using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;
using TaskIsolation.Machine.Kernel;

namespace TaskIsolation.Reports;

/// <summary>
/// One CPU's noise figures in the manner of <c>rtla osnoise top</c> (docs/model.md §11). See docs/reports.md for the exact
/// definitions.
/// </summary>
/// <param name="Cpu">The CPU.</param>
/// <param name="RuntimeNs">Time a user task held this CPU wanting to run user code (in user mode, or taken out of it involuntarily).</param>
/// <param name="NoiseNs">The part of <paramref name="RuntimeNs"/> the task spent out of user mode involuntarily.</param>
/// <param name="MaxSingleNs">The longest single noise.</param>
/// <param name="Hw">Hardware noise: gaps no traced cause explains. The model has none, so always 0.</param>
/// <param name="Nmi">NMIs taken during the runtime.</param>
/// <param name="Irq">Other interrupts taken during the runtime: ticks, IPIs, irq_work, device interrupts.</param>
/// <param name="Softirq">Softirqs run during the runtime. The model runs no deferred work in softirq context, so always 0.</param>
/// <param name="Thread">Times another thread (a kworker or another task) ran in place of the measured task.</param>
/// <param name="Noises">Number of single noises (what <paramref name="NoiseNs"/> is the sum of).</param>
public sealed record CpuNoise(int Cpu, long RuntimeNs, long NoiseNs, long MaxSingleNs, long Hw, long Nmi, long Irq, long Softirq, long Thread, long Noises)
{
    /// <summary><c>% CPU Aval</c>: the share of the runtime the task had, 100 when there was no runtime.</summary>
    public double CpuAvailablePercent => RuntimeNs <= 0 ? 100.0 : (RuntimeNs - NoiseNs) * 100.0 / RuntimeNs;
}

/// <summary>
/// Streaming noise accounting: per CPU, the time a user task wanted the CPU (runtime), the time it was kept out of user
/// mode against its will (noise), split into single noises (one per involuntary exit from user mode, until it is back),
/// the interference counted by class, and a histogram of single-noise durations. Counters and open intervals only:
/// constant memory per CPU however long the run.
/// <para>
/// A single noise starts when an interrupt is taken in user mode. It ends when the task is back in user mode: exactly
/// at <see cref="ReturnedToUser"/>, which the model publishes on every return to user mode (the exit loop's, and the
/// plain iret after an interrupt or an NMI); where that event is missing (a recording from an older model) the end is
/// the last kernel activity the events show (the handlers' ends, a switch back to the task plus the exit path's costs
/// from <see cref="ModelTimings"/>), or the task's next step if that comes first.
/// </para>
/// </summary>
public sealed class NoiseAccountant : IRunObserver
{
    private readonly ModelTimings _timings;
    private readonly CpuTrack[] _cpus;

    /// <summary>Accounting for <paramref name="nrCpus"/> CPUs of a machine run with <paramref name="timings"/>.</summary>
    public NoiseAccountant(int nrCpus, ModelTimings timings, int histogramBuckets = NoiseHistogram.DefaultBuckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nrCpus, 1);
        ArgumentNullException.ThrowIfNull(timings);
        _timings = timings;
        _cpus = new CpuTrack[nrCpus];
        for (var i = 0; i < nrCpus; i++)
        {
            _cpus[i] = new CpuTrack(histogramBuckets);
        }
    }

    /// <summary>Number of CPUs.</summary>
    public int NrCpus => _cpus.Length;

    /// <summary>Events seen so far.</summary>
    public long EventsSeen { get; private set; }

    /// <summary>Virtual time of the latest event seen.</summary>
    public long LastTimeNs { get; private set; }

    /// <summary>
    /// The noise of <paramref name="cpu"/> so far: the sum of its single noises that have ended (the table's
    /// <c>noise_ns</c> without an open one); cheap, for a reader that follows it event by event.
    /// </summary>
    public long NoiseNs(int cpu) => _cpus[cpu].NoiseNs;

    /// <inheritdoc />
    public void Observe(MachineEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        EventsSeen++;
        LastTimeNs = Math.Max(LastTimeNs, e.Time);
        if (e.Cpu < 0 || e.Cpu >= _cpus.Length)
        {
            return;
        }

        var c = _cpus[e.Cpu];

        // An estimated gap ends once the CPU has been past its last known kernel activity with the task back on it.
        if (c.InGap && !c.Exact && !c.Away && e.Time > c.GapEnd)
        {
            c.CloseGap(c.GapEnd);
        }

        switch (e)
        {
            case OperationStarted { Step.Kind: OperationKind.Compute } op:
                CloseGapOnEvidence(c, op.Task, op.Time);
                c.StartRuntime(op.Task, op.Time);
                break;
            case OperationStarted { Step.Kind: OperationKind.TouchPage } op:
                // The task's own page fault: a voluntary kernel entry, not noise.
                CloseGapOnEvidence(c, op.Task, op.Time);
                c.EndRuntime(op.Task, op.Time);
                break;
            case SyscallEntered s:
                CloseGapOnEvidence(c, s.Task, s.Time);
                c.EndRuntime(s.Task, s.Time);
                break;
            case ReturnedToUser r when c.Away && c.Task != r.Task:
                // Another thread returning to user in the measured task's place: part of the same noise, not a new runtime.
                break;
            case ReturnedToUser r:
                if (c.InGap && c.Task == r.Task)
                {
                    c.CloseGap(r.Time);
                }

                c.StartRuntime(r.Task, r.Time);
                break;
            case InterruptTaken t:
                OnInterrupt(c, t);
                break;
            case ContextSwitched sw:
                OnSwitch(c, sw);
                break;
            case TaskExited x:
                CloseGapOnEvidence(c, x.Task, x.Time);
                c.EndRuntime(x.Task, x.Time);
                break;
            case TaskMigrated m:
                CloseGapOnEvidence(c, m.Task, m.Time);
                c.EndRuntime(m.Task, m.Time);
                break;
            case SignalDelivered d when c.InGap && c.Exact && c.Task == d.Task:
                // Delivery clears the isolation flags: the way back to user mode publishes no ReturnedToUser now.
                c.Exact = false;
                c.GapEnd = Math.Max(c.GapEnd, d.Time + _timings.ReturnReadyNs + _timings.ReturnToUserNs);
                break;
        }
    }

    /// <inheritdoc />
    public void Finish(long nowNs)
    {
        foreach (var c in _cpus)
        {
            if (c.InGap)
            {
                c.CloseGap(c.Exact || c.Away ? nowNs : Math.Min(c.GapEnd, nowNs));
            }

            if (c.Task is not null)
            {
                c.EndRuntime(c.Task, nowNs);
            }
        }

        LastTimeNs = Math.Max(LastTimeNs, nowNs);
    }

    /// <summary>
    /// The figures now, open intervals counted up to <paramref name="nowNs"/> (a runtime segment still running counts
    /// up to then; a noise still open does not count yet). Does not change the accounting: the soak snapshots with it.
    /// </summary>
    public IReadOnlyList<CpuNoise> Snapshot(long nowNs)
    {
        var list = new List<CpuNoise>(_cpus.Length);
        for (var i = 0; i < _cpus.Length; i++)
        {
            var c = _cpus[i];
            var open = c.Task is null ? 0 : Math.Max(0, nowNs - c.RuntimeStart);
            list.Add(new CpuNoise(i, c.RuntimeNs + open, c.NoiseNs, c.MaxSingleNs, 0, c.Nmi, c.Irq, 0, c.Thread, c.Noises));
        }

        return list;
    }

    /// <summary>The figures as of the last event seen (after <see cref="Finish"/>, the final ones).</summary>
    public IReadOnlyList<CpuNoise> Cpus => Snapshot(LastTimeNs);

    /// <summary>The histogram of single-noise durations on <paramref name="cpu"/> (live: copy it with <see cref="NoiseHistogram.Clone"/> to keep it).</summary>
    public NoiseHistogram Histogram(int cpu) => _cpus[cpu].Histogram;

    private void OnInterrupt(CpuTrack c, InterruptTaken t)
    {
        if (t.Kind == InterruptKind.PageFault)
        {
            return;
        }

        var inUser = t.State is CpuState.User or CpuState.UserIsolated;
        if (inUser && t.Current is { } task)
        {
            if (c.Task != task)
            {
                // First sign of this task in user mode (it got there on a path without an event): runtime starts now.
                c.EndRuntime(c.Task, t.Time);
                c.StartRuntime(task, t.Time);
            }

            if (!c.InGap)
            {
                c.OpenGap(t.Time, exact: t.State == CpuState.UserIsolated);
            }
        }

        if (c.Task is null)
        {
            return; // Nobody measured on this CPU: rtla counts interference only while its workload runs.
        }

        if (t.Kind == InterruptKind.Nmi)
        {
            c.Nmi++;
        }
        else
        {
            c.Irq++;
        }

        if (c.InGap)
        {
            c.GapEnd = Math.Max(c.GapEnd, t.Time + _timings.HandlerNs(t.Kind));
        }
    }

    private void OnSwitch(CpuTrack c, ContextSwitched sw)
    {
        if (c.Task is null)
        {
            return;
        }

        if (sw.Prev == c.Task && sw.Next != c.Task)
        {
            if (!c.InGap)
            {
                // It gave the CPU up itself (sleep, wait, exit): its runtime ends.
                c.EndRuntime(c.Task, sw.Time);
                return;
            }

            c.Away = true;
            if (sw.Next is not null)
            {
                c.Thread++;
            }
        }
        else if (c.Away && sw.Next == c.Task)
        {
            c.Away = false;

            // Back on the CPU: the switch itself, then the exit path's ready check and the return to user.
            c.GapEnd = Math.Max(c.GapEnd, sw.Time + _timings.ContextSwitchNs + _timings.ReturnReadyNs + _timings.ReturnToUserNs);
        }
        else if (c.Away && sw.Next is not null)
        {
            c.Thread++;
        }
    }

    private static void CloseGapOnEvidence(CpuTrack c, TaskRef task, long time)
    {
        if (c.InGap && c.Task == task)
        {
            c.CloseGap(c.Exact || c.Away ? time : Math.Min(c.GapEnd, time));
        }
    }

    private sealed class CpuTrack(int buckets)
    {
        public TaskRef? Task;
        public long RuntimeStart;
        public long RuntimeNs;
        public bool InGap;
        public bool Exact;
        public bool Away;
        public long GapStart;
        public long GapEnd;
        public long NoiseNs;
        public long MaxSingleNs;
        public long Noises;
        public long Nmi;
        public long Irq;
        public long Thread;

        public NoiseHistogram Histogram { get; } = new(buckets);

        public void StartRuntime(TaskRef task, long time)
        {
            if (Task == task)
            {
                return;
            }

            EndRuntime(Task, time);
            Task = task;
            RuntimeStart = time;
        }

        public void EndRuntime(TaskRef? task, long time)
        {
            if (Task is null || Task != task)
            {
                return;
            }

            if (InGap)
            {
                CloseGap(Exact || Away ? time : Math.Min(GapEnd, time));
            }

            RuntimeNs += Math.Max(0, time - RuntimeStart);
            Task = null;
        }

        public void OpenGap(long time, bool exact)
        {
            InGap = true;
            Exact = exact;
            Away = false;
            GapStart = time;
            GapEnd = time;
        }

        public void CloseGap(long end)
        {
            var ns = Math.Max(0, end - GapStart);
            NoiseNs += ns;
            MaxSingleNs = Math.Max(MaxSingleNs, ns);
            Noises++;
            Histogram.Add(ns);
            InGap = false;
            Exact = false;
            Away = false;
        }
    }
}
