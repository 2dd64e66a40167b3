using FraudActors.Engine.Rules;
using FraudActors.Engine.State;
using FraudActors.Engine.Time;
using FraudActors.Engine.Users;
using FraudActors.Engine.Windows;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Transactions;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Tests.Users;

/// <summary>
/// A user's windows, timers and timer rules driven by its partition's clock exactly as the
/// pipeline stamps records (<see cref="RecordClock"/>), against results computed by hand.
/// </summary>
public sealed class UserTimeTests
{
    private const long Second = 1_000;
    private const long Minute = 60 * Second;
    private static readonly long T0 = new DateTimeOffset(2026, 3, 17, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly DateTimeOffset Now = new(2026, 3, 17, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSettings EventTime = new(TimeCharacteristic.EventTime, new WatermarkSettings(TimeSpan.FromSeconds(5), IdleTimeout: null), TimeSpan.FromMilliseconds(200));

    [Fact]
    public void Tumbling_counts_per_five_minutes_fire_when_the_watermark_passes_and_a_late_record_joins_none()
    {
        var user = new Driver(new UserSettings(new RuleSettings(SlidingVelocity: null), new WindowSettings(Tumbling: TimeSpan.FromMinutes(5))));

        // 09:01, 09:04:58, then 09:04:56 out of order but within the 5 s bound: all in [09:00, 09:05).
        user.Send(T0 + Minute, 10m);
        user.Send(T0 + (4 * Minute) + (58 * Second), 20m);
        user.Send(T0 + (4 * Minute) + (56 * Second), 5m);
        Assert.Empty(user.Results);

        // 09:05:04 moves the watermark to 09:04:59: not yet past the window's last millisecond.
        user.Send(T0 + (5 * Minute) + (4 * Second), 1m);
        Assert.Empty(user.Results);

        // 09:05:05 moves it to 09:05:00: [09:00, 09:05) fires with its 3.
        user.Send(T0 + (5 * Minute) + (5 * Second), 1m);
        var first = Assert.Single(user.Results);
        Assert.Equal(Counts(WindowKinds.Tumbling, T0, T0 + (5 * Minute), 3, 35m), Shape(first));
        Assert.Equal($"tumbling:u1:{T0}:{T0 + (5 * Minute)}", first.ResultId);

        // 09:04:50 now is late (ts ≤ watermark): it goes to the late side output, no window takes it.
        var late = user.Send(T0 + (4 * Minute) + (50 * Second), 99m);
        Assert.True(late.Late);
        Assert.Single(user.Results);

        // The next window fires once the watermark passes 09:09:59.999, holding 09:05:04 and 09:05:05.
        user.Send(T0 + (10 * Minute) + (5 * Second), 2m);
        Assert.Equal(Counts(WindowKinds.Tumbling, T0 + (5 * Minute), T0 + (10 * Minute), 2, 2m), Shape(user.Results[1]));
    }

    [Fact]
    public void Sliding_windows_of_ten_minutes_every_five_count_each_record_twice()
    {
        var user = new Driver(new UserSettings(new RuleSettings(SlidingVelocity: null), new WindowSettings(SlidingSize: TimeSpan.FromMinutes(10), SlidingSlide: TimeSpan.FromMinutes(5))));
        user.Send(T0 + (2 * Minute), 1m);   // [08:55, 09:05) and [09:00, 09:10)
        user.Send(T0 + (7 * Minute), 2m);   // [09:00, 09:10) and [09:05, 09:15)
        user.Send(T0 + (16 * Minute), 4m);  // watermark 09:15:55: the first three windows fire
        Assert.Equal(
            [
                Counts(WindowKinds.Sliding, T0 - (5 * Minute), T0 + (5 * Minute), 1, 1m),
                Counts(WindowKinds.Sliding, T0, T0 + (10 * Minute), 2, 3m),
                Counts(WindowKinds.Sliding, T0 + (5 * Minute), T0 + (15 * Minute), 1, 2m),
            ],
            user.Results.Select(Shape));
    }

    [Fact]
    public void A_session_is_extended_by_a_late_but_allowed_record_and_closes_a_gap_after_its_last()
    {
        // Bound 5 s, allowed lateness 2 min, gap 10 min.
        var time = EventTime with { Watermarks = new WatermarkSettings(TimeSpan.FromSeconds(5), null, TimeSpan.FromMinutes(2)) };
        var user = new Driver(new UserSettings(new RuleSettings(SlidingVelocity: null), new WindowSettings(SessionGap: TimeSpan.FromMinutes(10), AllowedLateness: TimeSpan.FromMinutes(2))), time);
        user.Send(T0, 10m);                                  // session A: 09:00 …
        user.Send(T0 + (5 * Minute), 5m);                    // … 09:05, open until 09:15 (+2 min lateness)
        user.Send(T0 + (16 * Minute) + (30 * Second), 1m);   // session C: 09:16:30, apart from A; watermark 09:16:25
        Assert.Empty(user.Results);

        // 09:10 is late: 09:10 + 2 min is behind the watermark. It joins no session.
        Assert.True(user.Send(T0 + (10 * Minute), 7m).Late);

        // 09:14:40 is behind the watermark but within the allowed lateness. Its window
        // [09:14:40, 09:24:40) touches A (open until 09:15) and C: the three are one session.
        Assert.False(user.Send(T0 + (14 * Minute) + (40 * Second), 3m).Late);
        Assert.Empty(user.Results);

        // 09:40 → watermark 09:39:55, past 09:16:30 + 10 min gap + 2 min: the merged session fires.
        user.Send(T0 + (40 * Minute), 2m);
        var merged = Assert.Single(user.Results);
        Assert.Equal(
            (WindowKinds.Session, T0, T0 + (16 * Minute) + (30 * Second), 4L, 19m, 990L),
            (merged.Kind, merged.WindowStart.ToUnixTimeMilliseconds(), merged.WindowEnd.ToUnixTimeMilliseconds(), merged.Count, merged.TotalAmount, merged.DurationSeconds));
        Assert.Equal($"session:u1:{T0}", merged.ResultId);
    }

    [Fact]
    public void A_user_that_receives_no_more_records_fires_when_its_partition_clock_passes()
    {
        var settings = new UserSettings(new RuleSettings(SlidingVelocity: null), new WindowSettings(Tumbling: TimeSpan.FromMinutes(5), CountSize: 2));
        var user = new Driver(settings);
        user.Send(T0 + Minute, 4m);
        user.Send(T0 + (2 * Minute), 6m);

        // The count window of two fired with the second record, not waiting for time.
        Assert.Equal((WindowKinds.Count, "count:u1:1", 2L, 10m), (user.Results[0].Kind, user.Results[0].ResultId, user.Results[0].Count, user.Results[0].TotalAmount));

        // The partition's clock says when this user needs waking: the window's last millisecond.
        Assert.Equal(T0 + (5 * Minute) - 1, user.State.NextTimerMs(settings));
        Assert.Empty(user.State.Advance(T0 + (5 * Minute) - 2, 0, settings, Now).Windows);
        var advanced = user.State.Advance(T0 + (5 * Minute) - 1, 0, settings, Now);
        Assert.Equal(Counts(WindowKinds.Tumbling, T0, T0 + (5 * Minute), 2, 10m), Shape(Assert.Single(advanced.Windows)));
        Assert.Null(advanced.State.NextTimerMs(settings));

        // Fired once: the same clock again gives nothing.
        Assert.Empty(advanced.State.Advance(T0 + (5 * Minute), 0, settings, Now).Windows);
    }

    [Fact]
    public void Timer_velocity_on_the_user_resets_its_count_when_the_watermark_passes_its_timer()
    {
        var rules = new RuleSettings([RuleCatalog.Create(TimerVelocityRule.RuleName)]);
        var user = new Driver(new UserSettings(rules));

        // Seven in 30 s: the sixth and seventh alert, with the rule's name in their ids.
        for (var i = 0; i < 7; i++)
        {
            user.Send(T0 + (i * 5 * Second), 1m);
        }

        Assert.Equal(["timer-velocity:0:5", "timer-velocity:0:6"], user.Alerts.Select(a => a.AlertId));
        Assert.Equal(T0 + Minute, user.State.NextTimerMs(new UserSettings(rules)));

        // 09:01:04 arrives: its watermark (09:00:59) has not passed the timer, so it still counts.
        user.Send(T0 + Minute + (4 * Second), 1m);
        Assert.Equal(3, user.Alerts.Count);

        // 09:01:06: the watermark reaches 09:01:01, the timer fires after the record; the next starts a new count.
        user.Send(T0 + Minute + (6 * Second), 1m);
        Assert.Equal(4, user.Alerts.Count);
        user.Send(T0 + Minute + (7 * Second), 1m);
        Assert.Equal(4, user.Alerts.Count);
        var state = (TimerVelocityRule.CountState)user.State.RuleStates[TimerVelocityRule.RuleName];
        Assert.Equal(1, state.Count.Get(0));
    }

    [Fact]
    public void Small_then_large_on_the_user_alerts_and_its_timer_clears_the_flag_a_minute_later()
    {
        var rules = new RuleSettings([RuleCatalog.Create(SmallThenLargeRule.RuleName, new RuleConfig(SmallThenLargeRule.RuleName, key => key == "large-above" ? "100" : null))]);
        var user = new Driver(new UserSettings(rules));
        user.Send(T0, 0.50m);
        user.Send(T0 + (10 * Second), 150m);
        Assert.Equal(["small-then-large:0:1"], user.Alerts.Select(a => a.AlertId));

        // Small, then a quiet minute: another user's records move the watermark past the timer.
        user.Send(T0 + (20 * Second), 0.10m);
        Assert.True(user.State.RuleStates.ContainsKey(SmallThenLargeRule.RuleName));
        var advanced = user.State.Advance(T0 + (80 * Second), 0, new UserSettings(rules), Now);
        Assert.False(advanced.State.RuleStates.ContainsKey(SmallThenLargeRule.RuleName));
        Assert.Equal(0, advanced.State.Timers.Count);
    }

    [Fact]
    public void Idle_state_is_cleaned_up_after_its_time_to_live()
    {
        var settings = new UserSettings(RuleSettings.Default, null, new StateTtl(TimeSpan.FromHours(1)));
        var user = new Driver(settings);
        user.Send(T0, 12m, merchant: "grocery");
        user.Send(T0 + Minute, 30m, merchant: "grocery");
        user.Send(T0 + (2 * Minute), 8m, merchant: "fuel");
        var profile = user.State.Profile;
        Assert.Equal([("fuel", 1L), ("grocery", 2L)], profile.MerchantCounts.Items().Select(e => (e.Key, e.Value)));
        Assert.Equal(new RunningStats(3, 50m, 8m, 30m), profile.Amounts.Get(default));
        Assert.Equal(T0 + (2 * Minute), profile.LastSeenMs.Get(0));

        // One timer, an hour after the first record; when it fires the user was seen since, so it moves.
        Assert.Equal(T0 + (60 * Minute), user.State.NextTimerMs(settings));
        var moved = user.State.Advance(T0 + (60 * Minute), 0, settings, Now).State;
        Assert.Equal(T0 + (62 * Minute), moved.NextTimerMs(settings));
        Assert.False(moved.Profile.IsEmpty);

        // An hour after the last record: profile and rule state go, the bookkeeping stays.
        var cleaned = moved.Advance(T0 + (62 * Minute), 0, settings, Now).State;
        Assert.True(cleaned.Profile.IsEmpty);
        Assert.Empty(cleaned.RuleStates);
        Assert.Equal((2L, 3L), (cleaned.LastAppliedOffset, cleaned.TransactionCount));
    }

    [Fact]
    public void Everything_a_user_keeps_survives_its_codec_and_the_header_tells_the_next_timer()
    {
        var rules = new RuleSettings([RuleCatalog.Create(SlidingVelocityRule.RuleName), RuleCatalog.Create(TimerVelocityRule.RuleName), RuleCatalog.Create(SmallThenLargeRule.RuleName)]);
        var settings = new UserSettings(rules, WindowSettings.All, new StateTtl(TimeSpan.FromHours(1)));
        var user = new Driver(settings);
        foreach (var (at, amount) in new[] { (0L, 0.5m), (30 * Second, 700m), (4 * Minute, 3m), (7 * Minute, 0.2m) })
        {
            user.Send(T0 + at, amount, merchant: amount < 1 ? "kiosk" : "shop");
        }

        var bytes = UserStateCodec.Encode(user.State, settings);
        Assert.Equal(UserStateCodec.Version4, bytes[0]);
        Assert.Equal(user.State.NextTimerMs(settings), UserStateCodec.PeekNextTimer(bytes));
        var back = UserStateCodec.Decode(bytes, settings);
        Assert.Equal(UserStateCodec.Encode(back, settings), bytes);
        Assert.Equal(user.State.Timers.All, back.Timers.All);
        Assert.Equal(user.State.Windows.Tumbling, back.Windows.Tumbling);
        Assert.Equal(user.State.Windows.Sliding, back.Windows.Sliding);
        Assert.Equal(user.State.Windows.Sessions, back.Windows.Sessions);
        Assert.Equal(user.State.Profile.MerchantCounts.Items(), back.Profile.MerchantCounts.Items());
        Assert.Equal(user.State.RuleStates.Keys, back.RuleStates.Keys);

        // Every known rule's state loads whatever the rules the node runs (a rule may be switched on
        // at runtime); a rule not in force drops its state at the user's next record (DynamicRuleTests).
        var fewer = UserStateCodec.Decode(bytes, settings with { Rules = new RuleSettings([RuleCatalog.Create(SlidingVelocityRule.RuleName)]) });
        Assert.Equal(user.State.RuleStates.Keys, fewer.RuleStates.Keys);
        Assert.Equal(user.State.TransactionCount, fewer.TransactionCount);
    }

    private static (string, long, long, long, decimal) Counts(string kind, long start, long end, long count, decimal total) => (kind, start, end, count, total);

    private static (string, long, long, long, decimal) Shape(WindowResult r) =>
        (r.Kind, r.WindowStart.ToUnixTimeMilliseconds(), r.WindowEnd.ToUnixTimeMilliseconds(), r.Count, r.TotalAmount);

    /// <summary>One user of partition 0, its records stamped with the partition's clock as the pipeline does.</summary>
    private sealed class Driver(UserSettings settings, TimeSettings? time = null)
    {
        private PartitionWatermark _watermark = PartitionWatermark.Initial;
        private long _offset;

        public UserState State { get; private set; } = UserState.Empty("u1");

        public List<WindowResult> Results { get; } = [];

        public List<Messages.Alerts.Alert> Alerts { get; } = [];

        public ApplyTransaction Send(long eventTimeMs, decimal amount, string merchant = "shop")
        {
            var tx = new Transaction("u1", amount, merchant, DateTimeOffset.FromUnixTimeMilliseconds(eventTimeMs));
            var command = RecordClock.Stamp(new ApplyTransaction(0, _offset++, tx), ref _watermark, nowMs: 0, time ?? EventTime);
            var outcome = State.Apply(command, settings, Now);
            State = outcome.State;
            Results.AddRange(outcome.Windows);
            Alerts.AddRange(outcome.Alerts);
            return command;
        }
    }
}
