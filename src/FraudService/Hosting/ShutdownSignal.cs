using System.Runtime.InteropServices;

namespace FraudActors.FraudService.Hosting;

/// <summary>
/// Turns the first SIGINT (Ctrl-C) or SIGTERM into a cancellation so a command can stop cleanly;
/// a second one is left to terminate the process at once.
/// </summary>
public sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignal()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _cts.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        context.Cancel = true;
        Console.Error.WriteLine($"{context.Signal} received: stopping (again to force)");
        _cts.Cancel();
    }
}
