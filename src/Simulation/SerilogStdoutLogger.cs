using Akka.Event;
using Serilog.Events;

namespace TaskIsolation.Simulation;

/// <summary>
/// Akka's "very basic logger", used before the configured loggers start and after they stop (<c>akka.stdout-logger-class</c>):
/// Akka's own one (<see cref="StandardOutLogger"/>) writes to stdout, and at shutdown with the current <c>loglevel</c>, not
/// <c>stdout-loglevel</c>, so a node's last INFO lines ("Remoting shut down") landed after the command's own output. This
/// one sends them where every other node log goes: the host's Serilog logger (stderr at the chosen level, <c>--log</c>).
/// </summary>
public sealed class SerilogStdoutLogger : MinimalLogger
{
    /// <inheritdoc />
    protected override void Log(object message)
    {
        if (message is not Akka.Event.LogEvent e)
        {
            return;
        }

        var level = e.LogLevel() switch
        {
            Akka.Event.LogLevel.DebugLevel => LogEventLevel.Debug,
            Akka.Event.LogLevel.InfoLevel => LogEventLevel.Information,
            Akka.Event.LogLevel.WarningLevel => LogEventLevel.Warning,
            _ => LogEventLevel.Error,
        };
        Serilog.Log.Logger.ForContext("LogSource", e.LogSource).Write(level, e.Cause, "{Message:l}", e.Message?.ToString() ?? string.Empty);
    }
}
