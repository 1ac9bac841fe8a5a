namespace TaskIsolation.Machine.Boot;

/// <summary>
/// A machine configuration the model refuses (docs/model.md §2): an unknown or malformed Kconfig or sysctl setting, or a
/// Kconfig combination whose dependencies are not met. The message names the setting and, for a dependency, the
/// missing one.
/// </summary>
public sealed class ConfigException : Exception
{
    /// <summary>A configuration error with its message.</summary>
    public ConfigException(string message)
        : base(message)
    {
    }

    /// <summary>A configuration error caused by another exception.</summary>
    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>An unexplained configuration error; prefer a constructor with a message.</summary>
    public ConfigException()
        : base("invalid machine configuration")
    {
    }
}
