namespace TaskIsolation.Machine.Boot;

/// <summary>One file under <c>/sys/devices/system/cpu</c> and what reading it returns.</summary>
/// <param name="Name">The file name, e.g. <c>nohz_full</c>.</param>
/// <param name="Contents">Exactly what a read returns: the <c>%*pbl</c> list and a newline (a lone newline when
/// the set is empty).</param>
public sealed record SysfsFile(string Name, string Contents)
{
    /// <summary>The directory of the CPU files.</summary>
    public const string Directory = "/sys/devices/system/cpu";

    /// <summary>The file's full path.</summary>
    public string Path => $"{Directory}/{Name}";
}
