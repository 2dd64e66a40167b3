using Akka.Configuration;
using Akka.Persistence.Sql;
using FraudActors.Engine.Serialization;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// Where partition journals live, as the HOCON of the Akka.Persistence plugins: in memory
/// (tests), SQLite (the embedded default) or PostgreSQL (production), the last two through
/// Akka.Persistence.Sql, whose tables are created on first start; with the serializers of what
/// is persisted (<see cref="CheckpointSerializer"/>) and of what crosses nodes
/// (<see cref="WireSerializer"/>, which also refuses every type without one).
/// </summary>
public static class JournalStore
{
    public const string Memory = "memory";
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>The persistence configuration, with the SQL plugin's own defaults beneath it.</summary>
    /// <param name="sqlite">How a SQLite file is shared; <see cref="SqliteAccess.Service"/> unless a test compares.</param>
    public static Config Config(string store, string connection, SqliteAccess? sqlite = null) =>
        ConfigurationFactory.ParseString(Hocon(store, connection, sqlite)).WithFallback(SqlPersistence.DefaultConfiguration);

    public static string Hocon(string store, string connection, SqliteAccess? sqlite = null)
    {
        var original = connection;

        // The plugin opens its own connections: the connection string is where they get their busy timeout.
        if (store == Sqlite)
        {
            connection = (sqlite ?? SqliteAccess.Service).ConnectionString(connection);
        }

        var (provider, mapping) = store switch
        {
            Memory => (string.Empty, string.Empty),
            Sqlite => ("SQLite.MS", "sqlite"),
            Postgres => ("PostgreSQL.15", "postgresql"),
            _ => throw new ArgumentOutOfRangeException(nameof(store), store, "expected memory, sqlite or postgres"),
        };

        // The journal and the snapshot store take the same settings, each under its own key.
        string Sql(string kind) => $$"""
            akka.persistence.{{kind}} {
              plugin = "akka.persistence.{{kind}}.sql"
              sql {
                connection-string = "{{Escape(connection)}}"
                provider-name = "{{provider}}"
                table-mapping = {{mapping}}
                auto-initialize = true
                # A checkpoint is one write of all its chunks; the plugin's default 10 s stopped
                # the journal on a million changed users (238 MB) and the checkpoint never
                # committed. As long as fraud.checkpoint.timeout's default: that one decides.
                circuit-breaker.call-timeout = 60s
                # The journals' back-off supervisor already spaces their retries (1 s doubling to
                # 10 s); a breaker left open for its default reset-timeout (60 s for snapshots)
                # failed every recovery for up to a minute after the database was back.
                circuit-breaker.reset-timeout = 1s
                # A checkpoint's chunks go as binary parameters, not as hex literals built into the
                # SQL text (twice the bytes, rendered by the client and parsed by the server):
                # measured 1.5-2x faster writes of 10,000 users' chunks (docs/benchmarks.md).
                prefer-parameters-on-multirow-insert = true
              }
            }
            """;

        var plugins = store == Memory
            ? """
              akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
              akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
              """
            : Sql("journal") + "\n" + Sql("snapshot-store");
        // Every actor system of the service (node, bench, tests, journal reader) is built on this
        // configuration, so the serializers go with it: the persisted events' and the wire's.
        // The users' states outside the journals live in the same database (UserStateStores).
        var backend = $$"""
            fraud.state.backend {
              kind = {{(store == Memory ? Memory : store)}}
              connection = "{{Escape(store == Sqlite ? original : connection)}}"
            }
            """;
        return plugins + "\n" + backend + "\n" + CheckpointSerializer.Hocon + "\n" + WireSerializer.Hocon;
    }

    private static string Escape(string s) =>
        s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
