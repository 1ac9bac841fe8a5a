using System.Runtime.InteropServices;

namespace TaskIsolation.Host.Soak;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM for a soak. The first asks the soak to stop: it finishes the current slice and writes
/// its final snapshot. A second one is not intercepted: the process ends at once, as the user asked, and the last
/// complete snapshot stays intact because every snapshot file is replaced atomically.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly TextWriter _stderr;
    private readonly PosixSignalRegistration[] _registrations;
    private int _requests;

    /// <summary>Registers the handlers; dispose to restore the defaults.</summary>
    public StopSignals(TextWriter stderr)
    {
        _stderr = stderr;
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    /// <summary>Cancelled by the first stop request.</summary>
    public CancellationToken Token => _stop.Token;

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
            // Keep the process: the soak finishes its slice and flushes.
            context.Cancel = true;
            _stderr.WriteLine($"taskisol soak: {context.Signal} received: finishing the current slice and writing the final snapshot (again to quit at once)");
            _stop.Cancel();
        }

        // A second request: context.Cancel stays false, so the default action ends the process now.
    }
}
