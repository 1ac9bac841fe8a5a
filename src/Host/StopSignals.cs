using System.Runtime.InteropServices;

namespace TaskIsolation.Host;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM for a long-running command (soak, a cluster coordinator or worker). The first asks the
/// command to stop: a soak finishes the current slice and writes its final snapshot, a cluster node leaves. A second
/// one is not intercepted: the process ends at once, as the user asked, and the last complete snapshot stays intact
/// because every snapshot file is replaced atomically.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Action<PosixSignal>? _onFirst;
    private readonly PosixSignalRegistration[] _registrations;
    private int _requests;

    /// <summary>Registers the handlers; dispose to restore the defaults.</summary>
    /// <param name="onFirst">Called on the first request, e.g. to tell the user what the command does now.</param>
    public StopSignals(Action<PosixSignal>? onFirst = null)
    {
        _onFirst = onFirst;
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    /// <summary>Cancelled by the first stop request.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>The signal of the first stop request, once there was one.</summary>
    public PosixSignal? Received { get; private set; }

    public void Dispose()
    {
        foreach (var r in _registrations)
        {
            r.Dispose();
        }

        _stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _requests) == 1)
        {
            // Keep the process: the command finishes what it is doing and flushes.
            context.Cancel = true;
            Received = context.Signal;
            _onFirst?.Invoke(context.Signal);
            _stop.Cancel();
        }

        // A second request: context.Cancel stays false, so the default action ends the process now.
    }
}
