namespace TaskIsolation.Machine.Boot;

/// <summary>The printk log levels (<c>KERN_EMERG</c> … <c>KERN_DEBUG</c>), with the kernel's numbers.</summary>
public enum KernelLogLevel
{
    /// <summary><c>pr_emerg</c>: the system is unusable.</summary>
    Emerg = 0,

    /// <summary><c>pr_alert</c>.</summary>
    Alert = 1,

    /// <summary><c>pr_crit</c>.</summary>
    Crit = 2,

    /// <summary><c>pr_err</c>.</summary>
    Err = 3,

    /// <summary><c>pr_warn</c>.</summary>
    Warning = 4,

    /// <summary><c>pr_notice</c>.</summary>
    Notice = 5,

    /// <summary><c>pr_info</c>.</summary>
    Info = 6,

    /// <summary><c>pr_debug</c>.</summary>
    Debug = 7,
}
