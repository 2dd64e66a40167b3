namespace FraudActors.Messages.Transactions;

/// <summary>
/// Why a record of the transactions topic went to the dead-letter topic. The wire name
/// (<see cref="RejectReasons.WireName"/>) is what the DLQ's <c>reason</c> header carries.
/// </summary>
public enum RejectReason
{
    Oversized,
    InvalidJson,
    MissingUserId,
    InvalidAmount,
    InvalidTimestamp,
    InvalidField,
    MissingKey,
    KeyMismatch,

    /// <summary>Not a reject: a valid record behind the watermark, on the late side output.</summary>
    Late,

    /// <summary>A user id too long or with control characters or broken surrogates.</summary>
    InvalidUserId,

    /// <summary>A <c>tx_id</c> its user already applied within the dedup window: the record is a duplicate.</summary>
    DuplicateTransaction,

    /// <summary>A valid record whose processing threw in its user: the user's state is as before it.</summary>
    ProcessingError,

    /// <summary>A record of the <c>rules</c> topic that fails validation: it changes nothing (on <c>rules.dlq</c>).</summary>
    InvalidRule,
}

public static class RejectReasons
{
    public static string WireName(this RejectReason reason) => reason switch
    {
        RejectReason.Oversized => "oversized",
        RejectReason.InvalidJson => "invalid-json",
        RejectReason.MissingUserId => "missing-user-id",
        RejectReason.InvalidAmount => "invalid-amount",
        RejectReason.InvalidTimestamp => "invalid-ts",
        RejectReason.InvalidField => "invalid-field",
        RejectReason.MissingKey => "missing-key",
        RejectReason.KeyMismatch => "key-mismatch",
        RejectReason.InvalidUserId => "invalid-user-id",
        RejectReason.DuplicateTransaction => "duplicate",
        RejectReason.ProcessingError => "processing-error",
        RejectReason.Late => "late",
        RejectReason.InvalidRule => "invalid-rule",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
