using System.Collections.Concurrent;
using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using FraudActors.Engine.Alerts;
using FraudActors.Engine.Checkpoints;
using FraudActors.Engine.Outbox;
using FraudActors.Engine.Storage;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Checkpoints;
using Microsoft.Data.Sqlite;

namespace FraudActors.Engine.Tests.Storage;

/// <summary>
/// Everything the service writes to one SQLite file at once, on a real file: partition journal
/// writes and recoveries through Akka.Persistence.Sql (as at a start, when every partition recovers
/// what an earlier run committed while the stream already flows), groups of alerts inserted by
/// the pipeline, the outbox reading and marking them published, the checkpoint history. With SQLite's defaults
/// this fails with "database is locked"; with <see cref="SqliteAccess.Service"/> nothing fails
/// and every row and event is there once.
/// </summary>
public sealed class SqliteSharedFileTests : IDisposable
{
    private const int AlertGroups = 300;
    private const int AlertsPerGroup = 8;
    private const int JournalWrites = 60;
    private const int CheckpointRecords = 150;
    private const int CommittedWrites = 50;
    private const int Recoveries = 8;

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"fraud-shared-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task With_sqlites_defaults_the_services_writes_meet_database_is_locked()
    {
        // As much work as a backlog of a few hundred thousand records gives, or until the first lock.
        var outcome = await RunAsync(SqliteAccess.Defaults, groups: 20_000, stopAtFirstLock: true);

        Assert.True(outcome.Locked.Count > 0, $"after {outcome.Inserted} groups no 'database is locked' in {outcome.Describe()}");
        Assert.Contains(outcome.Locked, e => e.Message.Contains("database is locked", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_the_services_access_every_write_lands_once_and_none_meets_a_lock()
    {
        var outcome = await RunAsync(SqliteAccess.Service, AlertGroups, stopAtFirstLock: false);

        Assert.True(outcome.Locked.Count == 0 && outcome.Other.Count == 0, outcome.Describe());
        var store = SqlOutboxTable<Alert>.Sqlite(ConnectionString, AlertCodec.For("alerts"));
        var ids = await store.IdsAsync(CancellationToken.None);
        Assert.Equal(AlertGroups * AlertsPerGroup, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal((ids.Count, (long)ids.Count), await store.CountAsync(CancellationToken.None));
        Assert.Equal(CheckpointRecords, (await new SqlCheckpointLog(SqlDatabase.Sqlite(ConnectionString)).RecentAsync(1000, CancellationToken.None)).Count);
        Assert.Equal(JournalWrites * Writer.EventsPerWrite, outcome.JournalEvents);
        Assert.Equal("wal", await ScalarAsync("PRAGMA journal_mode"));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _file, _file + "-wal", _file + "-shm", _file + "-journal" })
        {
            File.Delete(file);
        }
    }

    private string ConnectionString => $"Data Source={_file}";

    private async Task<Outcome> RunAsync(SqliteAccess access, int groups, bool stopAtFirstLock)
    {
        var outcome = new Outcome();
        using var stop = new CancellationTokenSource();
        void Record(Exception e)
        {
            if (IsLocked(e))
            {
                outcome.Locked.Add(e);
                if (stopAtFirstLock)
                {
                    stop.Cancel();
                }
            }
            else if (e is not OperationCanceledException)
            {
                outcome.Other.Add(e);
            }
        }

        var alerts = SqlOutboxTable<Alert>.Sqlite(ConnectionString, AlertCodec.For("alerts"), access);
        var checkpoints = new SqlCheckpointLog(SqlDatabase.Sqlite(ConnectionString, access));
        await alerts.InitializeAsync(CancellationToken.None);
        await checkpoints.InitializeAsync(CancellationToken.None);

        var config = ConfigurationFactory.ParseString("akka.loglevel = ERROR\nakka.stdout-loglevel = ERROR")
            .WithFallback(JournalStore.Config(JournalStore.Sqlite, ConnectionString, access));
        using var system = ActorSystem.Create("shared-file", config);

        // What an earlier run committed: a partition journal that recovers while the rest runs.
        var committed = system.ActorOf(Props.Create(() => new Writer("partition-journal-committed")));
        for (var i = 0; i < CommittedWrites; i++)
        {
            await committed.Ask<long>(Writer.Write.Instance, TimeSpan.FromSeconds(60));
        }

        system.Stop(committed);
        var inserting = new ConcurrentQueue<int>(Enumerable.Range(0, groups));
        var inserted = 0;

        async Task Work(Func<Task<bool>> step)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (!await step())
                    {
                        return;
                    }
                }
                catch (Exception e)
                {
                    Record(e);
                }
            }
        }

        // The pipeline: groups of records complete concurrently, each inserting its alerts.
        async Task<bool> InsertGroup()
        {
            if (!inserting.TryDequeue(out var group))
            {
                return false;
            }

            try
            {
                await alerts.AddRangeAsync([.. Enumerable.Range(0, AlertsPerGroup).Select(i => AlertAt(group, i))], stop.Token);
                Interlocked.Increment(ref inserted);
            }
            catch (Exception)
            {
                inserting.Enqueue(group);
                throw;
            }

            return true;
        }

        // The outbox: reads unpublished rows and marks them published until every alert is.
        async Task<bool> Publish()
        {
            var rows = await alerts.UnpublishedAsync(100, stop.Token);
            if (rows.Count > 0)
            {
                await alerts.MarkPublishedAsync([.. rows.Select(r => r.Id)], stop.Token);
                return true;
            }

            return Volatile.Read(ref inserted) < groups;
        }

        var recorded = 0;
        async Task<bool> RecordCheckpoint()
        {
            var next = recorded;
            if (next == CheckpointRecords)
            {
                return false;
            }

            await checkpoints.AddAsync(new CheckpointRecord(next, next % 3, DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(5), 10, 1000, next, CheckpointStatus.Completed, null), stop.Token);
            recorded++;
            return true;
        }

        // The journals: a partition journal persists checkpoint chunks; one that failed is
        // started again and recovers what was committed, as the service's does.
        var written = 0;
        IActorRef? writer = null;
        async Task<bool> WriteJournal()
        {
            if (written == JournalWrites)
            {
                return false;
            }

            writer ??= system.ActorOf(Props.Create(() => new Writer("partition-journal-shared")));
            var reply = await writer.Ask<object>(Writer.Write.Instance, TimeSpan.FromSeconds(120), stop.Token);
            if (reply is Status.Failure failure)
            {
                writer = null;
                throw failure.Cause;
            }

            written = (int)(long)reply / Writer.EventsPerWrite;
            return true;
        }

        var recovered = 0;
        async Task<bool> Recover()
        {
            if (recovered == Recoveries)
            {
                return false;
            }

            var journal = system.ActorOf(Props.Create(() => new Writer("partition-journal-committed")));
            var count = await journal.Ask<object>(Writer.Count.Instance, TimeSpan.FromSeconds(120), stop.Token);
            system.Stop(journal);
            if (count is not long events || events != CommittedWrites * Writer.EventsPerWrite)
            {
                throw new InvalidOperationException($"recovered {count} events, expected {CommittedWrites * Writer.EventsPerWrite}");
            }

            recovered++;
            return true;
        }

        await Task.WhenAll(
            Task.Run(() => Work(Recover)),
            Task.Run(() => Work(InsertGroup)),
            Task.Run(() => Work(InsertGroup)),
            Task.Run(() => Work(Publish)),
            Task.Run(() => Work(RecordCheckpoint)),
            Task.Run(() => Work(WriteJournal)));

        outcome.Inserted = inserted;
        if (!stopAtFirstLock)
        {
            var journal = system.ActorOf(Props.Create(() => new Writer("partition-journal-shared")));
            outcome.JournalEvents = (long)await journal.Ask<object>(Writer.Count.Instance, TimeSpan.FromSeconds(60));
        }

        await system.Terminate();
        return outcome;
    }

    private async Task<string?> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    /// <summary>SQLITE_BUSY or SQLITE_LOCKED anywhere in the causes: "database is locked", "database table is locked".</summary>
    private static bool IsLocked(Exception e) =>
        e is SqliteException { SqliteErrorCode: 5 or 6 }
        || (e.InnerException is { } inner && IsLocked(inner))
        || (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsLocked));

    private static Alert AlertAt(int group, int i) =>
        new(Alert.IdFor("sliding-velocity", group % 3, (group * AlertsPerGroup) + i), "sliding-velocity", $"u{group}", 6, 60_000, 12.5m, DateTimeOffset.UnixEpoch, group % 3, (group * AlertsPerGroup) + i, DateTimeOffset.UnixEpoch);

    private sealed class Outcome
    {
        public ConcurrentBag<Exception> Locked { get; } = [];

        public ConcurrentBag<Exception> Other { get; } = [];

        public long JournalEvents { get; set; }

        public int Inserted { get; set; }

        public string Describe() => string.Create(
            CultureInfo.InvariantCulture,
            $"{Locked.Count} lock errors, {Other.Count} other errors: {string.Join(" | ", Locked.Concat(Other).Take(5).Select(e => e.GetType().Name + ": " + e.Message))}");
    }

    /// <summary>A journal that persists a chunk of events per request and replies with how many it holds.</summary>
    private sealed class Writer : ReceivePersistentActor
    {
        public const int EventsPerWrite = 20;
        private long _count;
        private IActorRef? _asking;

        public Writer(string persistenceId)
        {
            PersistenceId = persistenceId;
            // The journal's own event type: the service's actor systems persist nothing unbound (docs/architecture.md, "Wire formats").
            Recover<CheckpointChunk>(_ => _count++);
            Command<Write>(_ =>
            {
                _asking = Sender;
                var chunk = Enumerable.Range(0, EventsPerWrite).Select(i => new CheckpointChunk(_count, i, [new UserSnapshot("u" + i.ToString(CultureInfo.InvariantCulture), new byte[2000])])).ToList();
                var left = chunk.Count;
                PersistAll(chunk, _ =>
                {
                    _count++;
                    if (--left == 0)
                    {
                        Sender.Tell(_count);
                    }
                });
            });
            Command<Count>(_ => Sender.Tell(_count));
        }

        public override string PersistenceId { get; }

        protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
        {
            _asking?.Tell(new Status.Failure(cause));
            base.OnPersistFailure(cause, @event, sequenceNr);
        }

        protected override void OnRecoveryFailure(Exception reason, object? message = null)
        {
            _asking?.Tell(new Status.Failure(reason));
            base.OnRecoveryFailure(reason, message);
        }

        public sealed class Write
        {
            public static readonly Write Instance = new();
        }

        public sealed class Count
        {
            public static readonly Count Instance = new();
        }
    }
}
