using System.Text;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Rules;
using FraudActors.Engine.Users;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Rules;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Tests.Rules;

/// <summary>
/// Dynamic rules without a cluster (docs/design.md, "Dynamic rules"): records of the rules topic
/// are checked like the configuration and name the key at fault; a rule set builds the rules it
/// says, with their versions on the alerts; a rule switched off drops its state; a partition's
/// rules move at an offset and are recorded by a commit; alerts of unrecorded rules wait for it.
/// </summary>
public sealed class DynamicRuleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);
    private static readonly RuleSet Configured = RuleSettings.Default.Set!;

    [Fact]
    public void A_record_sets_what_it_names_and_keeps_the_configured_value_of_the_rest()
    {
        var spec = Parse("sliding-velocity", """{"rule":"sliding-velocity","enabled":true,"params":{"threshold":3}}""", version: 8);
        Assert.Equal(("sliding-velocity", true, 8L), (spec.Name, spec.Enabled, spec.Version));
        Assert.Equal([new("threshold", "3"), new("window", "60s")], spec.Params);

        Assert.Equal("4", Parse("sliding-velocity", """{"params":{"threshold":4.0}}""", version: 8).Param("threshold"));

        var on = Parse("timer-velocity", """{"enabled":true,"params":{"window":"2m"}}""", version: 9);
        Assert.Equal((true, "5", "120s"), (on.Enabled, on.Param("threshold"), on.Param("window")));

        // A null value: back to the configuration, at the tombstone's version.
        var back = RuleRecord.Parse("sliding-velocity", null, 10, Configured);
        Assert.True(back.SameAs(Configured.Find("sliding-velocity")! with { Version = 10 }));
    }

    [Theory]
    [InlineData(null, """{"enabled":true}""", "key")]
    [InlineData("no-such-rule", """{"enabled":true}""", "key")]
    [InlineData("sliding-velocity", "not json", "value")]
    [InlineData("sliding-velocity", "[1,2]", "value")]
    [InlineData("sliding-velocity", """{"rule":"timer-velocity"}""", "rule")]
    [InlineData("sliding-velocity", """{"enabled":"yes"}""", "enabled")]
    [InlineData("sliding-velocity", """{"params":[3]}""", "params")]
    [InlineData("sliding-velocity", """{"params":{"threshold":0}}""", "params.threshold")]
    [InlineData("sliding-velocity", """{"params":{"threshold":"three"}}""", "params.threshold")]
    [InlineData("sliding-velocity", """{"params":{"window":"-5s"}}""", "params.window")]
    [InlineData("sliding-velocity", """{"params":{"treshold":3}}""", "params.treshold")]
    [InlineData("sliding-velocity", """{"params":{"threshold":{"n":3}}}""", "params.threshold")]
    [InlineData("sliding-velocity", """{"enabled":true,"extra":1}""", "extra")]
    public void A_record_that_fails_validation_names_its_key(string? key, string value, string expectedKey)
    {
        var e = Assert.Throws<RuleRecordException>(() => RuleRecord.Parse(key, Encoding.UTF8.GetBytes(value), 1, Configured));
        Assert.Equal(expectedKey, e.Key);
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Fact]
    public void A_record_written_by_serialize_reads_back_as_the_same_settings()
    {
        var spec = Parse("small-then-large", """{"enabled":true,"params":{"small-below":0.5,"within":"90s"}}""", version: 3);
        Assert.True(spec.SameAs(RuleRecord.Parse("small-then-large", RuleRecord.Serialize(spec), 3, Configured)));
    }

    [Fact]
    public void A_rule_set_runs_its_enabled_rules_with_their_settings_and_its_alerts_carry_their_version()
    {
        var set = new RuleSet(Configured.Specs.Where(s => s.Name != "sliding-velocity").Append(Parse("sliding-velocity", """{"params":{"threshold":2}}""", version: 4)));
        var settings = RuleSets.Settings(set);
        Assert.Same(settings, RuleSets.Settings(new RuleSet(set.Specs)));
        Assert.Equal(4, settings.VersionOf("sliding-velocity"));

        var (state, alerts) = (UserState.Empty("u1"), new List<Alert>());
        for (var i = 0; i < 3; i++)
        {
            var outcome = state.Apply(new ApplyTransaction(0, i, new Transaction("u1", 5m, null, T0.AddSeconds(i))) { Rules = set }, RuleSets.For(UserSettings.Default, set), T0);
            (state, alerts) = (outcome.State, [.. alerts, .. outcome.Alerts]);
        }

        var alert = Assert.Single(alerts);
        Assert.Equal(("sliding-velocity:0:2", 3, 4L), (alert.AlertId, alert.Count, alert.RuleVersion));
    }

    [Fact]
    public void A_rule_switched_off_drops_its_state_and_timers_at_the_next_record_and_starts_afresh_when_on_again()
    {
        var on = new RuleSet(Configured.Specs.Select(s => s.Name == "timer-velocity" ? s with { Enabled = true, Version = 1 } : s));
        var off = new RuleSet(Configured.Specs.Select(s => s with { Enabled = false, Version = 2 }));
        var state = UserState.Empty("u1");
        for (var i = 0; i < 5; i++)
        {
            state = state.Apply(Record(i, on), RuleSets.For(UserSettings.Default, on), T0).State;
        }

        Assert.Equal(["sliding-velocity", "timer-velocity"], state.RuleStates.Keys);
        Assert.True(state.Timers.Has("timer-velocity"));

        state = state.Apply(Record(5, off), RuleSets.For(UserSettings.Default, off), T0).State;
        Assert.Empty(state.RuleStates);
        Assert.Equal(0, state.Timers.Count);

        // On again: the five before the switch are forgotten, so a sixth in the minute is the first.
        var again = state.Apply(Record(6, on), RuleSets.For(UserSettings.Default, on), T0);
        Assert.Empty(again.Alerts);
        Assert.Equal([T0.AddSeconds(6).ToUnixTimeMilliseconds()], again.State.VelocityTimestamps.ToArray());

        static ApplyTransaction Record(int i, RuleSet rules) => new(0, i, new Transaction("u1", 5m, null, T0.AddSeconds(i))) { Rules = rules };
    }

    [Fact]
    public void A_state_holds_the_state_of_a_rule_its_user_settings_leave_out()
    {
        // The codec reads and writes every known rule's state, whatever the configured rules: a
        // rule switched on at runtime keeps its state across a checkpoint of a node configured without it.
        var on = new RuleSet(Configured.Specs.Select(s => s.Name == "timer-velocity" ? s with { Enabled = true, Version = 1 } : s));
        var state = UserState.Empty("u1").Apply(new ApplyTransaction(0, 0, new Transaction("u1", 5m, null, T0)) { Rules = on }, RuleSets.For(UserSettings.Default, on), T0).State;
        var back = UserStateCodec.Decode(UserStateCodec.Encode(state, UserSettings.Default), UserSettings.Default);
        Assert.Equal(["sliding-velocity", "timer-velocity"], back.RuleStates.Keys);
    }

    [Fact]
    public void A_partition_s_rules_change_at_an_offset_keep_where_unchanged_rules_took_effect_and_are_recorded_by_a_commit()
    {
        var rules = PartitionRules.Restored(null, Configured, epoch: 3, nextOffset: 100, notBefore: 100);
        Assert.True(rules.IsRecorded);
        Assert.False(rules.Adopt(Configured, 120));

        var lowered = new RuleSet(Configured.Specs.Select(s => s.Name == "sliding-velocity" ? Parse("sliding-velocity", """{"params":{"threshold":2}}""", version: 7) : s));
        Assert.True(rules.Adopt(lowered, 150));
        Assert.Same(lowered, rules.Set);
        Assert.False(rules.IsRecorded);
        Assert.Equal((150L, (long?)null), Since(rules.InForce, "sliding-velocity"));
        Assert.Equal((100L, (long?)3), Since(rules.InForce, "timer-velocity"));

        var (recorded, adopted) = rules.ForCut(epoch: 4);
        Assert.Equal(150, adopted);
        Assert.Equal((150L, (long?)4), Since(recorded, "sliding-velocity"));
        Assert.False(rules.IsRecorded);
        rules.Committed(recorded);
        Assert.True(rules.IsRecorded);
        Assert.Equal((150L, (long?)4), Since(rules.InForce, "sliding-velocity"));

        // A partition without any commit has nothing recorded yet.
        Assert.False(PartitionRules.Restored(null, Configured, epoch: null, nextOffset: 0, notBefore: 0).IsRecorded);
    }

    [Fact]
    public async Task Alerts_of_records_under_unrecorded_rules_wait_for_the_commit_that_records_them()
    {
        var sink = new ListSink();
        var writer = new OutputWriter(sink, null, new PipelineMetrics(), e => throw e);
        writer.HoldFrom(partition: 0, offset: 10);
        writer.HoldFrom(partition: 0, offset: 20);
        writer.Add([Alert(0, 9), Alert(0, 10), Alert(0, 15), Alert(0, 25), Alert(1, 30)], null);
        await writer.FlushAsync();
        Assert.Equal(["0:9", "1:30"], sink.Ids);
        Assert.Equal(3, writer.HeldAlerts);

        writer.Recorded(partition: 0, offset: 10);
        await writer.FlushAsync();
        Assert.Equal(["0:9", "1:30", "0:10", "0:15"], sink.Ids);

        writer.Recorded(partition: 0, offset: 20);
        writer.Add([Alert(0, 26)], null);
        await writer.FlushAsync();
        Assert.Equal(["0:9", "1:30", "0:10", "0:15", "0:25", "0:26"], sink.Ids);
        Assert.Equal(0, writer.HeldAlerts);
    }

    [Fact]
    public async Task A_partition_that_leaves_forgets_what_was_held_for_it_so_nothing_of_it_is_held_when_it_comes_back()
    {
        var sink = new ListSink();
        var writer = new OutputWriter(sink, null, new PipelineMetrics(), e => throw e);
        writer.HoldFrom(partition: 2, offset: 0);
        writer.Add([Alert(2, 5)], null);
        writer.Forget(2);

        // Back with a commit that recorded its rules: nothing holds its alerts any more.
        writer.Add([Alert(2, 9)], null);
        await writer.FlushAsync();
        Assert.Equal(["2:9"], sink.Ids);
        Assert.Equal(0, writer.HeldAlerts);
    }

    private static RuleSpec Parse(string name, string value, long version) => RuleRecord.Parse(name, Encoding.UTF8.GetBytes(value), version, Configured);

    private static (long SinceOffset, long? SinceEpoch) Since(RecordedRules rules, string name) =>
        rules.Rules.Single(r => r.Spec.Name == name) is var r ? (r.SinceOffset, r.SinceEpoch) : default;

    private static Alert Alert(int partition, long offset) =>
        new($"{partition}:{offset}", "sliding-velocity", "u1", 6, 60_000, 10m, T0, partition, offset, T0);

    private sealed class ListSink : FraudActors.Engine.Outbox.IOutputSink<Alert>
    {
        public List<string> Ids { get; } = [];

        public Task PublishAsync(Alert alert, CancellationToken cancellationToken) => PublishAsync([alert], cancellationToken);

        public Task PublishAsync(IReadOnlyList<Alert> alerts, CancellationToken cancellationToken)
        {
            lock (Ids)
            {
                Ids.AddRange(alerts.Select(a => a.AlertId));
            }

            return Task.CompletedTask;
        }
    }
}
