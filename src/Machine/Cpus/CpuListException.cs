namespace TaskIsolation.Machine.Cpus;

/// <summary>A CPU list that <c>bitmap_parselist()</c> would reject; thrown by <see cref="CpuList.ParseOrThrow"/>.</summary>
public sealed class CpuListException : FormatException
{
    /// <summary>Wraps a failed parse.</summary>
    public CpuListException(CpuListResult result)
        : base((result ?? throw new ArgumentNullException(nameof(result))).Describe())
    {
        if (result.IsSuccess)
        {
            throw new ArgumentException("the parse succeeded", nameof(result));
        }

        Result = result;
    }

    /// <summary>The failed parse, including the partial mask.</summary>
    public CpuListResult Result { get; }

    /// <summary>The errno.</summary>
    public CpuListError Error => Result.Error!.Value;
}
