using FraudActors.Engine.Time;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// Event time and timers: the partitions' clocks move at the stream's turn, and users whose
/// timers the clock has passed are woken and their window results handed to the run's outputs.
/// </summary>
internal sealed class EventTimeDriver(UserDelivery users, PipelineSettings settings, PipelineMetrics metrics, PipelineTime time)
{
    /// <summary>
    /// The clock tick: an idle partition's watermark follows the slowest partition still receiving
    /// records (or, when all are idle, the wall clock), processing time moves, and users whose
    /// replies came after the watermark passed their timers are woken now.
    /// </summary>
    public async Task<Step> TickAsync(RunState run)
    {
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var watermarks = time.Settings.Watermarks;
        var eventTime = time.Settings.Characteristic == TimeCharacteristic.EventTime;
        var active = run.Clocks.Values.Where(c => c.Watermark.Started && !c.Watermark.IsIdle(nowMs, watermarks)).ToList();
        var slowestActive = active.Count > 0 ? active.Min(c => c.Watermark.Current(nowMs, watermarks)) : long.MinValue;
        var wakes = new List<Task>();
        foreach (var (partition, clock) in run.Clocks)
        {
            if (eventTime && clock.Watermark.IsIdle(nowMs, watermarks) && slowestActive != long.MinValue)
            {
                clock.Watermark = clock.Watermark.FollowTo(slowestActive, nowMs, watermarks);
            }

            clock.Advance(eventTime ? clock.Watermark.Current(nowMs, watermarks) : nowMs);
            metrics.Partitions.Clock(partition, clock.Given);
            wakes.Add(WakeAsync(run, partition, clock, nowMs));
        }

        await Task.WhenAll(wakes).ConfigureAwait(false);
        return Step.Nothing;
    }

    /// <summary>
    /// Sends <see cref="AdvanceTime"/> to every user of the partition due at its clock — now, at
    /// the stream's turn, so it reaches each user in order with its records — then hands what
    /// fired to the run's outputs and indexes when each user next needs waking. The answers come
    /// back to one counting reply target, not an ask per user.
    /// </summary>
    public async Task WakeAsync(RunState run, int partition, PartitionClock clock, long nowMs)
    {
        // Every user taken is woken, also the one whose record moved the clock (its wake follows
        // the record): it may report its next timer only when it moves earlier, so the index
        // must never lose an entry without the user's answer to put it back.
        var woken = clock.TakeDue(clock.Given);
        if (woken.Count == 0)
        {
            return;
        }

        var to = users.For(run, partition);
        var rules = run.RulesFor(partition);
        var replies = new CountedReplies<TimeAdvanced>(((IInternalActorRef)users.Region).Provider, woken.Count, settings.AskTimeout, "AdvanceTime");
        foreach (var user in woken)
        {
            run.Tracker.Touched(partition, user);
            to.Tell(new AdvanceTime(partition, user, clock.Given, nowMs, run.Generation) { Rules = rules, PreviousOffset = run.Tracker.LastSent(partition, user) }, replies);
        }

        var fired = new List<WindowResult>();
        foreach (var reply in await replies.All.ConfigureAwait(false))
        {
            if (reply.Lost is { } lost)
            {
                // A record sent before this wake never reached its user: the partition rewinds.
                throw new CheckpointFailedException($"user {reply.UserId}, partition {reply.Partition}: {lost}");
            }

            clock.WakeBy(reply.UserId, reply.NextTimerMs);
            fired.AddRange(reply.Windows);
        }

        run.Outputs.Add(null, fired);
    }
}
