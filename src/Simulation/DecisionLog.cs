using System.Collections;
using System.Globalization;
using System.Runtime.InteropServices;

namespace TaskIsolation.Simulation;

/// <summary>
/// A 64-bit digest of a decision sequence (FNV-1a over each decision's kind, choice and number of options): what a
/// reproducer that does not list a run's earliest decisions records instead, so a replay that regenerates them can
/// tell whether it took the same ones.
/// </summary>
public struct DecisionDigest : IEquatable<DecisionDigest>
{
    private const ulong Offset = 14_695_981_039_346_656_037;
    private const ulong Prime = 1_099_511_628_211;
    private ulong _value;

    /// <summary>The digest of no decision.</summary>
    public static DecisionDigest Empty => new() { _value = Offset };

    /// <summary>The digest's value (<see cref="Offset"/> for none).</summary>
    public readonly ulong Value => _value == 0 ? Offset : _value;

    /// <summary>Adds <paramref name="d"/> to the sequence digested.</summary>
    public void Add(Decision d)
    {
        var h = Value;
        h = (h ^ (uint)d.Chosen) * Prime;
        h = (h ^ (uint)d.Of ^ ((ulong)d.Kind << 32)) * Prime;
        _value = h;
    }

    /// <summary>Sixteen lowercase hex digits, as reproducers store it.</summary>
    public override readonly string ToString() => Value.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Parses <see cref="ToString"/>'s form; false for anything else.</summary>
    public static bool TryParse(string? text, out DecisionDigest digest)
    {
        digest = Empty;
        if (text is not { Length: 16 } || !text.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'))
            || !ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v) || v == 0)
        {
            return false;
        }

        digest._value = v;
        return true;
    }

    /// <inheritdoc />
    public readonly bool Equals(DecisionDigest other) => Value == other.Value;

    /// <inheritdoc />
    public override readonly bool Equals(object? obj) => obj is DecisionDigest d && Equals(d);

    /// <inheritdoc />
    public override readonly int GetHashCode() => Value.GetHashCode();

    /// <summary>Equality of the values.</summary>
    public static bool operator ==(DecisionDigest left, DecisionDigest right) => left.Equals(right);

    /// <summary>Inequality of the values.</summary>
    public static bool operator !=(DecisionDigest left, DecisionDigest right) => !left.Equals(right);
}

/// <summary>
/// The decisions of a controlled run, in order. It counts every decision taken (<see cref="Total"/>) and keeps their
/// digest, but the decisions themselves only from <see cref="Start"/> on: a long run (a soak) forgets the older ones
/// with <see cref="ForgetBefore"/>, so what it keeps is bounded however long it runs. A run that never forgets (every
/// exploration schedule) keeps them all: then <see cref="Start"/> is 0 and the list is the whole run.
/// </summary>
/// <remarks>
/// Decisions are stored 8 bytes each in chunks of 64 Ki, so the log grows by chunks, never by copying itself, and
/// forgetting gives whole chunks back. A 1,024-CPU machine takes millions of decisions in its first simulated
/// milliseconds (every jiffy boundary releases a thousand same-instant deliveries, each a choice among the runnable
/// receivers); as a <see cref="List{T}"/> of 12-byte <see cref="Decision"/>s those were a large-object array that
/// doubled, and was copied, every time it filled.
/// </remarks>
public sealed class DecisionLog : IReadOnlyList<Decision>
{
    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;
    private readonly List<ulong[]> _chunks = [];
    private DecisionDigest _startDigest = DecisionDigest.Empty;
    private long _start;
    private int _head;
    private int _count;

    /// <summary>Decisions taken since the run began, forgotten ones included.</summary>
    public long Total => _start + _count;

    /// <summary>The index (in the whole run) of the first decision kept: how many were forgotten.</summary>
    public long Start => _start;

    /// <summary>The digest of the decisions before <see cref="Start"/> (those forgotten).</summary>
    public DecisionDigest StartDigest => _startDigest;

    /// <summary>The decisions kept (from <see cref="Start"/> on).</summary>
    public int Count => _count;

    /// <summary>Kept decision <paramref name="index"/>, counted from <see cref="Start"/>.</summary>
    public Decision this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"{_count} decisions kept");
            }

            var at = _head + index;
            return Unpack(_chunks[at >> ChunkBits][at & (ChunkSize - 1)]);
        }
    }

    /// <summary>Records the next decision of the run.</summary>
    public void Add(Decision d) => Add(d.Kind, d.Chosen, d.Of);

    /// <summary>Records the next decision of the run (<paramref name="chosen"/> and <paramref name="of"/> are never negative).</summary>
    public void Add(DecisionKind kind, int chosen, int of)
    {
        var at = _head + _count;
        var slot = at & (ChunkSize - 1);
        if (slot == 0)
        {
            // A log starts small: most runs (every exploration schedule) take a few hundred decisions.
            _chunks.Add(new ulong[_chunks.Count == 0 ? 256 : ChunkSize]);
        }
        else if (at < ChunkSize && slot == _chunks[0].Length)
        {
            Array.Resize(ref CollectionsMarshal.AsSpan(_chunks)[0], Math.Min(ChunkSize, slot * 2));
        }

        _chunks[at >> ChunkBits][slot] = ((ulong)kind << 63) | ((ulong)(uint)chosen << 32) | (uint)of;
        _count++;
    }

    /// <summary>
    /// Forgets the decisions before decision <paramref name="index"/> of the run (at most <see cref="Total"/>; one
    /// already forgotten stays so), folding them into <see cref="StartDigest"/>; every chunk that holds only
    /// forgotten decisions is given back.
    /// </summary>
    public void ForgetBefore(long index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, Total);
        var drop = (int)(index - _start);
        if (drop <= 0)
        {
            return;
        }

        for (var i = 0; i < drop; i++)
        {
            _startDigest.Add(this[i]);
        }

        _head += drop;
        _count -= drop;
        _start = index;
        while (_head >= ChunkSize)
        {
            _chunks.RemoveAt(0);
            _head -= ChunkSize;
        }

        if (_chunks.Count == 0)
        {
            _head = 0;
        }
    }

    /// <summary>The kept decisions from decision <paramref name="from"/> of the run up to, not including, <paramref name="to"/>.</summary>
    public IReadOnlyList<Decision> Range(long from, long to)
    {
        if (from < _start || to > Total || from > to)
        {
            throw new ArgumentOutOfRangeException(nameof(from), $"decisions {from} to {to} of the run are not kept (kept: {_start} to {Total})");
        }

        var list = new List<Decision>((int)(to - from));
        for (var i = (int)(from - _start); i < (int)(to - _start); i++)
        {
            list.Add(this[i]);
        }

        return list;
    }

    /// <inheritdoc />
    public IEnumerator<Decision> GetEnumerator()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static Decision Unpack(ulong packed) =>
        new((DecisionKind)(packed >> 63), (int)((packed >> 32) & 0x7FFF_FFFF), (int)(uint)packed);
}
