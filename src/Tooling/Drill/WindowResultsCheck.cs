using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Engine.Windows;
using FraudActors.Engine.Windows.Output;
using FraudActors.Messages.Windows;

namespace FraudActors.Tooling.Drill;

/// <summary>One window result as read from a topic: the topic it was on and what it says.</summary>
public sealed record PublishedWindowResult(string Topic, WindowResult Result);

/// <summary>
/// The drill's window result check: what the reference expects from the windows the service runs
/// with, what the two result topics hold, and the differences (<see cref="WindowReference"/>).
/// </summary>
public static class WindowResultsCheck
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    /// <summary>The results <paramref name="records"/> must give with these windows and watermark bound.</summary>
    public static List<WindowReference.Expected> Expected(
        IEnumerable<(int Partition, long Offset, Transaction Transaction)> records, TimeSpan outOfOrderness, WindowSettings windows) =>
        WindowReference.Compute(
            records,
            outOfOrderness,
            windows.Tumbling,
            windows is { SlidingSize: { } size, SlidingSlide: { } slide } ? (size, slide) : null,
            windows.SessionGap,
            windows.CountSize);

    /// <summary>The windows in words, e.g. <c>tumbling 5 min, sessions with a 10 min gap</c>.</summary>
    public static string Describe(WindowSettings windows)
    {
        var kinds = new List<string>();
        if (windows.Tumbling is { } tumbling)
        {
            kinds.Add($"tumbling {Minutes(tumbling)}");
        }

        if (windows is { SlidingSize: { } size, SlidingSlide: { } slide })
        {
            kinds.Add($"sliding {Minutes(size)} every {Minutes(slide)}");
        }

        if (windows.SessionGap is { } gap)
        {
            kinds.Add($"sessions with a {Minutes(gap)} gap");
        }

        if (windows.CountSize is { } count)
        {
            kinds.Add(string.Create(CultureInfo.InvariantCulture, $"every {count} transactions"));
        }

        return kinds.Count == 0 ? "none" : string.Join(", ", kinds);
    }

    /// <summary>
    /// Waits until the topics hold <paramref name="expected"/> distinct result ids, reading them
    /// again only when their end offsets moved; false when <paramref name="timeout"/> passes first.
    /// </summary>
    public static async Task<bool> WaitAsync(
        string bootstrap, IReadOnlyList<string> topics, int expected, TimeSpan timeout, Action<long> onProgress, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var lastRead = -1L;
        while (true)
        {
            var published = EndOffsets(bootstrap, topics, timeout);
            onProgress(published);
            if (published >= expected && published != lastRead)
            {
                lastRead = published;
                if (Read(bootstrap, topics, timeout).Select(r => r.Result.ResultId).Distinct(StringComparer.Ordinal).Count() >= expected)
                {
                    return true;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every result on <paramref name="topics"/>.</summary>
    public static List<PublishedWindowResult> Read(string bootstrap, IEnumerable<string> topics, TimeSpan timeout) =>
        [.. topics.SelectMany(topic => TopicReader.ReadAll(bootstrap, topic, timeout).Select(r => new PublishedWindowResult(topic, WindowResultJson.Deserialize(r.Message.Value))))];

    /// <summary>The topic the service puts a result of <paramref name="kind"/> on (as <see cref="WindowResultCodec"/> decides).</summary>
    public static string TopicFor(string kind, string countsTopic, string sessionsTopic) => kind == WindowKinds.Session ? sessionsTopic : countsTopic;

    private static long EndOffsets(string bootstrap, IEnumerable<string> topics, TimeSpan timeout)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "fraud-drill-offsets" }).Build();
        var total = 0L;
        foreach (var topic in topics)
        {
            foreach (var partition in admin.GetMetadata(topic, timeout).Topics.Single().Partitions)
            {
                total += consumer.QueryWatermarkOffsets(new TopicPartition(topic, new Partition(partition.PartitionId)), timeout).High.Value;
            }
        }

        return total;
    }

    private static string Minutes(TimeSpan span) => span.TotalMinutes >= 1 && span.TotalMinutes == Math.Floor(span.TotalMinutes)
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0} min")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.###} s");
}
