using System.Globalization;

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
public sealed class DecisionLog : IReadOnlyList<Decision>
{
    private readonly List<Decision> _kept = [];
    private DecisionDigest _startDigest = DecisionDigest.Empty;
    private long _start;

    /// <summary>Decisions taken since the run began, forgotten ones included.</summary>
    public long Total => _start + _kept.Count;

    /// <summary>The index (in the whole run) of the first decision kept: how many were forgotten.</summary>
    public long Start => _start;

    /// <summary>The digest of the decisions before <see cref="Start"/> (those forgotten).</summary>
    public DecisionDigest StartDigest => _startDigest;

    /// <summary>The decisions kept (from <see cref="Start"/> on).</summary>
    public int Count => _kept.Count;

    /// <summary>Kept decision <paramref name="index"/>, counted from <see cref="Start"/>.</summary>
    public Decision this[int index] => _kept[index];

    /// <summary>Records the next decision of the run.</summary>
    public void Add(Decision d) => _kept.Add(d);

    /// <summary>
    /// Forgets the decisions before decision <paramref name="index"/> of the run (at most <see cref="Total"/>; one
    /// already forgotten stays so), folding them into <see cref="StartDigest"/>; the storage they took is given back
    /// once it is more than twice what is left.
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
            _startDigest.Add(_kept[i]);
        }

        _kept.RemoveRange(0, drop);
        _start = index;
        if (_kept.Capacity > 1024 && _kept.Capacity > 2 * _kept.Count)
        {
            _kept.Capacity = Math.Max(_kept.Count, 1024);
        }
    }

    /// <summary>The kept decisions from decision <paramref name="from"/> of the run up to, not including, <paramref name="to"/>.</summary>
    public IReadOnlyList<Decision> Range(long from, long to)
    {
        if (from < _start || to > Total || from > to)
        {
            throw new ArgumentOutOfRangeException(nameof(from), $"decisions {from} to {to} of the run are not kept (kept: {_start} to {Total})");
        }

        return _kept.GetRange((int)(from - _start), (int)(to - from));
    }

    /// <inheritdoc />
    public IEnumerator<Decision> GetEnumerator() => _kept.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
