using System.Collections;
using System.Reflection;
using Akka.Actor;
using FraudActors.Engine.Checkpoints;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Checkpoints;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Queries;
using FraudActors.Messages.Rules;
using FraudActors.Messages.Sharding;
using FraudActors.Messages.Transactions;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Tests.Serialization;

/// <summary>
/// Messages of every wire type with every field set to something other than its default (and,
/// for optional fields, once absent), and a comparison of their content field by field.
/// </summary>
internal static class WireSamples
{
    private static readonly DateTimeOffset At = new(2026, 3, 17, 9, 0, 1, 234, TimeSpan.FromHours(2));

    public static Alert Alert(string? txId) => new("sliding-velocity:3:41", "sliding-velocity", "u901", 6, 60_000, 12.50m, At, 3, 41, At.AddTicks(7), txId);

    public static WindowResult Window(string kind) => new($"{kind}:u901:1:2", kind, "u901", At, At.AddMinutes(5), 16, 843.20m, At.AddSeconds(301));

    /// <summary>Rules in force as records carry them: sliding-velocity lowered (version 12), timer-velocity off as configured.</summary>
    public static RuleSet Rules { get; } = new(
    [
        new RuleSpec("sliding-velocity", true, [new("threshold", "2"), new("window", "60s")], 12),
        new RuleSpec("timer-velocity", false, [new("threshold", "5"), new("window", "60s")], 0),
    ]);

    public static IEnumerable<object> All()
    {
        var tx = new Transaction("u901", -0.000001m, "gas_station", At, "tx-1");
        yield return new ApplyTransaction(3, 41, tx, 7) { TimeMs = 11, WatermarkBeforeMs = 12, WatermarkMs = 13, NowMs = 14, Late = true, Sequence = 15, PreviousOffset = 40 };
        yield return new ApplyTransaction(3, 41, tx with { Merchant = null, TxId = null, Amount = 79228162514264337593543950335m });
        yield return new ApplyTransaction(3, 42, tx, 7) { Rules = Rules };
        yield return new AdvanceTime(3, "u901", 100, 200, 7);
        yield return new AdvanceTime(3, "u901", 100, 200, 7) { Rules = Rules, PreviousOffset = 41 };
        yield return new CheckpointBarrier(9, 3, "u901");
        yield return new CheckpointBarrier(9, 3, "u901") { ExpectedOffset = 41 };
        yield return new GetUserState(3, "u901");
        yield return StopUser.Instance;
        yield return new TransactionApplied("u901", 3, 41, [Alert("tx-1"), Alert(null)], Duplicate: true)
        {
            Windows = [Window(WindowKinds.Tumbling), Window(WindowKinds.Session)],
            NextTimerMs = 99,
            Sequence = (5L << 24) | 3,
            DuplicateTxId = true,
            ProcessingError = "InvalidOperationException: poison amount",
            Lost = "offset 40 was sent",
        };
        yield return new TransactionApplied("u901", 3, 41, [], Duplicate: false);
        yield return new TimeAdvanced("u901", 3, [Window(WindowKinds.Count)], 1234);
        yield return new TimeAdvanced("u901", 3, [], null);
        yield return new TimeAdvanced("u901", 3, [], null) { Lost = "offset 40 was sent" };
        yield return Alert("tx-9");
        yield return Alert("tx-10") with { RuleVersion = 12 };
        yield return Window(WindowKinds.Sliding);
        yield return new UserCheckpointState("u901", 3, 9, 41, [1, 2, 3, 0, 255]);
        yield return new CurrentUserState("u901", 3, 41, [4, 0, 4]);
        yield return new WakeUserHost(3);
        yield return new UserHostAwake("3");
        yield return new JournalEnvelope(3, new LoadUser("u901", 2));
        yield return new WriteCheckpoint(9, 42, [new UserSnapshot("u1", [1]), new UserSnapshot("u2", [])], 77);
        yield return new WriteCheckpoint(9, 42, [], null);
        yield return new WriteCheckpoint(9, 42, [], 5) { Rules = new RecordedRules([new RuleInForce(Rules.Specs[0], 40, 9), new RuleInForce(Rules.Specs[1], 42, null)]) };
        yield return new CheckpointWritten(9, 42, 2, 1024, 1, 77);
        yield return new CheckpointWritten(9, 42, 2, 1024, 1);
        yield return new LoadUser("u901", 2);
        yield return new UserLoaded("u901", [9, 8, 7], 2);
        yield return new UserLoaded("u901", null, 3);
        yield return new HandOverUser("u901", [5, 6]);
        yield return new UserHandedOver("u901");
        yield return RewindPartition.Instance;
        yield return GetPartitionCheckpoint.Instance;
        yield return new PartitionCheckpoint(9, 42, 2) { WatermarkMs = 77, Timers = [new UserTimerDue("u1", 5), new UserTimerDue("u2", 6)] };
        yield return new PartitionCheckpoint(0, null, 0);
        yield return new PartitionCheckpoint(9, 42, 2) { Rules = new RecordedRules([new RuleInForce(Rules.Specs[0], 40, 9)]) };
        yield return GetCommittedUsers.Instance;
        yield return new CommittedUsers(9, 42, [new UserSnapshot("u1", [1, 2])], 77);
        yield return new CommittedUsers(0, null, [], null);
        yield return StopJournal.Instance;
        yield return new UserTimerDue("u901", 123);
        yield return new UserSnapshot("u901", [0, 1]);
        yield return new Status.Failure(new JournalRestartingException("the journal of partition 3 is restarting"));
    }

    /// <summary>Every public property alike: lists element by element, byte arrays byte by byte, times with their offset, decimals with their scale.</summary>
    public static void AssertSameContent(object? expected, object? actual, string path = "message")
    {
        switch (expected)
        {
            case null:
                Assert.True(actual is null, $"{path}: expected null, got {actual}");
                return;
            case string or bool or int or long or byte:
                Assert.True(expected.Equals(actual), $"{path}: expected {expected}, got {actual}");
                return;
            case decimal d:
                Assert.True(actual is decimal a && decimal.GetBits(d).SequenceEqual(decimal.GetBits(a)), $"{path}: expected {d}, got {actual}");
                return;
            case DateTimeOffset t:
                Assert.True(actual is DateTimeOffset u && (t.Ticks, t.Offset) == (u.Ticks, u.Offset), $"{path}: expected {t:O}, got {actual:O}");
                return;
            case Exception e:
                Assert.True(actual is Exception f && e.GetType() == f.GetType() && e.Message == f.Message, $"{path}: expected {e.GetType()}: {e.Message}, got {actual}");
                return;
            case IEnumerable items:
                var expectedItems = items.Cast<object?>().ToList();
                var actualItems = Assert.IsAssignableFrom<IEnumerable>(actual).Cast<object?>().ToList();
                Assert.True(expectedItems.Count == actualItems.Count, $"{path}: {expectedItems.Count} items expected, {actualItems.Count} read");
                for (var i = 0; i < expectedItems.Count; i++)
                {
                    AssertSameContent(expectedItems[i], actualItems[i], $"{path}[{i}]");
                }

                return;
        }

        Assert.True(actual is not null && expected.GetType() == actual.GetType(), $"{path}: expected a {expected.GetType()}, got {actual?.GetType()}");
        foreach (var property in expected.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            AssertSameContent(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
        }
    }
}
