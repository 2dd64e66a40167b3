using System.Text;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Testkit;

namespace FraudActors.Tooling.Drill;

/// <summary>
/// The end of a drill's stream: one valid transaction to each partition of the transactions
/// topic, a day after the stream's newest one, from a user of its own (<c>flush-p&lt;N&gt;</c>). It
/// pushes every partition's watermark past every real window, so every real user's windows must
/// be emitted, while the flush users' own windows stay open. They are part of the stream: they
/// count in every reference (no alert, one transaction each).
/// </summary>
public static class FlushRecords
{
    public static readonly TimeSpan After = TimeSpan.FromDays(1);

    public static string UserId(int partition) => "flush-p" + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// At least a day after <paramref name="newest"/>, on a whole hour: a flush user's tumbling
    /// window then starts with it, so neither that window nor its session closes for minutes even
    /// where an idle partition's watermark follows the clock.
    /// </summary>
    public static DateTimeOffset Time(DateTimeOffset newest)
    {
        var at = newest.ToUniversalTime() + After;
        var hour = new DateTimeOffset(at.Year, at.Month, at.Day, at.Hour, 0, 0, TimeSpan.Zero);
        return hour == at ? hour : hour.AddHours(1);
    }

    public static Transaction For(int partition, DateTimeOffset at) => new(UserId(partition), 1.00m, "grocery", at, UserId(partition));

    /// <summary>Produces one flush record to each partition; returns where each landed.</summary>
    public static async Task<List<(int Partition, long Offset, Transaction Transaction)>> ProduceAsync(
        string bootstrap, string topic, int partitions, DateTimeOffset newest, CancellationToken cancellationToken)
    {
        LibRdKafka.EnsureLoaded();
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            ClientId = "fraud-drill-flush",
            EnableIdempotence = true,
            Acks = Acks.All,
        }).Build();
        var at = Time(newest);
        var landed = new List<(int, long, Transaction)>();
        for (var partition = 0; partition < partitions; partition++)
        {
            var tx = For(partition, at);
            var message = new Message<byte[]?, byte[]> { Key = Encoding.UTF8.GetBytes(tx.UserId), Value = TransactionJson.Serialize(tx) };
            var result = await producer.ProduceAsync(new TopicPartition(topic, new Partition(partition)), message, cancellationToken).ConfigureAwait(false);
            landed.Add((result.Partition.Value, result.Offset.Value, tx));
        }

        return landed;
    }
}
