using FraudActors.Engine.Storage;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;

namespace FraudActors.Service.Cli;

/// <summary>
/// Runs a command's body with Ctrl-C/SIGTERM as its cancellation and maps what escapes it to the
/// exit codes of <see cref="ExitCodes"/>, with one clear line on standard error.
/// </summary>
public static class Guarded
{
    public static async Task<int> RunAsync(Func<CancellationToken, Task<int>> body)
    {
        using var signal = new ShutdownSignal();
        try
        {
            return await body(signal.Token).ConfigureAwait(false);
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync($"fraud: {e.Message}").ConfigureAwait(false);
            return ExitCodes.BadArguments;
        }
        catch (StoreFaultException e)
        {
            await Console.Error.WriteLineAsync($"fraud: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (NodeApiException e)
        {
            await Console.Error.WriteLineAsync($"fraud: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (signal.Token.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"fraud: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }
}
