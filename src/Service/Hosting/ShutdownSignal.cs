using System.Runtime.InteropServices;

namespace FraudActors.Service.Hosting;

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
        // A shell without job control starts background commands with SIGINT ignored, and the
        // runtime keeps an ignored SIGINT ignored; a service must still stop on it.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            _ = Native.signal(SigInt, SigDfl);
        }

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

    private const int SigInt = 2;
    private static readonly IntPtr SigDfl = IntPtr.Zero;

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

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        internal static extern IntPtr signal(int signum, IntPtr handler);
    }
}
