using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Outbox;

/// <summary>Opens an outbox table in the store that holds the partition journals, so rows and checkpoints share one database.</summary>
public static class OutboxTable
{
    /// <summary>The table of <paramref name="codec"/>'s kind in <paramref name="store"/> (<see cref="JournalStore"/>); in memory for the memory store.</summary>
    /// <exception cref="ArgumentException">The connection string is not valid for the store.</exception>
    public static IOutboxTable<T> Open<T>(string store, string connection, OutboxCodec<T> codec, SqliteAccess? access = null) => store switch
    {
        JournalStore.Postgres => SqlOutboxTable<T>.PostgreSql(connection, codec),
        JournalStore.Sqlite => SqlOutboxTable<T>.Sqlite(connection, codec, access),
        _ => new MemoryOutboxTable<T>(codec),
    };
}
