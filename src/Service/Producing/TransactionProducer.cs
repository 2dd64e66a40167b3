using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Testkit;

namespace FraudActors.Service.Producing;

public sealed record ProduceSummary(long Sent, TimeSpan Elapsed, bool Stopped)
{
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{(Stopped ? "stopped after" : "sent")} {Sent} records in {Elapsed.TotalSeconds:0.0} s ({(Elapsed.TotalSeconds > 0 ? Sent / Elapsed.TotalSeconds : 0):0.0}/s)");
}

/// <summary>
/// Sends keyed records to Kafka at a steady wall-clock rate (or as fast as the client allows),
/// through an idempotent producer: a retried send never duplicates a record, and the order of a
/// key's records is kept. Every record is delivered or the run fails.
/// </summary>
/// <summary>How far a producer got: records sent and their rate so far.</summary>
public readonly record struct ProduceProgress(long Sent, double PerSecond);

public static class TransactionProducer
{
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);

    /// <summary>Values up to this size are sent (the hostile mix has a 1 MiB one); Kafka's default is 1,000,000 bytes.</summary>
    public const int MaxMessageBytes = 4 * 1024 * 1024;

    public static Task<ProduceSummary> RunAsync(
        string bootstrap,
        string topic,
        IEnumerable<(string? Key, byte[] Value)> records,
        double rate,
        bool maxSpeed,
        Action<ProduceProgress>? progress,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? properties = null) =>
        RunAsync(bootstrap, topic, records.Select(OutgoingRecord.Of), rate, maxSpeed, progress, cancellationToken, properties);

    /// <summary>Sends raw records (keys and values as bytes, either null, with headers): what the hostile mix needs.</summary>
    public static async Task<ProduceSummary> RunAsync(
        string bootstrap,
        string topic,
        IEnumerable<OutgoingRecord> records,
        double rate,
        bool maxSpeed,
        Action<ProduceProgress>? progress,
        CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? properties = null)
    {
        LibRdKafka.EnsureLoaded();
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig(properties is null ? [] : new Dictionary<string, string>(properties))
        {
            BootstrapServers = bootstrap,
            ClientId = "fraud-produce",
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
            MessageMaxBytes = MaxMessageBytes,
        }).Build();

        Error? failure = null;
        void OnDelivered(DeliveryReport<byte[]?, byte[]?> report)
        {
            if (report.Error.IsError)
            {
                Interlocked.CompareExchange(ref failure, report.Error, null);
            }
        }

        var clock = Stopwatch.StartNew();
        var nextProgress = ProgressEvery;
        var sent = 0L;
        var stopped = false;
        foreach (var record in records)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                stopped = true;
                break;
            }

            if (failure is not null)
            {
                break;
            }

            if (!maxSpeed)
            {
                // Pace against the start, not the previous send, so delays never accumulate.
                var due = TimeSpan.FromSeconds(sent / rate) - clock.Elapsed;
                if (due > TimeSpan.FromMilliseconds(1))
                {
                    try
                    {
                        await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        stopped = true;
                        break;
                    }
                }
            }

            var message = new Message<byte[]?, byte[]?> { Key = record.Key, Value = record.Value };
            if (record.TimestampMs is { } timestampMs)
            {
                message.Timestamp = new Timestamp(timestampMs, TimestampType.CreateTime);
            }

            if (record.Headers is { Count: > 0 } headers)
            {
                message.Headers = [];
                foreach (var (name, bytes) in headers)
                {
                    message.Headers.Add(name, bytes);
                }
            }

            while (true)
            {
                try
                {
                    producer.Produce(topic, message, OnDelivered);
                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // The client's queue is the bound on records in flight: wait for deliveries.
                    producer.Poll(TimeSpan.FromMilliseconds(100));
                }
            }

            sent++;
            if (clock.Elapsed >= nextProgress)
            {
                progress?.Invoke(new ProduceProgress(sent, sent / clock.Elapsed.TotalSeconds));
                nextProgress += ProgressEvery;
            }
        }

        var remaining = producer.Flush(TimeSpan.FromSeconds(30));
        if (failure is not null || remaining > 0)
        {
            throw new KafkaException(failure ?? new Error(ErrorCode.Local_TimedOut, $"{remaining} records were not delivered within 30 s"));
        }

        return new ProduceSummary(sent, clock.Elapsed, stopped);
    }
}
