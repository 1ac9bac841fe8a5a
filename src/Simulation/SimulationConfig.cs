using Akka.Configuration;

namespace TaskIsolation.Simulation;

/// <summary>The HOCON an actor system needs to host simulated machines.</summary>
public static class SimulationConfig
{
    /// <summary>Dispatcher of model actors in controlled mode.</summary>
    public const string ControlledDispatcher = "taskisolation.controlled-dispatcher";

    /// <summary>Dispatcher of model actors in concurrent mode.</summary>
    public const string ConcurrentDispatcher = "taskisolation.concurrent-dispatcher";

    /// <summary>
    /// The dispatchers, quiet logging through Serilog, and no dead-letter chatter (model actors of a finished run may
    /// still hold messages). Combine it with a user config via <c>WithFallback</c>.
    /// </summary>
    public static Config Hocon { get; } = ConfigurationFactory.ParseString($$"""
        taskisolation {
          controlled-dispatcher {
            type = Dispatcher
            executor = "{{typeof(InlineExecutorConfigurator).AssemblyQualifiedName}}"
            # one message per mailbox run: every delivery is a separate decision of the strategy
            throughput = 1
          }
          concurrent-dispatcher {
            type = Dispatcher
            executor = fork-join-executor
            fork-join-executor {
              parallelism-min = 2
              parallelism-factor = 1.0
              parallelism-max = 64
            }
            throughput = 32
          }
        }
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          # Akka's basic logger runs before the loggers start and after they stop; ours sends those lines to Serilog, not stdout.
          stdout-logger-class = "TaskIsolation.Simulation.SerilogStdoutLogger, TaskIsolation.Simulation"
          loggers = ["Akka.Logger.Serilog.SerilogLogger, Akka.Logger.Serilog"]
          logger-formatter = "Akka.Logger.Serilog.SerilogLogMessageFormatter, Akka.Logger.Serilog"
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          actor.debug.unhandled = off
        }
        """);
}
