namespace TaskIsolation.Machine.Cpus;

/// <summary>
/// Why a CPU list was rejected, as the errno <c>bitmap_parselist()</c> returns (docs/model.md §3). The values are the
/// Linux errno numbers, so <c>-(int)error</c> is what the kernel function would have returned.
/// </summary>
public enum CpuListError
{
    /// <summary>A missing number, an unexpected character, <c>a &gt; b</c>, a group of 0 or more used than group.</summary>
    EINVAL = 22,

    /// <summary>A CPU number at or past the mask's size.</summary>
    ERANGE = 34,

    /// <summary>A number that does not fit 32 bits unsigned.</summary>
    EOVERFLOW = 75,
}
