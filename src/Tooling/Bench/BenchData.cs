using System.Collections.Immutable;
using Akka.Cluster;
using Akka.Configuration;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Checkpoints;
using FraudActors.Testkit;
using Npgsql;

namespace FraudActors.Tooling.Bench;

/// <summary>Shared pieces of the scenarios: realistic user states, the actor system, timing, the SQL baseline.</summary>
public static class BenchData
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A user as the service keeps one mid-stream: 12 transactions, the last 5 in the velocity window.</summary>
    public static UserSnapshot User(int i, long offset)
    {
        var id = UserId(i);
        var times = ImmutableArray.CreateRange(Enumerable.Range(0, 5).Select(k => T0.AddSeconds(k * 7).ToUnixTimeMilliseconds()));
        return new UserSnapshot(id, UserStateCodec.Encode(new UserState(id, offset) { TransactionCount = 12 }.WithRuleState(SlidingVelocityRule.RuleName, times)));
    }

    public static string UserId(int i) => "user-" + i.ToString("D7", global::System.Globalization.CultureInfo.InvariantCulture);

    public static Transaction Transaction(string user, int second) => new(user, 12.5m, "shop", T0.AddSeconds(second));

    public static ActorSystem StartSystem(BenchContext context, string name) => ActorSystem.Create(
        name,
        ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING")
            .WithFallback(JournalStore.Config(context.Store, context.Connection)));

    /// <summary>
    /// A one-node cluster with sharding as a node runs its users (<see cref="OneNodeCluster.On"/>),
    /// on the context's store; <paramref name="passivateIdleAfter"/> as HOCON ("off", "2000ms"),
    /// sharding's default when null; <paramref name="config"/>, HOCON set over all of it (a
    /// scenario's own mailboxes, say). <see cref="JoinSelfAsync"/> makes it a cluster.
    /// </summary>
    public static ActorSystem StartClusterSystem(BenchContext context, string name, string? passivateIdleAfter = null, string? config = null) => ActorSystem.Create(
        name,
        ConfigurationFactory.ParseString($"""
            akka.stdout-loglevel = WARNING
            {(passivateIdleAfter is null ? string.Empty : "akka.cluster.sharding.passivate-idle-entity-after = " + passivateIdleAfter)}
            {config}
            """).WithFallback(OneNodeCluster.On(context.Store, context.Connection)));

    public static async Task JoinSelfAsync(ActorSystem system, CancellationToken stop)
    {
        var cluster = Cluster.Get(system);
        await cluster.JoinAsync(cluster.SelfAddress, stop).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="start"/> for <paramref name="count"/> indexes from <paramref name="first"/>, in order, at most <paramref name="window"/> in flight.</summary>
    public static async Task ForAllAsync(int first, int count, int window, Func<int, Task> start, CancellationToken stop)
    {
        var inFlight = new List<Task>(window);
        for (var i = first; i < first + count; i++)
        {
            inFlight.Add(start(i));
            if (inFlight.Count == window)
            {
                stop.ThrowIfCancellationRequested();
                await Task.WhenAll(inFlight).ConfigureAwait(false);
                inFlight.Clear();
            }
        }

        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    public static async Task<double> TimeAsync(Func<Task> work)
    {
        var clock = Stopwatch.StartNew();
        await work().ConfigureAwait(false);
        return clock.Elapsed.TotalMilliseconds;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>
    /// The floor under a checkpoint write: the same user states copied into a plain table with
    /// PostgreSQL's binary COPY in one transaction (no journal, no serializer, no actor). Null on SQLite.
    /// </summary>
    public static async Task<double?> CopyBaselineAsync(BenchContext context, IReadOnlyList<UserSnapshot> users)
    {
        if (context.Store != JournalStore.Postgres)
        {
            return null;
        }

        await using var connection = new NpgsqlConnection(context.Connection);
        await connection.OpenAsync().ConfigureAwait(false);
        await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_copy (user_id text NOT NULL, state bytea NOT NULL); TRUNCATE bench_copy", connection))
        {
            await create.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        var clock = Stopwatch.StartNew();
        await using (var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false))
        {
            await using (var writer = await connection.BeginBinaryImportAsync("COPY bench_copy (user_id, state) FROM STDIN (FORMAT BINARY)").ConfigureAwait(false))
            {
                foreach (var user in users)
                {
                    await writer.StartRowAsync().ConfigureAwait(false);
                    await writer.WriteAsync(user.UserId).ConfigureAwait(false);
                    await writer.WriteAsync(user.State).ConfigureAwait(false);
                }

                await writer.CompleteAsync().ConfigureAwait(false);
            }

            await transaction.CommitAsync().ConfigureAwait(false);
        }

        var elapsed = clock.Elapsed.TotalMilliseconds;
        await using (var drop = new NpgsqlCommand("DROP TABLE bench_copy", connection))
        {
            await drop.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        return elapsed;
    }
}

/// <summary>An in-process source has no consumer group: committed offsets stay in the journals.</summary>
internal sealed class NoConsumerGroup : FraudActors.Engine.Kafka.IKafkaSourceControl
{
    public Task Completion => Task.CompletedTask;

    public void StoreOffsets(IReadOnlyList<Confluent.Kafka.TopicPartitionOffset> nextOffsets)
    {
    }

    public Task DrainAndStopAsync() => Task.CompletedTask;

    public Task StopNowAsync() => Task.CompletedTask;
}
