using System.Collections.Immutable;
using TaskIsolation.Machine.Abi;
using TaskIsolation.Machine.Events;

namespace TaskIsolation.Exploration;

/// <summary>
/// Which (CPU state × interrupt kind) pairs the schedules reached, with how often: a clean campaign shows by it that
/// it did reach the dangerous corners (an IPI in <c>ReturnReady</c>, a tick in <c>UserIsolated</c>). Counts add up,
/// so merging is order-independent.
/// </summary>
public sealed class CoverageMap
{
    private static readonly CpuState[] States = Enum.GetValues<CpuState>();
    private static readonly InterruptKind[] Kinds = Enum.GetValues<InterruptKind>();
    private readonly long[] _counts = new long[States.Length * Kinds.Length];

    /// <summary>Every CPU state, in enum order.</summary>
    public static IReadOnlyList<CpuState> AllStates => States;

    /// <summary>Every interrupt kind, in enum order.</summary>
    public static IReadOnlyList<InterruptKind> AllKinds => Kinds;

    /// <summary>How many interrupts of <paramref name="kind"/> were taken in <paramref name="state"/>.</summary>
    public long this[CpuState state, InterruptKind kind] => _counts[Index(state, kind)];

    /// <summary>Pairs reached at least once.</summary>
    public int Reached => _counts.Count(c => c > 0);

    /// <summary>Every pair reached, with its count, in enum order.</summary>
    public ImmutableArray<(CpuState State, InterruptKind Kind, long Count)> Entries =>
        [.. from s in States from k in Kinds let c = this[s, k] where c > 0 select (s, k, c)];

    /// <summary>Counts the interrupts taken in <paramref name="events"/>.</summary>
    public void Observe(IEnumerable<MachineEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events)
        {
            if (e is InterruptTaken t)
            {
                _counts[Index(t.State, t.Kind)]++;
            }
        }
    }

    /// <summary>Adds a count (merging, or reading a stored result).</summary>
    public void Add(CpuState state, InterruptKind kind, long count) => _counts[Index(state, kind)] += count;

    /// <summary>Adds every count of <paramref name="other"/>.</summary>
    public void Add(CoverageMap other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    private static int Index(CpuState state, InterruptKind kind) => ((int)state * Kinds.Length) + (int)kind;
}
