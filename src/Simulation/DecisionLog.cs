using System.Collections;

namespace TaskIsolation.Simulation;

/// <summary>
/// The decisions of a controlled run, 8 bytes each in chunks of 64 Ki: a list that grows by chunks, never by copying
/// itself. A 1,024-CPU machine takes millions of decisions in its first simulated milliseconds (every jiffy boundary
/// releases a thousand same-instant deliveries, each a choice among the runnable receivers); as a
/// <see cref="List{T}"/> of 12-byte <see cref="Decision"/>s those were a large-object array that doubled, and was
/// copied, every time it filled.
/// </summary>
internal sealed class DecisionLog : IReadOnlyList<Decision>
{
    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;
    private readonly List<ulong[]> _chunks = [];
    private int _count;

    /// <inheritdoc />
    public int Count => _count;

    /// <inheritdoc />
    public Decision this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"a log of {_count} decisions");
            }

            var packed = _chunks[index >> ChunkBits][index & (ChunkSize - 1)];
            return new Decision((DecisionKind)(packed >> 63), (int)((packed >> 32) & 0x7FFF_FFFF), (int)(uint)packed);
        }
    }

    /// <summary>Appends a decision (<paramref name="chosen"/> and <paramref name="of"/> are never negative).</summary>
    public void Add(DecisionKind kind, int chosen, int of)
    {
        var slot = _count & (ChunkSize - 1);
        if (slot == 0)
        {
            // The first chunk starts small: most runs (every exploration schedule) take a few hundred decisions.
            _chunks.Add(new ulong[_count == 0 ? 256 : ChunkSize]);
        }
        else if (_count < ChunkSize && slot == _chunks[0].Length)
        {
            Array.Resize(ref System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_chunks)[0], Math.Min(ChunkSize, slot * 2));
        }

        _chunks[_count >> ChunkBits][slot] = ((ulong)kind << 63) | ((ulong)(uint)chosen << 32) | (uint)of;
        _count++;
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
}
