using Akka.Configuration;
using FraudActors.Engine.Storage;

namespace FraudActors.Engine.Checkpoints.Store;

/// <summary>
/// The users' state store and the node's state cache of an actor system, made from its
/// configuration: <c>fraud.state.backend</c> (written by <see cref="JournalStore"/>: the same
/// database as the journals) and <c>fraud.state.cache-bytes</c> (<c>auto</c>: a sixteenth of the
/// memory the runtime may use, between 16 MiB and 2 GiB).
/// </summary>
public sealed class UserStateStores : IExtension
{
    public const long MinAutoCacheBytes = 16L << 20;
    public const long MaxAutoCacheBytes = 2L << 30;

    private UserStateStores(IUserStateStore store, StateCache cache) => (Store, Cache) = (store, cache);

    public IUserStateStore Store { get; }

    public StateCache Cache { get; }

    /// <summary>The journals' reads of users' states from the store (a start that missed memory).</summary>
    public StoreReads Reads { get; } = new();

    public static UserStateStores For(ActorSystem system) => system.WithExtension<UserStateStores, Provider>();

    /// <summary><c>auto</c> (or empty): sized for the machine; otherwise a HOCON size (<c>256MiB</c>) or a number of bytes.</summary>
    public static long CacheBytes(Config config)
    {
        var value = config.GetString("fraud.state.cache-bytes", "auto");
        return string.IsNullOrWhiteSpace(value) || value == "auto"
            ? Math.Clamp(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 16, MinAutoCacheBytes, MaxAutoCacheBytes)
            : config.GetByteSize("fraud.state.cache-bytes") is { } bytes && bytes >= 0
                ? bytes
                : throw new ArgumentException($"fraud.state.cache-bytes: expected auto or a size, got '{value}'");
    }

    private sealed class Provider : ExtensionIdProvider<UserStateStores>
    {
        public override UserStateStores CreateExtension(ExtendedActorSystem system)
        {
            var config = system.Settings.Config;
            var kind = config.GetString("fraud.state.backend.kind", JournalStore.Memory);
            var connection = config.GetString("fraud.state.backend.connection", string.Empty);
            IUserStateStore store = kind switch
            {
                JournalStore.Postgres => new SqlUserStateStore(SqlDatabase.PostgreSql(connection)),
                JournalStore.Sqlite => new SqlUserStateStore(SqlDatabase.Sqlite(connection)),
                _ => new MemoryUserStateStore(),
            };
            return new UserStateStores(store, new StateCache(CacheBytes(config)));
        }
    }
}

/// <summary>How often, for how many users and how long the journals read states from the store: cumulative, for metrics and benchmarks.</summary>
public sealed class StoreReads
{
    private long _reads;
    private long _users;
    private long _ticks;

    public long Count => Interlocked.Read(ref _reads);

    public long Users => Interlocked.Read(ref _users);

    public TimeSpan Time => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public void Record(int users, TimeSpan took)
    {
        Interlocked.Increment(ref _reads);
        Interlocked.Add(ref _users, users);
        Interlocked.Add(ref _ticks, took.Ticks);
    }
}
