namespace TaskIsolation.Simulation;

/// <summary>
/// The timed deliveries of a simulation, earliest first: a 4-ary min-heap ordered by (time, as-of time, sequence
/// number), the order <see cref="Simulation"/> releases timers in. Sequence numbers are unique, so the order is total
/// and does not depend on how the heap happens to hold its entries.
/// </summary>
/// <remarks>
/// What <see cref="PriorityQueue{TElement, TPriority}"/> did with the delivery inside each entry, this keeps apart: the
/// heap holds only the three numbers and a slot, and the deliveries (three references each) stay in their slots while
/// the entries move. Every sift of a <c>PriorityQueue</c> copied the references with a GC write barrier each and
/// compared its tuple priorities through the default comparer; here a sift moves plain numbers. Not thread-safe: the
/// simulation calls it under its timer lock.
/// </remarks>
/// <typeparam name="T">What is delivered.</typeparam>
internal sealed class TimerQueue<T>
{
    private const int Arity = 4;
    private Entry[] _heap = new Entry[16];
    private T[] _slots = new T[16];
    private int[] _freeSlots = new int[16];
    private int _count;
    private int _free;
    private int _slotsUsed;

    /// <summary>How many deliveries are queued.</summary>
    public int Count => _count;

    /// <summary>Queues <paramref name="item"/> at (<paramref name="time"/>, <paramref name="asOf"/>, <paramref name="seq"/>).</summary>
    public void Enqueue(T item, long time, long asOf, long seq)
    {
        var slot = _free > 0 ? _freeSlots[--_free] : NewSlot();
        _slots[slot] = item;
        if (_count == _heap.Length)
        {
            Array.Resize(ref _heap, _count * 2);
        }

        SiftUp(_count++, new Entry(time, asOf, seq, slot));
    }

    /// <summary>The earliest entry's time and sequence number, when there is one.</summary>
    public bool TryPeek(out long time, out long seq)
    {
        if (_count == 0)
        {
            time = 0;
            seq = 0;
            return false;
        }

        time = _heap[0].Time;
        seq = _heap[0].Seq;
        return true;
    }

    /// <summary>Takes the earliest delivery out (the queue must not be empty).</summary>
    public T Dequeue()
    {
        var slot = _heap[0].Slot;
        var last = _heap[--_count];
        if (_count > 0)
        {
            SiftDown(0, last);
        }

        return Take(slot);
    }

    /// <summary>
    /// Takes out every delivery whose sequence number is in <paramref name="seqs"/>, also removing it from
    /// <paramref name="alsoFrom"/>; returns how many it took out. Linear in the queue's length.
    /// </summary>
    public int RemoveAll(HashSet<long> seqs, HashSet<long> alsoFrom)
    {
        var kept = 0;
        for (var i = 0; i < _count; i++)
        {
            var e = _heap[i];
            if (seqs.Contains(e.Seq))
            {
                alsoFrom.Remove(e.Seq);
                _ = Take(e.Slot);
            }
            else
            {
                _heap[kept++] = e;
            }
        }

        var removed = _count - kept;
        _count = kept;
        if (removed > 0)
        {
            for (var i = (_count - 2) / Arity; i >= 0; i--)
            {
                SiftDown(i, _heap[i]);
            }
        }

        return removed;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool Before(in Entry a, in Entry b) =>
        a.Time != b.Time ? a.Time < b.Time : a.AsOf != b.AsOf ? a.AsOf < b.AsOf : a.Seq < b.Seq;

    private int NewSlot()
    {
        if (_slotsUsed == _slots.Length)
        {
            Array.Resize(ref _slots, _slotsUsed * 2);
            Array.Resize(ref _freeSlots, _slotsUsed * 2);
        }

        return _slotsUsed++;
    }

    private T Take(int slot)
    {
        var item = _slots[slot];
        _slots[slot] = default!;
        _freeSlots[_free++] = slot;
        return item;
    }

    private void SiftUp(int index, Entry e)
    {
        var heap = _heap;
        while (index > 0)
        {
            var parent = (index - 1) / Arity;
            if (!Before(e, heap[parent]))
            {
                break;
            }

            heap[index] = heap[parent];
            index = parent;
        }

        heap[index] = e;
    }

    private void SiftDown(int index, Entry e)
    {
        var heap = _heap;
        var count = _count;
        while (true)
        {
            var first = (index * Arity) + 1;
            if (first >= count)
            {
                break;
            }

            var min = first;
            var end = Math.Min(first + Arity, count);
            for (var c = first + 1; c < end; c++)
            {
                if (Before(heap[c], heap[min]))
                {
                    min = c;
                }
            }

            if (!Before(heap[min], e))
            {
                break;
            }

            heap[index] = heap[min];
            index = min;
        }

        heap[index] = e;
    }

    /// <summary>A queued delivery's place in the order, and the slot that holds it.</summary>
    private readonly record struct Entry(long Time, long AsOf, long Seq, int Slot);
}
