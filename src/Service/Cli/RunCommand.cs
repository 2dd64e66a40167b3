using System.CommandLine;
using FraudActors.Engine.Checkpoints;
using FraudActors.Service.Composition;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;
using FraudActors.Service.Http;

namespace FraudActors.Service.Cli;

/// <summary><c>fraud run</c>: one service node against a given Kafka bootstrap.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var command = new Command("run", "Run one FraudActors node: read transactions, apply the rules, publish alerts.");
        var options = new CommandOptions(
            command,
            SettingKeys.Bootstrap,
            SettingKeys.Group,
            SettingKeys.TransactionsTopic,
            SettingKeys.AlertsTopic,
            SettingKeys.DlqTopic,
            SettingKeys.WindowCountsTopic,
            SettingKeys.SessionsTopic,
            SettingKeys.LateTopic,
            SettingKeys.RulesTopic,
            SettingKeys.RulesDlqTopic,
            SettingKeys.TimeCharacteristic,
            SettingKeys.OutOfOrderness,
            SettingKeys.IdleTimeout,
            SettingKeys.Store,
            SettingKeys.Connection,
            SettingKeys.StorePath,
            SettingKeys.Http,
            SettingKeys.AdminToken,
            SettingKeys.ReadToken,
            SettingKeys.CheckpointInterval,
            SettingKeys.Parallelism,
            SettingKeys.NodePort,
            SettingKeys.NodeHostname,
            SettingKeys.SeedNodes,
            SettingKeys.ShardAllocation,
            SettingKeys.NodeTlsCertificate,
            SettingKeys.NodeTlsCa,
            SettingKeys.NodeTlsPassword,
            SettingKeys.OutboxTransactional);
        command.SetAction((parse, _) => Guarded.RunAsync(async stop =>
        {
            var settings = options.Settings(parse);
            Validate(settings);
            if (settings.Store == JournalStore.Memory)
            {
                await Console.Error.WriteLineAsync(MemoryStoreWarning).ConfigureAwait(false);
            }
            await using var node = await FraudNode.StartAsync(settings, new NodeOutputs(alert => Console.WriteLine(alert.ToConsoleLine())), stop).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"fraud: running; reading '{settings.Topics.Transactions}' from {settings.Bootstrap}. Ctrl-C stops.").ConfigureAwait(false);

            // Ctrl-C/SIGTERM stops as PATCH /jobs/{id}?mode=stop does: with a final checkpoint.
            var mode = StopMode.Stop;
            try
            {
                var ended = await Task.WhenAny(node.Job.StopRequested, node.RemovedFromCluster, node.StoreFault, node.Fenced).WaitAsync(stop).ConfigureAwait(false);
                if (ended == node.Fenced)
                {
                    // Another node of the job took the outbox or a partition over: this node's cluster is not the job's any more.
                    await Console.Error.WriteLineAsync($"fraud: fenced: {await node.Fenced.ConfigureAwait(false)}; stopping without a final checkpoint (the job's cluster goes on)").ConfigureAwait(false);
                    await node.CancelAsync().ConfigureAwait(false);
                    return ExitCodes.Failure;
                }

                if (ended == node.StoreFault)
                {
                    await StopOnStoreFaultAsync(node).ConfigureAwait(false);
                    return ExitCodes.Failure;
                }

                if (ended == node.RemovedFromCluster)
                {
                    // Downed by the split-brain resolver: the others took its partitions over, so it
                    // must not checkpoint them again. Exit non-zero so that a supervisor restarts it.
                    await Console.Error.WriteLineAsync("fraud: this node was removed from the cluster (downed: the other nodes could not reach it); stopping without a final checkpoint, restart it to join again").ConfigureAwait(false);
                    await node.CancelAsync().ConfigureAwait(false);
                    return ExitCodes.Failure;
                }

                mode = await node.Job.StopRequested.ConfigureAwait(false);
                await Console.Error.WriteLineAsync($"fraud: {(mode == StopMode.Cancel ? "cancel" : "stop")} requested over HTTP").ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await (mode == StopMode.Cancel ? node.CancelAsync() : node.StopAsync()).ConfigureAwait(false);
            await Console.Error.WriteLineAsync($"fraud: {(mode == StopMode.Cancel ? "cancelled, without a final checkpoint" : "stopped cleanly")} ({node.Metrics})").ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>
    /// The store cannot be written (disk full, permission denied): says so, naming the file and the
    /// cause, and stops without a final checkpoint (it could not be written); a restart resumes
    /// from the last one. The stop is bounded: records waiting on a journal that cannot write
    /// would hold it up for the ask timeout, and an exit at any point loses nothing (the alerts
    /// table and the last checkpoint are what a restart starts from, as after kill -9).
    /// </summary>
    public static async Task StopOnStoreFaultAsync(FraudNode node)
    {
        await Console.Error.WriteLineAsync($"fraud: {node.StoreFault.Result}").ConfigureAwait(false);
        await Console.Error.WriteLineAsync("fraud: stopping without a final checkpoint; a restart resumes from the last completed one").ConfigureAwait(false);
        try
        {
            await node.CancelAsync().WaitAsync(StoreFaultStopTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await Console.Error.WriteLineAsync($"fraud: not stopped within {StoreFaultStopTimeout}; exiting").ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan StoreFaultStopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Said at start by a node on the memory store.</summary>
    public const string MemoryStoreWarning =
        "fraud: WARNING: --store memory keeps users' state, checkpoints and alerts in this process only: a crash or kill loses them all. Without store options the service keeps them in SQLite (fraud-state.db)";

    /// <summary>Refuses settings this build cannot honour rather than silently ignoring them.</summary>
    public static void Validate(FraudSettings settings)
    {
        if (settings.Store != JournalStore.Memory && string.IsNullOrWhiteSpace(settings.Connection))
        {
            throw new ConfigurationException(
                $"--connection: --store {settings.Store} needs the database's connection string (e.g. \"Host=127.0.0.1;Port=5432;Username=fraud;Password=…;Database=fraud\" or \"Data Source=fraud.db\")");
        }

        _ = HttpAddress.Parse(settings.Http);
    }
}
