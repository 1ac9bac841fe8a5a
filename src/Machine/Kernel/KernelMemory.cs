using System.Collections.Concurrent;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Machine.Kernel;

/// <summary>
/// The part of kernel memory that one CPU reads about another without asking it: the per-CPU variables and shared
/// structures the kernel reads racily (context tracking's "in user" state, <c>rq-&gt;curr</c>, pagevec counts,
/// <c>mm_cpumask</c>, <c>task_cpu()</c>). Each field is written only by the CPU that owns it and read by anyone, with
/// no lock, exactly as in the kernel: these racy reads are the very races (§9 R6–R8) the model exists to expose.
/// Everything else about a CPU is private to its actor and reached by message.
/// </summary>
public sealed class KernelMemory
{
    private readonly PerCpuShared[] _cpus;
    private readonly ConcurrentDictionary<int, int> _taskCpu = new();
    private readonly ConcurrentDictionary<int, int> _tgidOf = new();
    private readonly ConcurrentDictionary<int, bool> _asleep = new();
    private readonly ConcurrentDictionary<string, int> _pidByComm = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, MmCpumask> _mms = new();
    private readonly ConcurrentDictionary<int, int> _processDeps = new();
    private readonly ConcurrentDictionary<int, TaskIsolation.Machine.Abi.V16.V16State> _v16States = new();
    private readonly ConcurrentDictionary<int, byte> _isolationCleared = new();
    private readonly ConcurrentDictionary<int, ulong> _caughtSignals = new();
    private int _isolationClearedCount;
    private readonly Lock _ratelimitLock = new();
    private TaskIsolation.Machine.Abi.RatelimitState _debugRatelimit = TaskIsolation.Machine.Abi.RatelimitState.TaskIsolationDebug;
    private readonly MemoryTouches _touches = new();
    private int _nextPid;
    private int _globalDeps;

    /// <summary>
    /// How many reads and writes of this memory there have been, in any CPU's variables or the shared structures. The
    /// exhaustive search reads it around each delivery in controlled mode (one thread) to learn whether the delivery
    /// touched shared state; in concurrent mode it is a statistic, not exact.
    /// </summary>
    public long Touches => _touches.Count;

    /// <summary>The machine-wide rate limit of the <c>task_isolation_debug</c> lines: true when this one may print.</summary>
    public bool DebugRatelimit(long nowNs)
    {
        _touches.Count++;
        lock (_ratelimitLock)
        {
            var verdict = _debugRatelimit.Check(nowNs);
            _debugRatelimit = verdict.Next;
            return verdict.Allowed;
        }
    }

    /// <summary>Memory for <paramref name="nrCpus"/> CPUs; pids start after <paramref name="firstPid"/>.</summary>
    public KernelMemory(int nrCpus, int firstPid = 100)
    {
        _cpus = new PerCpuShared[nrCpus];
        for (var i = 0; i < nrCpus; i++)
        {
            _cpus[i] = new PerCpuShared(_touches);
        }

        _nextPid = firstPid;
    }

    /// <summary>The CPU count.</summary>
    public int NrCpus => _cpus.Length;

    /// <summary>CPU <paramref name="cpu"/>'s remotely readable variables.</summary>
    public PerCpuShared Cpu(int cpu) => _cpus[cpu];

    /// <summary>
    /// v16's <c>task-&gt;task_isolation_state</c> of task <paramref name="pid"/> (NORMAL when never set): a field of the
    /// task that a remote CPU changes with <c>cmpxchg()</c> (<c>task_isolation_remote()</c>).
    /// </summary>
    public TaskIsolation.Machine.Abi.V16.V16State V16State(int pid)
    {
        _touches.Count++;
        return _v16States.TryGetValue(pid, out var s) ? s : TaskIsolation.Machine.Abi.V16.V16State.Normal;
    }

    /// <summary>Sets task <paramref name="pid"/>'s v16 state (its own CPU).</summary>
    public void SetV16State(int pid, TaskIsolation.Machine.Abi.V16.V16State state)
    {
        _touches.Count++;
        _v16States[pid] = state;
    }

    /// <summary><c>cmpxchg(&amp;p-&gt;task_isolation_state, expected, next)</c>: true when it was <paramref name="expected"/>.</summary>
    public bool CompareExchangeV16State(int pid, TaskIsolation.Machine.Abi.V16.V16State expected, TaskIsolation.Machine.Abi.V16.V16State next)
    {
        _touches.Count++;
        return _v16States.TryUpdate(pid, next, expected);
    }

    /// <summary>
    /// <c>task_isolation_set_flags(p, 0)</c> from another CPU (v13's <c>task_isolation_deliver_signal()</c> in a
    /// sender's <c>task_isolation_debug_task()</c>): task <paramref name="pid"/>'s flags word is 0 from now on for
    /// every CPU that reads it (<see cref="IsolationFlagsOf"/>). The task's own CPU keeps its copy of the flags and
    /// applies the clear at its next step (<see cref="TakeIsolationFlagsCleared"/>), as it would read the word.
    /// </summary>
    /// <returns>Whether the flags were still set, as far as another CPU's clear is concerned (false: cleared already).</returns>
    public bool ClearIsolationFlagsRemotely(int pid)
    {
        _touches.Count++;
        if (!_isolationCleared.TryAdd(pid, 0))
        {
            return false;
        }

        Interlocked.Increment(ref _isolationClearedCount);
        return true;
    }

    /// <summary>Whether any task's flags were cleared by another CPU and its own CPU has not applied it yet (a cheap test).</summary>
    public bool AnyIsolationFlagsClearedRemotely
    {
        get
        {
            // A read of shared state, even when it finds nothing: another CPU's clear would change what it sees.
            _touches.Count++;
            return Volatile.Read(ref _isolationClearedCount) > 0;
        }
    }

    /// <summary>
    /// The task's own CPU applies a clear another CPU made (<see cref="ClearIsolationFlagsRemotely"/>): true when there
    /// was one, and it is consumed.
    /// </summary>
    public bool TakeIsolationFlagsCleared(int pid)
    {
        _touches.Count++;
        if (!_isolationCleared.TryRemove(pid, out _))
        {
            return false;
        }

        Interlocked.Decrement(ref _isolationClearedCount);
        return true;
    }

    /// <summary>
    /// The task's own CPU stores a new flags word (<c>task_isolation_set()</c>): it supersedes any earlier clear by
    /// another CPU.
    /// </summary>
    public void StoreIsolationFlags(int pid) => TakeIsolationFlagsCleared(pid);

    /// <summary>
    /// The isolation flags of the task current on <paramref name="cpu"/>, as another CPU reads them without a lock
    /// (<c>cpu_curr(cpu)-&gt;task_isolation_flags</c>): the word that CPU published, or 0 once another CPU has cleared it.
    /// </summary>
    public uint IsolationFlagsOf(int cpu)
    {
        var c = _cpus[cpu];
        var flags = c.CurrentFlags;
        return flags != 0 && _isolationCleared.ContainsKey(c.CurrentPid) ? 0 : flags;
    }

    /// <summary>Allocates a pid (<c>alloc_pid()</c>).</summary>
    public int AllocPid()
    {
        _touches.Count++;
        return Interlocked.Increment(ref _nextPid);
    }

    /// <summary>Records where a task runs (<c>set_task_cpu()</c>).</summary>
    public void SetTaskCpu(int pid, int cpu)
    {
        _touches.Count++;
        _taskCpu[pid] = cpu;
    }

    /// <summary>Where a task runs (<c>task_cpu()</c>), or -1 when it has exited.</summary>
    public int TaskCpu(int pid)
    {
        _touches.Count++;
        return _taskCpu.TryGetValue(pid, out var c) ? c : -1;
    }

    /// <summary>Records that task <paramref name="pid"/> belongs to thread group <paramref name="tgid"/> (<c>copy_process()</c>).</summary>
    public void SetThreadGroup(int pid, int tgid)
    {
        _touches.Count++;
        _tgidOf[pid] = tgid;
    }

    /// <summary>
    /// Records that task <paramref name="pid"/> went to sleep or woke (<c>deactivate_task()</c>/<c>activate_task()</c>),
    /// written by the CPU it sleeps on.
    /// </summary>
    public void SetTaskAsleep(int pid, bool asleep)
    {
        _touches.Count++;
        _asleep[pid] = asleep;
    }

    /// <summary>
    /// The live threads of thread group <paramref name="tgid"/>, ascending by pid, each with <c>task_cpu()</c> and
    /// whether it is on a runqueue (<c>__for_each_thread()</c>, read without the runqueue locks, as the kernel does).
    /// </summary>
    public IReadOnlyList<TaskIsolation.Machine.Abi.Tick.ThreadPlacement> ThreadsOf(int tgid)
    {
        _touches.Count++;
        return [.. _tgidOf.Where(kv => kv.Value == tgid)
            .Select(kv => kv.Key)
            .Order()
            .Select(pid => (Pid: pid, Cpu: TaskCpu(pid)))
            .Where(t => t.Cpu >= 0)
            .Select(t => new TaskIsolation.Machine.Abi.Tick.ThreadPlacement(t.Cpu, !_asleep.GetValueOrDefault(t.Pid)))];
    }

    /// <summary>
    /// <c>rt_sigaction()</c> by task <paramref name="pid"/>: it installs a handler for <paramref name="signal"/>. The
    /// handlers live in the task's <c>sighand</c>, which a sender reads to decide whether a signal is ignored
    /// (<see cref="CatchesSignal"/>).
    /// </summary>
    public void SetSignalCaught(int pid, int signal)
    {
        _touches.Count++;
        if (Abi.Signal.IsValid(signal) && signal > 0)
        {
            _caughtSignals.AddOrUpdate(pid, Bit(signal), (_, mask) => mask | Bit(signal));
        }
    }

    /// <summary><c>copy_sighand()</c> at fork: the child starts with the parent's handlers.</summary>
    public void CopySignalHandlers(int parent, int child)
    {
        _touches.Count++;
        if (_caughtSignals.TryGetValue(parent, out var mask))
        {
            _caughtSignals[child] = mask;
        }
    }

    /// <summary>
    /// Whether task <paramref name="pid"/> has a handler for <paramref name="signal"/>, as a sender reads
    /// <c>t-&gt;sighand-&gt;action[sig - 1]</c> in <c>sig_task_ignored()</c>. A task that is gone has none.
    /// </summary>
    public bool CatchesSignal(int pid, int signal)
    {
        _touches.Count++;
        return signal > 0 && Abi.Signal.IsValid(signal) && _caughtSignals.TryGetValue(pid, out var mask) && (mask & Bit(signal)) != 0;
    }

    private static ulong Bit(int signal) => 1UL << (signal - 1);

    /// <summary>Forgets an exited task.</summary>
    public void RemoveTask(int pid, string comm)
    {
        _touches.Count++;
        _taskCpu.TryRemove(pid, out _);
        _tgidOf.TryRemove(pid, out _);
        _asleep.TryRemove(pid, out _);
        _caughtSignals.TryRemove(pid, out _);
        TakeIsolationFlagsCleared(pid);
        _pidByComm.TryRemove(new KeyValuePair<string, int>(comm, pid));
    }

    /// <summary>Registers a command name for lookups by name (scenarios name tasks, not pids).</summary>
    public void RegisterComm(string comm, int pid)
    {
        _touches.Count++;
        _pidByComm.TryAdd(comm, pid);
    }

    /// <summary>The pid of the live task named <paramref name="comm"/>, or -1.</summary>
    public int PidOf(string comm)
    {
        _touches.Count++;
        return _pidByComm.TryGetValue(comm, out var p) ? p : -1;
    }

    /// <summary>The CPU mask of address space <paramref name="mm"/> (created empty on first use).</summary>
    public MmCpumask Mm(int mm)
    {
        _touches.Count++;
        return _mms.GetOrAdd(mm, static (_, t) => new MmCpumask(t), _touches);
    }

    /// <summary>Tick dependency bits set globally (<c>tick_dep_mask</c>).</summary>
    public int GlobalTickDeps
    {
        get
        {
            _touches.Count++;
            return Volatile.Read(ref _globalDeps);
        }
    }

    /// <summary>Sets global tick dependency bits; returns the bits that were clear before (they need a kick).</summary>
    public int SetGlobalTickDeps(int bits)
    {
        _touches.Count++;
        return bits & ~Interlocked.Or(ref _globalDeps, bits);
    }

    /// <summary>Clears global tick dependency bits.</summary>
    public void ClearGlobalTickDeps(int bits)
    {
        _touches.Count++;
        Interlocked.And(ref _globalDeps, ~bits);
    }

    /// <summary>Per-process (<c>signal-&gt;tick_dep_mask</c>) bits of thread group <paramref name="tgid"/>.</summary>
    public int ProcessTickDeps(int tgid)
    {
        _touches.Count++;
        return _processDeps.TryGetValue(tgid, out var d) ? d : 0;
    }

    /// <summary>Sets per-process bits; returns those that were clear before.</summary>
    public int SetProcessTickDeps(int tgid, int bits)
    {
        _touches.Count++;
        var before = 0;
        _processDeps.AddOrUpdate(tgid, bits, (_, old) =>
        {
            before = old;
            return old | bits;
        });
        return bits & ~before;
    }

    /// <summary>Clears per-process bits.</summary>
    public void ClearProcessTickDeps(int tgid, int bits)
    {
        _touches.Count++;
        _processDeps.AddOrUpdate(tgid, 0, (_, old) => old & ~bits);
    }
}

/// <summary>One CPU's remotely readable variables; written only by that CPU's actor (the vmstat ones by its vmstat worker).</summary>
public sealed class PerCpuShared
{
    private readonly MemoryTouches _touches;
    private int _state;
    private int _currentPid;
    private int _currentIsolated;
    private int _currentFlags;
    private string _currentComm = "swapper";
    private int _lruNonEmpty;
    private int _quiesced;
    private int _refusesNewWork;
    private int _queuedWork;
    private int _vmstatDiffs;
    private int _vmstatPending;
    private long _vmstatDirtyCause;

    /// <summary>Variables whose every access counts in <paramref name="touches"/> (<see cref="KernelMemory.Touches"/>).</summary>
    public PerCpuShared(MemoryTouches touches) => _touches = touches;

    /// <summary>What the CPU is doing (context tracking plus the return path), as last published.</summary>
    public CpuState State
    {
        get
        {
            _touches.Count++;
            return (CpuState)Volatile.Read(ref _state);
        }
        set
        {
            _touches.Count++;
            Volatile.Write(ref _state, (int)value);
        }
    }

    /// <summary>Pid of <c>rq-&gt;curr</c> (0: idle).</summary>
    public int CurrentPid
    {
        get
        {
            _touches.Count++;
            return Volatile.Read(ref _currentPid);
        }
    }

    /// <summary>Command name of the current task.</summary>
    public string CurrentComm
    {
        get
        {
            _touches.Count++;
            return Volatile.Read(ref _currentComm);
        }
    }

    /// <summary>Whether the current task has TIF_TASK_ISOLATION.</summary>
    public bool CurrentIsolated
    {
        get
        {
            _touches.Count++;
            return Volatile.Read(ref _currentIsolated) != 0;
        }
    }

    /// <summary>The current task's isolation flags word.</summary>
    public uint CurrentFlags
    {
        get
        {
            _touches.Count++;
            return (uint)Volatile.Read(ref _currentFlags);
        }
    }

    /// <summary>Whether this CPU's LRU pagevecs hold pages (<c>lru_add_drain_needed()</c> as read remotely).</summary>
    public bool LruNonEmpty
    {
        get
        {
            _touches.Count++;
            return Volatile.Read(ref _lruNonEmpty) != 0;
        }
        set
        {
            _touches.Count++;
            Volatile.Write(ref _lruNonEmpty, value ? 1 : 0);
        }
    }

    /// <summary>
    /// Whether an isolated task runs in user space here (the context-tracking view the R9 proposal reads). Leaving it
    /// (any kernel entry) also lowers the "no new deferred work" flag.
    /// </summary>
    public bool Quiesced
    {
        get
        {
            _touches.Count++;
            return Volatile.Read(ref _quiesced) != 0;
        }
        set
        {
            _touches.Count++;
            Volatile.Write(ref _quiesced, value ? 1 : 0);
            if (!value)
            {
                Volatile.Write(ref _refusesNewWork, 0);
            }
        }
    }

    /// <summary>R7's "no new deferred work" flag (<see cref="TaskIsolation.Machine.Mm.DeferredWork"/>): raised by the exit path.</summary>
    public bool RefusesNewWork
    {
        get
        {
            _touches.Count++;
            return Volatile.Read(ref _refusesNewWork) != 0;
        }
    }

    /// <summary>Raises the "no new deferred work" flag, a full barrier before the exit path's own drain.</summary>
    public void RefuseNewWork()
    {
        _touches.Count++;
        Interlocked.Exchange(ref _refusesNewWork, 1);
    }

    /// <summary>Deferred work items queued to this CPU by other CPUs and not yet run.</summary>
    public int QueuedWork
    {
        get
        {
            _touches.Count++;
            return Volatile.Read(ref _queuedWork);
        }
    }

    /// <summary>Counts a deferred work item queued to this CPU (the queuer, a full barrier before it reads the flag).</summary>
    public void WorkQueued()
    {
        _touches.Count++;
        Interlocked.Increment(ref _queuedWork);
    }

    /// <summary>Takes back a counted item (the queuer found the flag up) or counts one that ran.</summary>
    public void WorkDone()
    {
        _touches.Count++;
        Interlocked.Decrement(ref _queuedWork);
    }

    /// <summary>
    /// This CPU's vmstat state as another CPU reads it (<c>need_update(cpu)</c>, <c>delayed_work_pending()</c>), and
    /// the event that last dirtied the diffs (the chain of a kworker queued because of them starts there).
    /// </summary>
    public (bool Diffs, bool WorkPending, long DirtyCause) Vmstat
    {
        get
        {
            _touches.Count++;
            return (Volatile.Read(ref _vmstatDiffs) != 0, Volatile.Read(ref _vmstatPending) != 0, Volatile.Read(ref _vmstatDirtyCause));
        }
    }

    /// <summary>Publishes this CPU's vmstat state (the vmstat worker, after each change).</summary>
    public void SetVmstat(bool diffs, bool workPending, long dirtyCause)
    {
        _touches.Count++;
        Volatile.Write(ref _vmstatDirtyCause, dirtyCause);
        Volatile.Write(ref _vmstatPending, workPending ? 1 : 0);
        Volatile.Write(ref _vmstatDiffs, diffs ? 1 : 0);
    }

    /// <summary>Publishes the current task.</summary>
    public void SetCurrent(int pid, string comm, uint flags)
    {
        _touches.Count++;
        Volatile.Write(ref _currentComm, comm);
        Volatile.Write(ref _currentFlags, (int)flags);
        Volatile.Write(ref _currentIsolated, (flags & 1u) != 0 ? 1 : 0);
        Volatile.Write(ref _currentPid, pid);
    }
}

/// <summary><c>mm_cpumask(mm)</c>: the CPUs that may hold TLB entries of an address space.</summary>
public sealed class MmCpumask
{
    private readonly MemoryTouches _touches;
    private readonly Lock _lock = new();
    private readonly SortedSet<int> _cpus = [];

    /// <summary>A mask whose every access counts in <paramref name="touches"/> (<see cref="KernelMemory.Touches"/>).</summary>
    public MmCpumask(MemoryTouches touches) => _touches = touches;

    /// <summary>A CPU switched to this mm.</summary>
    public void Add(int cpu)
    {
        _touches.Count++;
        lock (_lock)
        {
            _cpus.Add(cpu);
        }
    }

    /// <summary>A CPU switched away from it (4.7 x86 <c>switch_mm()</c> clears the bit).</summary>
    public void Remove(int cpu)
    {
        _touches.Count++;
        lock (_lock)
        {
            _cpus.Remove(cpu);
        }
    }

    /// <summary>The CPUs now, ascending.</summary>
    public int[] Snapshot()
    {
        _touches.Count++;
        lock (_lock)
        {
            return [.. _cpus];
        }
    }
}

/// <summary>The count behind <see cref="KernelMemory.Touches"/>, shared by the memory's parts.</summary>
public sealed class MemoryTouches
{
    /// <summary>Reads and writes so far.</summary>
    public long Count { get; set; }
}
