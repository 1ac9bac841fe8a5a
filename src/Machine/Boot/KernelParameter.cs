namespace TaskIsolation.Machine.Boot;

/// <summary>
/// One kernel command-line parameter after the kernel's splitting: <c>param=value</c> or <c>param</c> alone. Quotes
/// are already removed where <c>next_arg()</c> removes them.
/// </summary>
/// <param name="Name">The name as written (dashes and underscores are not normalised here).</param>
/// <param name="Value">The value after the first <c>=</c>, or null when there is no <c>=</c>.</param>
public sealed record KernelParameter(string Name, string? Value)
{
    /// <summary>The parameter as the kernel rebuilds it for <c>__setup</c> handlers and init: <c>name=value</c>.</summary>
    public override string ToString() => Value is null ? Name : $"{Name}={Value}";
}
