using Akka.Cluster.Sharding;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Users;
using FraudActors.Messages.Commands;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// The engine scenario's second baseline, raw Akka sharding: a fresh one-node cluster, a shard
/// region ("raw-user") of plain actors each holding one user's <see cref="UserState"/> and
/// applying the same rule code as the one-thread baseline, sharded by the record's partition
/// (the service's own router, <see cref="UserMessageRouter"/>: a shard per partition). The driver parses each record and
/// tells the region; no reply per record, no persistence, no stream, no checkpoint. What the
/// pipeline costs over this is the pipeline's own, not sharding's.
/// </summary>
/// <remarks>
/// Completion: each user's actor adds the record it applied (and its alerts) to one shared
/// <see cref="Progress"/>, an interlocked increment; the driver awaits the count reaching a
/// target, signalled by the increment that reaches it, with no polling and no reply.
/// Back-pressure: after every <see cref="Chunk"/> records told the driver waits, when more than
/// <see cref="Window"/> are unapplied, until only that many are, so the mailboxes never hold
/// more than <see cref="Chunk"/> + <see cref="Window"/> records.
/// </remarks>
internal static class RawShardingBaseline
{
    private const int Chunk = 10_000;
    private const int Window = 20_000;

    /// <summary>Runs <paramref name="records"/> through the raw region, timed from the first record told to the last applied.</summary>
    public static async Task<RawShardingRun> RunAsync(BenchContext context, IReadOnlyList<KafkaRecord> records, UserSettings settings, TimeSpan timeout, CancellationToken stop)
    {
        var system = BenchData.StartClusterSystem(context, "bench-raw", config: CountingMailbox.Hocon);
        try
        {
            await BenchData.JoinSelfAsync(system, stop).ConfigureAwait(false);
            var progress = new Progress();
            var now = DateTimeOffset.UtcNow;
            var sharding = ClusterSharding.Get(system);
            var region = await sharding.StartAsync(
                "raw-user",
                id => Props.CreateBy(new UserProducer(id, settings, now, progress)),
                ClusterShardingSettings.Create(system),
                new UserMessageRouter()).ConfigureAwait(false);
            var parser = new TransactionParser();
            var counts = DispatchCounts.Now();
            var clock = Stopwatch.StartNew();
            for (var told = 1; told <= records.Count; told++)
            {
                var record = records[told - 1];
                var tx = parser.Parse(record.Key, record.Key is not null, record.Value).Transaction!;
                region.Tell(new ApplyTransaction(record.Partition, record.Offset, tx), ActorRefs.NoSender);
                if (told % Chunk == 0 && told - progress.Applied > Window)
                {
                    await progress.WhenAppliedAsync(told - Window).WaitAsync(timeout, stop).ConfigureAwait(false);
                }
            }

            await progress.WhenAppliedAsync(records.Count).WaitAsync(timeout, stop).ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds;
            return new RawShardingRun(seconds, progress.Alerts, DispatchCounts.Now().Since(counts));
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>Records applied and alerts raised by every user's actor, and the driver's wait for a count.</summary>
    private sealed class Progress
    {
        private long _applied;
        private long _alerts;
        private long _target = long.MaxValue;
        private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Applied => Interlocked.Read(ref _applied);

        public long Alerts => Interlocked.Read(ref _alerts);

        /// <summary>Called by a user's actor per record; the increment that reaches the target wakes the driver.</summary>
        public void Add(int alerts)
        {
            if (alerts > 0)
            {
                Interlocked.Add(ref _alerts, alerts);
            }

            if (Interlocked.Increment(ref _applied) == Volatile.Read(ref _target))
            {
                Volatile.Read(ref _reached).TrySetResult();
            }
        }

        /// <summary>
        /// Completes once <paramref name="count"/> records are applied. The target is set (a full
        /// fence) before the count is read: either this read sees the count reached, or the
        /// increment that reaches it sees the target. One waiter at a time.
        /// </summary>
        public Task WhenAppliedAsync(long count)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _reached, reached);
            Interlocked.Exchange(ref _target, count);
            return Applied >= count ? Task.CompletedTask : reached.Task;
        }
    }

    /// <summary>One user's state and the rule code, nothing else: no journal, no reply, no stash.</summary>
    private sealed class RawUser(string userId, UserSettings settings, DateTimeOffset now, Progress progress) : UntypedActor
    {
        private UserState _state = UserState.Empty(userId);

        protected override void OnReceive(object message)
        {
            if (message is ApplyTransaction apply)
            {
                var outcome = _state.Apply(apply, settings, now);
                _state = outcome.State;
                progress.Add(outcome.Alerts.Count);
            }
            else
            {
                Unhandled(message);
            }
        }
    }

    /// <summary>Calls the constructor, as the user actor's producer does: no expression compiled per user.</summary>
    private sealed class UserProducer(string userId, UserSettings settings, DateTimeOffset now, Progress progress) : IIndirectActorProducer
    {
        public Type ActorType => typeof(RawUser);

        public ActorBase Produce() => new RawUser(userId, settings, now, progress);

        public void Release(ActorBase actor)
        {
        }
    }
}

/// <summary>A raw sharding run: its wall-clock seconds, the alerts raised, its dispatch work.</summary>
internal sealed record RawShardingRun(double Seconds, long Alerts, DispatchCounts Counts);
