using System.Globalization;
using System.Text;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// Sends a rejected record to the dead-letter topic with its original key and bytes, and headers
/// saying why and where it came from: <c>reason</c>, <c>error</c>, <c>topic</c>, <c>partition</c>,
/// <c>offset</c>. Its offset is committed like any other, so a bad record never blocks the ones behind it.
/// </summary>
public sealed class DeadLetterPublisher(IProducer<byte[]?, byte[]> producer, string topic)
{
    public const string ReasonHeader = "reason";
    public const string ErrorHeader = "error";
    public const string TopicHeader = "topic";
    public const string PartitionHeader = "partition";
    public const string OffsetHeader = "offset";
    public const string OriginalSizeHeader = "original_size";
    public const string OriginalKeySizeHeader = "original_key_size";

    /// <summary>
    /// Values above this are cut to it before forwarding: a record too large for the DLQ topic
    /// would otherwise fail its send forever and stall the partition behind it.
    /// </summary>
    public const int MaxForwardedBytes = 512 * 1024;

    /// <summary>
    /// Keys above this are cut to it, for the same reason: a cut value, a cut key and the headers
    /// together stay under the 1,000,000 bytes a Kafka producer and broker accept by default.
    /// </summary>
    public const int MaxForwardedKeyBytes = 64 * 1024;

    public async Task PublishAsync(KafkaRecord record, RejectReason reason, string detail, CancellationToken cancellationToken)
    {
        var headers = new Headers
        {
            { ReasonHeader, Encoding.UTF8.GetBytes(reason.WireName()) },
            { ErrorHeader, Encoding.UTF8.GetBytes(detail) },
            { TopicHeader, Encoding.UTF8.GetBytes(record.Topic) },
            { PartitionHeader, Encoding.UTF8.GetBytes(record.Partition.ToString(CultureInfo.InvariantCulture)) },
            { OffsetHeader, Encoding.UTF8.GetBytes(record.Offset.ToString(CultureInfo.InvariantCulture)) },
        };
        var value = record.Value;
        if (value.Length > MaxForwardedBytes)
        {
            headers.Add(OriginalSizeHeader, Encoding.UTF8.GetBytes(value.Length.ToString(CultureInfo.InvariantCulture)));
            value = value[..MaxForwardedBytes];
        }

        var key = record.Key;
        if (key is { Length: > MaxForwardedKeyBytes })
        {
            headers.Add(OriginalKeySizeHeader, Encoding.UTF8.GetBytes(key.Length.ToString(CultureInfo.InvariantCulture)));
            key = key[..MaxForwardedKeyBytes];
        }

        var message = new Message<byte[]?, byte[]> { Key = key, Value = value, Headers = headers };
        await producer.ProduceAsync(topic, message, cancellationToken).ConfigureAwait(false);
    }
}
