namespace TaskIsolation.Actors.Soak;

/// <summary>The last <see cref="Capacity"/> items added, oldest first: a soak's memory of the recent past, bounded.</summary>
/// <typeparam name="T">Item type.</typeparam>
public sealed class EventRing<T>
{
    private readonly T[] _items;
    private long _added;

    /// <summary>A ring keeping the last <paramref name="capacity"/> items (0: keeps none, only counts).</summary>
    public EventRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _items = new T[capacity];
    }

    /// <summary>Most items kept.</summary>
    public int Capacity => _items.Length;

    /// <summary>Items ever added.</summary>
    public long Added => _added;

    /// <summary>Items currently kept.</summary>
    public int Count => (int)Math.Min(_added, _items.Length);

    /// <summary>Adds <paramref name="item"/>, dropping the oldest when full.</summary>
    public void Add(T item)
    {
        if (_items.Length > 0)
        {
            _items[_added % _items.Length] = item;
        }

        _added++;
    }

    /// <summary>The kept items, oldest first.</summary>
    public T[] ToArray()
    {
        var n = Count;
        var result = new T[n];
        var start = _added - n;
        for (var i = 0; i < n; i++)
        {
            result[i] = _items[(start + i) % _items.Length];
        }

        return result;
    }
}
