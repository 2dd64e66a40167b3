using System.Runtime.Serialization;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;
using FraudActors.Messages.Queries;
using FraudActors.Messages.Sharding;
using FraudActors.Messages.Transactions;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Serialization;

/// <summary>
/// The format table: each message's manifest with its writer and reader side by side, fields in
/// declaration order. A new field means a new manifest (<c>.v2</c>) written from then on; the
/// <c>.v1</c> entry stays, as a reader only, for messages from nodes not yet upgraded.
/// </summary>
public sealed partial class WireSerializer
{
    private static Format[] CreateFormats() =>
    [
        // To a user (through the user region) and its answers.
        Format.ReadOnly("apply-tx.v1", ReadApply),
        Format.Of<ApplyTransaction>("apply-tx.v2", (w, m) => { WriteApply(w, m); w.WriteOptional(m.Rules); }, r => ReadApply(r) with { Rules = r.ReadOptionalRuleSet() }),
        Format.ReadOnly("advance-time.v1", r => new AdvanceTime(r.ReadInt32(), r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64())),
        Format.Of<AdvanceTime>(
            "advance-time.v2",
            (w, m) => { w.Write(m.Partition); w.Write(m.UserId); w.Write(m.WatermarkMs); w.Write(m.NowMs); w.Write(m.Generation); w.WriteOptional(m.Rules); w.WriteOptional(m.PreviousOffset); },
            r => new AdvanceTime(r.ReadInt32(), r.ReadString(), r.ReadInt64(), r.ReadInt64(), r.ReadInt64()) { Rules = r.ReadOptionalRuleSet(), PreviousOffset = r.ReadOptionalInt64() }),
        Format.ReadOnly("barrier.v1", r => new CheckpointBarrier(r.ReadInt64(), r.ReadInt32(), r.ReadString())),
        Format.Of<CheckpointBarrier>(
            "barrier.v2",
            (w, m) => { w.Write(m.Epoch); w.Write(m.Partition); w.Write(m.UserId); w.WriteOptional(m.ExpectedOffset); },
            r => new CheckpointBarrier(r.ReadInt64(), r.ReadInt32(), r.ReadString()) { ExpectedOffset = r.ReadOptionalInt64() }),
        Format.Of<GetUserState>(
            "get-user-state.v1",
            (w, m) => { w.Write(m.Partition); w.Write(m.UserId); },
            r => new GetUserState(r.ReadInt32(), r.ReadString())),
        Format.Singleton("stop-user.v1", StopUser.Instance),
        Format.ReadOnly("tx-applied.v1", r => ReadApplied(r, ReadAlertV1)),
        Format.Of<TransactionApplied>("tx-applied.v2", WriteApplied, r => ReadApplied(r, ReadAlert)),
        Format.ReadOnly("time-advanced.v1", r => new TimeAdvanced(r.ReadString(), r.ReadInt32(), r.ReadList(ReadWindow), r.ReadOptionalInt64())),
        Format.Of<TimeAdvanced>(
            "time-advanced.v2",
            (w, m) => { w.Write(m.UserId); w.Write(m.Partition); w.WriteList(m.Windows, WriteWindow); w.WriteOptional(m.NextTimerMs); w.WriteOptional(m.Lost); },
            r => new TimeAdvanced(r.ReadString(), r.ReadInt32(), r.ReadList(ReadWindow), r.ReadOptionalInt64()) { Lost = r.ReadOptionalString() }),
        Format.ReadOnly("alert.v1", ReadAlertV1),
        Format.Of<Alert>("alert.v2", WriteAlert, ReadAlert),
        Format.Of<WindowResult>("window.v1", WriteWindow, ReadWindow),
        Format.Of<UserCheckpointState>(
            "user-checkpoint.v1",
            (w, m) => { w.Write(m.UserId); w.Write(m.Partition); w.Write(m.Epoch); w.Write(m.LastAppliedOffset); w.WriteBytes(m.State); },
            r => new UserCheckpointState(r.ReadString(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadBytes())),
        Format.Of<CurrentUserState>(
            "user-state.v1",
            (w, m) => { w.Write(m.UserId); w.Write(m.Partition); w.Write(m.LastAppliedOffset); w.WriteBytes(m.State); },
            r => new CurrentUserState(r.ReadString(), r.ReadInt32(), r.ReadInt64(), r.ReadBytes())),

        // To a user's host (UserHostProtocol.cs).
        Format.Of<WakeUserHost>("wake-host.v1", (w, m) => w.Write(m.Partition), r => new WakeUserHost(r.ReadInt32())),
        Format.Of<UserHostAwake>("host-awake.v1", (w, m) => w.Write(m.Shard), r => new UserHostAwake(r.ReadString())),

        // To a partition journal (through the partition-journal region) and its answers.
        new Format("journal-envelope.v1", typeof(JournalEnvelope), (s, w, o) => s.WriteEnvelope(w, (JournalEnvelope)o), (s, r) => s.ReadEnvelope(r)),
        Format.ReadOnly("write-checkpoint.v1", r => new WriteCheckpoint(r.ReadInt64(), r.ReadInt64(), r.ReadList(ReadSnapshot), r.ReadOptionalInt64())),
        Format.Of<WriteCheckpoint>(
            "write-checkpoint.v2",
            (w, m) => { w.Write(m.Epoch); w.Write(m.NextOffset); w.WriteList(m.Users, WriteSnapshot); w.WriteOptional(m.WatermarkMs); w.WriteOptional(m.Rules); },
            r => new WriteCheckpoint(r.ReadInt64(), r.ReadInt64(), r.ReadList(ReadSnapshot), r.ReadOptionalInt64()) { Rules = r.ReadOptionalRecordedRules() }),
        Format.Of<CheckpointWritten>(
            "checkpoint-written.v1",
            (w, m) => { w.Write(m.Epoch); w.Write(m.NextOffset); w.Write(m.Users); w.Write(m.Bytes); w.Write(m.Chunks); w.WriteOptional(m.WatermarkMs); },
            r => new CheckpointWritten(r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt64(), r.ReadInt32(), r.ReadOptionalInt64())),
        Format.Of<LoadUser>(
            "load-user.v1",
            (w, m) => { w.Write(m.UserId); w.Write(m.Load); },
            r => new LoadUser(r.ReadString(), r.ReadInt32())),
        Format.Of<UserLoaded>(
            "user-loaded.v1",
            (w, m) => { w.Write(m.UserId); w.WriteOptional(m.State); w.Write(m.Load); },
            r => new UserLoaded(r.ReadString(), r.ReadOptionalBytes(), r.ReadInt32())),
        Format.Of<HandOverUser>(
            "hand-over.v1",
            (w, m) => { w.Write(m.UserId); w.WriteBytes(m.State); },
            r => new HandOverUser(r.ReadString(), r.ReadBytes())),
        Format.Of<UserHandedOver>("handed-over.v1", (w, m) => w.Write(m.UserId), r => new UserHandedOver(r.ReadString())),
        Format.Singleton("rewind.v1", RewindPartition.Instance),
        Format.Singleton("get-partition-checkpoint.v1", GetPartitionCheckpoint.Instance),
        Format.ReadOnly(
            "partition-checkpoint.v1",
            r => new PartitionCheckpoint(r.ReadInt64(), r.ReadOptionalInt64(), r.ReadInt32()) { WatermarkMs = r.ReadOptionalInt64(), Timers = r.ReadList(ReadTimer) }),
        Format.Of<PartitionCheckpoint>(
            "partition-checkpoint.v2",
            (w, m) => { w.Write(m.Epoch); w.WriteOptional(m.NextOffset); w.Write(m.Users); w.WriteOptional(m.WatermarkMs); w.WriteList(m.Timers, WriteTimer); w.WriteOptional(m.Rules); },
            r => new PartitionCheckpoint(r.ReadInt64(), r.ReadOptionalInt64(), r.ReadInt32()) { WatermarkMs = r.ReadOptionalInt64(), Timers = r.ReadList(ReadTimer), Rules = r.ReadOptionalRecordedRules() }),
        Format.Singleton("get-committed-users.v1", GetCommittedUsers.Instance),
        Format.Of<CommittedUsers>(
            "committed-users.v1",
            (w, m) => { w.Write(m.Epoch); w.WriteOptional(m.NextOffset); w.WriteList(m.Users, WriteSnapshot); w.WriteOptional(m.WatermarkMs); },
            r => new CommittedUsers(r.ReadInt64(), r.ReadOptionalInt64(), r.ReadList(ReadSnapshot), r.ReadOptionalInt64())),
        Format.Singleton("stop-journal.v1", StopJournal.Instance),
        Format.Of<UserTimerDue>("timer-due.v1", WriteTimer, ReadTimer),
        Format.Of<UserSnapshot>("user-snapshot.v1", WriteSnapshot, ReadSnapshot),

        // A journal's failure answer (Status.Failure): text, never a type read back.
        Format.Of<Status.Failure>("failure.v1", WriteFailure, ReadFailure),
    ];

    private static void WriteApply(BinaryWriter w, ApplyTransaction m)
    {
        w.Write(m.Partition);
        w.Write(m.Offset);
        WriteTransaction(w, m.Transaction);
        w.Write(m.Generation);
        w.Write(m.TimeMs);
        w.Write(m.WatermarkBeforeMs);
        w.Write(m.WatermarkMs);
        w.Write(m.NowMs);
        w.Write(m.Late);
        w.Write(m.Sequence);
        w.WriteOptional(m.PreviousOffset);
    }

    private static ApplyTransaction ReadApply(BinaryReader r) =>
        new(r.ReadInt32(), r.ReadInt64(), ReadTransaction(r), r.ReadInt64())
        {
            TimeMs = r.ReadInt64(),
            WatermarkBeforeMs = r.ReadInt64(),
            WatermarkMs = r.ReadInt64(),
            NowMs = r.ReadInt64(),
            Late = r.ReadBoolean(),
            Sequence = r.ReadInt64(),
            PreviousOffset = r.ReadOptionalInt64(),
        };

    private static void WriteTransaction(BinaryWriter w, Transaction t)
    {
        w.Write(t.UserId);
        w.Write(t.Amount);
        w.WriteOptional(t.Merchant);
        w.WriteTime(t.Timestamp);
        w.WriteOptional(t.TxId);
    }

    private static Transaction ReadTransaction(BinaryReader r) =>
        new(r.ReadString(), r.ReadDecimal(), r.ReadOptionalString(), r.ReadTime(), r.ReadOptionalString());

    private static void WriteApplied(BinaryWriter w, TransactionApplied m)
    {
        w.Write(m.UserId);
        w.Write(m.Partition);
        w.Write(m.Offset);
        w.WriteList(m.Alerts, WriteAlert);
        w.Write(m.Duplicate);
        w.WriteList(m.Windows, WriteWindow);
        w.WriteOptional(m.NextTimerMs);
        w.Write(m.Sequence);
        w.Write(m.DuplicateTxId);
        w.WriteOptional(m.ProcessingError);
        w.WriteOptional(m.Lost);
    }

    private static TransactionApplied ReadApplied(BinaryReader r, Func<BinaryReader, Alert> readAlert) =>
        new(r.ReadString(), r.ReadInt32(), r.ReadInt64(), r.ReadList(readAlert), r.ReadBoolean())
        {
            Windows = r.ReadList(ReadWindow),
            NextTimerMs = r.ReadOptionalInt64(),
            Sequence = r.ReadInt64(),
            DuplicateTxId = r.ReadBoolean(),
            ProcessingError = r.ReadOptionalString(),
            Lost = r.ReadOptionalString(),
        };

    private static void WriteAlert(BinaryWriter w, Alert a)
    {
        w.Write(a.AlertId);
        w.Write(a.Rule);
        w.Write(a.UserId);
        w.Write(a.Count);
        w.Write(a.WindowMs);
        w.Write(a.LastAmount);
        w.WriteTime(a.TxTs);
        w.Write(a.Partition);
        w.Write(a.Offset);
        w.WriteTime(a.DetectedAt);
        w.WriteOptional(a.TxId);
        w.Write(a.RuleVersion);
    }

    private static Alert ReadAlertV1(BinaryReader r) =>
        new(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadInt32(), r.ReadInt64(), r.ReadDecimal(), r.ReadTime(), r.ReadInt32(), r.ReadInt64(), r.ReadTime(), r.ReadOptionalString());

    private static Alert ReadAlert(BinaryReader r) => ReadAlertV1(r) with { RuleVersion = r.ReadInt64() };

    private static void WriteWindow(BinaryWriter w, WindowResult m)
    {
        w.Write(m.ResultId);
        w.Write(m.Kind);
        w.Write(m.UserId);
        w.WriteTime(m.WindowStart);
        w.WriteTime(m.WindowEnd);
        w.Write(m.Count);
        w.Write(m.TotalAmount);
        w.WriteTime(m.EmittedAt);
    }

    private static WindowResult ReadWindow(BinaryReader r) =>
        new(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadTime(), r.ReadTime(), r.ReadInt64(), r.ReadDecimal(), r.ReadTime());

    private static void WriteSnapshot(BinaryWriter w, UserSnapshot s)
    {
        w.Write(s.UserId);
        w.WriteBytes(s.State);
    }

    private static UserSnapshot ReadSnapshot(BinaryReader r) => new(r.ReadString(), r.ReadBytes());

    private static void WriteTimer(BinaryWriter w, UserTimerDue t)
    {
        w.Write(t.UserId);
        w.Write(t.DueMs);
    }

    private static UserTimerDue ReadTimer(BinaryReader r) => new(r.ReadString(), r.ReadInt64());

    /// <summary>
    /// The inner message by the serializer Akka binds to its type, as serializer id, manifest and
    /// bytes (Akka's own envelopes' form). A journal's messages are FraudActors messages: one by
    /// any other serializer, or without a binding, is refused here, before it leaves.
    /// </summary>
    private void WriteEnvelope(BinaryWriter w, JournalEnvelope e)
    {
        var serializer = system.Serialization.FindSerializerFor(e.Message);
        if (serializer.Identifier != SerializerId)
        {
            throw new SerializationException($"{e.Message.GetType()} in a {nameof(JournalEnvelope)} is not a wire message (its serializer is {serializer.Identifier}, not {SerializerId}): refused");
        }

        w.Write(e.Partition);
        w.Write(serializer.Identifier);
        w.Write(Akka.Serialization.Serialization.ManifestFor(serializer, e.Message));
        w.WriteBytes(serializer.ToBinary(e.Message));
    }

    /// <summary>
    /// The inner message, read only when its serializer is this one: Akka would resolve the
    /// manifest of a serializer without string manifests as a .NET type name.
    /// </summary>
    private JournalEnvelope ReadEnvelope(BinaryReader r)
    {
        var partition = r.ReadInt32();
        var serializerId = r.ReadInt32();
        var manifest = r.ReadString();
        var bytes = r.ReadBytes();
        return serializerId == SerializerId
            ? new JournalEnvelope(partition, FromBinary(bytes, manifest))
            : throw new SerializationException($"a {nameof(JournalEnvelope)} whose message is by serializer {serializerId} (manifest '{manifest}'), not {SerializerId}: refused");
    }

    private const byte NoCause = 0;
    private const byte JournalRestarting = 1;
    private const byte OtherCause = 2;

    private static void WriteFailure(BinaryWriter w, Status.Failure f)
    {
        switch (f.Cause)
        {
            case null:
                w.Write(NoCause);
                break;
            case JournalRestartingException restarting:
                w.Write(JournalRestarting);
                w.Write(restarting.Message);
                break;
            case var cause:
                w.Write(OtherCause);
                w.Write(cause.GetType().FullName ?? cause.GetType().Name);
                w.Write(cause.Message);
                break;
        }
    }

    private static Status.Failure ReadFailure(BinaryReader r) => r.ReadByte() switch
    {
        NoCause => new Status.Failure(null),
        JournalRestarting => new Status.Failure(new JournalRestartingException(r.ReadString())),
        OtherCause => new Status.Failure(new RemoteFailureException(r.ReadString(), r.ReadString())),
        var kind => throw new SerializationException($"failure.v1: unknown cause kind {kind}"),
    };
}
