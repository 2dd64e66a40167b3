using FraudActors.Messages.Rules;
using FraudActors.Messages.Sharding;

namespace FraudActors.Messages.Commands;

/// <summary>
/// The partition's clock passed one of the user's timers or window ends: fire what is due up to
/// <paramref name="WatermarkMs"/> (event time) and <paramref name="NowMs"/> (processing time).
/// Sent in stream order to users that may receive no more records, so their windows still close.
/// </summary>
public sealed record AdvanceTime(int Partition, string UserId, long WatermarkMs, long NowMs, long Generation) : IUserMessage
{
    /// <summary>The rules in force in the partition at this point of its stream; null: the user's configured rules.</summary>
    public RuleSet? Rules { get; init; }

    /// <summary>
    /// The last offset of the partition sent to this user in this run's interval (null: none). A
    /// user that has not applied it lost a record in transit and fires nothing: its timers and
    /// windows would fire on a state behind the stream (docs/design.md, section 4, step 3).
    /// </summary>
    public long? PreviousOffset { get; init; }
}
