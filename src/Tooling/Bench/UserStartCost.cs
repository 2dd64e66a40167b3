using FraudActors.Engine.Users;
using FraudActors.Messages.Commands;

namespace FraudActors.Tooling.Bench;

/// <summary>
/// What a user's start costs (docs/design.md, "Cheap user starts"): CPU and bytes allocated per
/// user started by its first record, as a node starts it — a <see cref="UserHost"/> per
/// partition (three) makes the user's actor a child of its own and forwards the record, the user
/// applies it and answers — against a bare actor started the same way: a parent per partition
/// that makes a child per id and forwards, the child answering with the record itself. The users
/// run without partition journals (a node's user reads a new user's absent state from its
/// journal's local view: one dictionary lookup). Every start is answered to one counting actor.
/// </summary>
internal static class UserStartCost
{
    private const int Parents = 3;

    public static async Task<(StartFigures User, StartFigures Bare)> MeasureAsync(UserSettings settings, int starts, CancellationToken stop)
    {
        var system = ActorSystem.Create("bench-starts", "akka.loglevel = WARNING");
        try
        {
            var hosts = Enumerable.Range(0, Parents)
                .Select(p => system.ActorOf(UserHost.PropsFor(id => UserActor.PropsFor(id, settings, TimeProvider.System), TimeSpan.Zero), "host-" + p))
                .ToArray();
            var bareParents = Enumerable.Range(0, Parents).Select(p => system.ActorOf(Props.Create(() => new BareParent()), "bare-" + p)).ToArray();

            // Warm-up first (JIT, the parents' first maps), then the measured starts on other ids.
            await StartAsync(system, hosts, "w", starts / 10, stop).ConfigureAwait(false);
            await StartAsync(system, bareParents, "w", starts / 10, stop).ConfigureAwait(false);
            var user = await StartAsync(system, hosts, "u", starts, stop).ConfigureAwait(false);
            var bare = await StartAsync(system, bareParents, "u", starts, stop).ConfigureAwait(false);
            return (user, bare);
        }
        finally
        {
            await system.Terminate().ConfigureAwait(false);
        }
    }

    /// <summary>Starts <paramref name="starts"/> children of <paramref name="parents"/>, one record each, from a collected heap.</summary>
    private static async Task<StartFigures> StartAsync(ActorSystem system, IActorRef[] parents, string prefix, int starts, CancellationToken stop)
    {
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var counter = system.ActorOf(Props.Create(() => new Counter(starts, answered)));
        var now = DateTimeOffset.UtcNow;
        var records = new ApplyTransaction[starts];
        for (var i = 0; i < starts; i++)
        {
            var partition = i % Parents;
            records[i] = new ApplyTransaction(partition, i / Parents, new Transaction(prefix + BenchData.UserId(i), 10m, "shop", now));
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var paused = GC.GetTotalPauseDuration();
        var clock = Stopwatch.StartNew();
        foreach (var record in records)
        {
            parents[record.Partition].Tell(record, counter);
        }

        await answered.Task.WaitAsync(TimeSpan.FromMinutes(5), stop).ConfigureAwait(false);
        clock.Stop();
        process.Refresh();
        return new StartFigures(
            starts / clock.Elapsed.TotalSeconds,
            (process.TotalProcessorTime - cpu).TotalMicroseconds / starts,
            (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)starts,
            (GC.GetTotalPauseDuration() - paused) / clock.Elapsed);
    }

    /// <summary>A parent per partition of bare children: one per id, started on its first message.</summary>
    private sealed class BareParent : UntypedActor
    {
        private readonly Dictionary<string, IActorRef> _children = new(StringComparer.Ordinal);

        protected override void OnReceive(object message)
        {
            var userId = ((ApplyTransaction)message).UserId;
            if (!_children.TryGetValue(userId, out var child))
            {
                _children[userId] = child = Context.ActorOf(Props.CreateBy(BareProducer.Instance));
            }

            child.Forward(message);
        }
    }

    /// <summary>A child that answers with what it got: an actor and nothing more.</summary>
    private sealed class BareChild : UntypedActor
    {
        protected override void OnReceive(object message) => Sender.Tell(message);
    }

    private sealed class BareProducer : IIndirectActorProducer
    {
        public static readonly BareProducer Instance = new();

        public Type ActorType => typeof(BareChild);

        public ActorBase Produce() => new BareChild();

        public void Release(ActorBase actor)
        {
        }
    }

    /// <summary>Counts answers; the last one completes the run.</summary>
    private sealed class Counter(int expected, TaskCompletionSource done) : UntypedActor
    {
        private int _count;

        protected override void OnReceive(object message)
        {
            if (++_count == expected)
            {
                done.TrySetResult();
            }
        }
    }
}

/// <summary>Starts per second, CPU µs and bytes allocated per start, and the share of the time the GC paused.</summary>
internal sealed record StartFigures(double PerSecond, double CpuMicroseconds, double Bytes, double PauseShare);
