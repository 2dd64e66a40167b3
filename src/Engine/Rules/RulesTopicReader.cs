using Confluent.Kafka;
using FraudActors.Engine.Ingest;
using FraudActors.Engine.Kafka;
using FraudActors.Messages.Transactions;

namespace FraudActors.Engine.Rules;

/// <summary>
/// Reads the compacted <c>rules</c> topic into a <see cref="RulesBoard"/> (docs/design.md,
/// "Dynamic rules"): every partition from its beginning, without a consumer group (every node
/// reads it all), on a thread of its own. <see cref="RulesBoard.Loaded"/> completes once the
/// topic is read up to where it stood at start; then later records keep changing the board. A
/// record that fails validation changes nothing: a log line and a record on the rules'
/// dead-letter topic say why. A topic that does not exist yet leaves the configured rules and
/// is looked for again.
/// </summary>
public sealed class RulesTopicReader : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LookAgain = TimeSpan.FromSeconds(5);

    private readonly ConsumerConfig _config;
    private readonly string _topic;
    private readonly RulesBoard _board;
    private readonly DeadLetterPublisher? _deadLetters;
    private readonly ILoggingAdapter _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    private RulesTopicReader(ConsumerConfig config, string topic, RulesBoard board, DeadLetterPublisher? deadLetters, ILoggingAdapter log)
    {
        _config = new ConsumerConfig(new Dictionary<string, string>(config))
        {
            GroupId = "fraud-rules-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
        };
        _topic = topic;
        _board = board;
        _deadLetters = deadLetters;
        _log = log;
        _thread = new Thread(Run) { IsBackground = true, Name = "fraud-rules-reader" };
    }

    /// <summary>Starts reading <paramref name="topic"/> into <paramref name="board"/>; <paramref name="config"/> carries the bootstrap servers and the client's security settings.</summary>
    public static RulesTopicReader Start(ConsumerConfig config, string topic, RulesBoard board, DeadLetterPublisher? deadLetters, ILoggingAdapter log)
    {
        var reader = new RulesTopicReader(config, topic, board, deadLetters, log);
        reader._thread.Start();
        return reader;
    }

    public void Dispose()
    {
        // Not disposed: a reader still inside a Kafka call reads the token when it returns.
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(5));
    }

    /// <summary>Reads until disposed; a failure (Kafka unreachable) is logged and the reading starts again after a pause.</summary>
    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                Read();
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e)
            {
                _log.Warning("Rules topic {0} not read ({1}); trying again in {2} s{3}", _topic, e.Message, LookAgain.TotalSeconds, _board.Loaded.IsCompleted ? string.Empty : ": the ingest waits for it");
                if (_stop.Token.WaitHandle.WaitOne(LookAgain))
                {
                    return;
                }
            }
        }
    }

    /// <summary>Reads the topic from its beginning, then follows it until disposed.</summary>
    private void Read()
    {
        using var consumer = new ConsumerBuilder<string?, byte[]?>(_config)
            .SetErrorHandler((_, e) => _log.Warning("Rules topic reader: {0} ({1})", e.Reason, e.Code))
            .Build();
        var partitions = FindPartitions(consumer);
        var open = partitions
            .Select(p => (Partition: p, High: consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(30)).High.Value))
            .Where(p => p.High > 0)
            .ToDictionary(p => p.Partition.Partition.Value, p => p.High);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        if (open.Count == 0)
        {
            Loaded();
        }

        while (!_stop.IsCancellationRequested)
        {
            if (consumer.Consume(Poll) is not { } result)
            {
                continue;
            }

            if (!result.IsPartitionEOF)
            {
                Apply(result);
            }

            if (open.Count > 0 && open.TryGetValue(result.Partition.Value, out var high) && result.Offset.Value >= high - (result.IsPartitionEOF ? 0 : 1))
            {
                open.Remove(result.Partition.Value);
                if (open.Count == 0)
                {
                    Loaded();
                }
            }
        }
    }

    /// <summary>The topic's partitions; while it does not exist, the configured rules hold and it is looked for every few seconds.</summary>
    private List<TopicPartition> FindPartitions(IConsumer<string?, byte[]?> consumer)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var said = false;
        while (true)
        {
            var metadata = admin.GetMetadata(_topic, TimeSpan.FromSeconds(30)).Topics.SingleOrDefault(t => t.Topic == _topic);
            if (metadata is { Error.IsError: false, Partitions.Count: > 0 })
            {
                return [.. metadata.Partitions.Select(p => new TopicPartition(_topic, new Partition(p.PartitionId)))];
            }

            if (!said)
            {
                _log.Warning("Rules topic {0} does not exist: the configured rules apply until it does", _topic);
                Loaded();
                said = true;
            }

            _stop.Token.WaitHandle.WaitOne(LookAgain);
            _stop.Token.ThrowIfCancellationRequested();
        }
    }

    private void Loaded()
    {
        if (!_board.Loaded.IsCompleted)
        {
            _log.Info("Rules topic {0} read: {1}", _topic, Describe(_board.Desired));
        }

        _board.MarkLoaded();
    }

    /// <summary>One record: the rule takes its settings at version offset + 1, or the record goes to the dead letters.</summary>
    private void Apply(ConsumeResult<string?, byte[]?> result)
    {
        var value = result.Message.Value;
        try
        {
            var spec = RuleRecord.Parse(result.Message.Key, value, result.Offset.Value + 1, _board.Configured);
            if (_board.Set(spec))
            {
                _log.Info("Rule {0} set by {1} (partition {2}, offset {3}): {4}", spec.Name, _topic, result.Partition.Value, result.Offset.Value, Describe(spec));
            }
        }
        catch (RuleRecordException e)
        {
            _log.Warning("Rules topic {0}: record at partition {1}, offset {2} refused ({3}): {4}", _topic, result.Partition.Value, result.Offset.Value, e.Key, e.Message);
            if (_deadLetters is not null)
            {
                var key = result.Message.Key is { } k ? System.Text.Encoding.UTF8.GetBytes(k) : null;
                var record = new KafkaRecord(_topic, result.Partition.Value, result.Offset.Value, key, value ?? [], result.Message.Timestamp.UtcDateTime);
                _deadLetters.PublishAsync(record, RejectReason.InvalidRule, $"{e.Key}: {e.Message}", _stop.Token)
                    .ContinueWith(t => _log.Warning("Rules topic {0}: refused record not dead-lettered: {1}", _topic, t.Exception?.GetBaseException().Message), TaskContinuationOptions.OnlyOnFaulted);
            }
        }
    }

    private static string Describe(Messages.Rules.RuleSet set) => string.Join("; ", set.Specs.Select(Describe));

    private static string Describe(Messages.Rules.RuleSpec s) =>
        $"{s.Name} {(s.Enabled ? "on" : "off")} v{s.Version} ({string.Join(", ", s.Params.Select(p => $"{p.Key}={p.Value}"))})";
}
