using FraudActors.Engine.Alerts;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Storage;
using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Windows;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Hosting;

/// <summary>
/// A node's tables in its store's database, beside the partition journals: alerts, window
/// results, checkpoint history and the fences. Opened before anything else starts, so that a bad
/// connection string, an unreachable database or a SQLite file another node holds is reported
/// first (exit 2, naming the option).
/// </summary>
public sealed class NodeStores : IDisposable
{
    private readonly FraudSettings _settings;

    /// <summary>The SQLite file this node holds (null on other stores), released when it ends.</summary>
    private readonly SqliteOwnership? _ownership;

    private NodeStores(FraudSettings settings, SqliteOwnership? ownership)
    {
        _settings = settings;
        _ownership = ownership;
        Alerts = AlertStore(settings);
        Database = DatabaseOf(settings);
        Windows = settings.Windows.Any ? WindowResultStore(settings) : null;
        CheckpointLog = Database is null ? null : new SqlCheckpointLog(Database);
    }

    /// <summary>The store's database (null for the memory store): the journals, alerts and checkpoint tables live there.</summary>
    public SqlDatabase? Database { get; }

    public IOutboxTable<Alert> Alerts { get; }

    /// <summary>The window results table; null when no window is configured.</summary>
    public IOutboxTable<WindowResult>? Windows { get; }

    /// <summary>The checkpoint history table, where there is a database to hold it.</summary>
    public ICheckpointLog? CheckpointLog { get; }

    /// <summary>Takes the SQLite file (when that is the store) and creates the tables a node needs.</summary>
    public static async Task<NodeStores> OpenAsync(FraudSettings settings, CancellationToken cancellationToken)
    {
        var ownership = settings.Store == JournalStore.Sqlite ? SqliteOwnership.Take(settings.Connection) : null;
        try
        {
            var stores = new NodeStores(settings, ownership);
            await stores.InitializeAsync(cancellationToken).ConfigureAwait(false);
            return stores;
        }
        catch
        {
            ownership?.Dispose();
            throw;
        }
    }

    /// <summary>The checkpoint history of a job's store, for <c>fraud checkpoints</c> (null for the memory store).</summary>
    public static ICheckpointLog? CheckpointLogOf(FraudSettings settings) =>
        DatabaseOf(settings) is { } database ? new SqlCheckpointLog(database) : null;

    /// <summary>The fence of one outbox of the job in the store (none for the memory store, which one process holds).</summary>
    public OutboxFence? OutboxFenceOf(string outbox, string owner) =>
        Database is { } database ? new OutboxFence(database, ClusterMembership.JobKey(_settings), outbox, owner) : null;

    /// <summary>The fence of the job's partition checkpoints in the store (none for the memory store).</summary>
    public PartitionFence? PartitionFenceOf(string owner) =>
        Database is { } database ? new PartitionFence(database, ClusterMembership.JobKey(_settings), owner) : null;

    /// <summary>The job's transactional id of one outbox when <c>fraud.outbox.transactional</c> is on; null otherwise.</summary>
    public string? TransactionalId(string outbox) =>
        _settings.TransactionalOutbox ? $"fraud-outbox-{_settings.GroupId}-{_settings.Topics.Transactions}-{outbox}" : null;

    public void Dispose() => _ownership?.Dispose();

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var settings = _settings;
        try
        {
            if (settings.Store == JournalStore.Sqlite)
            {
                await SqliteFaults.CheckWritableAsync(settings.Connection, cancellationToken).ConfigureAwait(false);
            }

            // Nodes starting together on a new PostgreSQL database create the tables one at a time.
            await using var schema = settings.Store == JournalStore.Postgres ? await SchemaLock.TakeAsync(settings.Connection, cancellationToken).ConfigureAwait(false) : null;
            await Alerts.InitializeAsync(cancellationToken).ConfigureAwait(false);
            if (Windows is not null)
            {
                await Windows.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }

            if (CheckpointLog is not null)
            {
                await CheckpointLog.InitializeAsync(cancellationToken).ConfigureAwait(false);
            }

            if (Database is { } database)
            {
                await OutboxFence.CreateTableAsync(database, cancellationToken).ConfigureAwait(false);
                await PartitionFence.CreateTableAsync(database, cancellationToken).ConfigureAwait(false);
            }

            if (settings.Store == JournalStore.Postgres)
            {
                await StoreDiscovery.CreateTableAsync(settings.Connection, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (settings.Store == JournalStore.Sqlite && SqliteFaults.Describe(settings.Connection, e) is { } fault)
        {
            throw new StoreFaultException(fault, e);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException($"the {settings.Store} database is not reachable: {e.Message}", e);
        }
    }

    /// <summary>The alerts table lives in the same database as the partition journals.</summary>
    private static IOutboxTable<Alert> AlertStore(FraudSettings settings)
    {
        try
        {
            return OutboxTable.Open(settings.Store, settings.Connection, AlertCodec.For(settings.Topics.Alerts));
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"--connection: not a valid {settings.Store} connection string: {e.Message}");
        }
    }

    /// <summary>The window results table, beside the alerts table.</summary>
    private static IOutboxTable<WindowResult> WindowResultStore(FraudSettings settings) =>
        OutboxTable.Open(settings.Store, settings.Connection, WindowResultCodec.For(settings.Topics.WindowCounts, settings.Topics.Sessions));

    private static SqlDatabase? DatabaseOf(FraudSettings settings) => settings.Store switch
    {
        JournalStore.Postgres => SqlDatabase.PostgreSql(settings.Connection),
        JournalStore.Sqlite => SqlDatabase.Sqlite(settings.Connection),
        _ => null,
    };
}
