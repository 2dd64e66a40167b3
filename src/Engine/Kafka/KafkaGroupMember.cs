using Confluent.Kafka;

namespace FraudActors.Engine.Kafka;

/// <summary>What a source stage does with the group's rebalance callbacks while it reads through a <see cref="KafkaGroupMember"/>.</summary>
internal interface IGroupMemberReader
{
    IEnumerable<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions);

    void OnRevoked(List<TopicPartition> partitions, bool lost);
}

/// <summary>
/// One consumer's membership in its consumer group, kept across runs of the ingest stream. A
/// run that fails rewinds its partitions in place: the next run's source stage takes over this
/// consumer and seeks the partitions it owns back to their last checkpoints, instead of closing
/// the consumer and joining the group again (a rebalance: the partitions' next owner waits up to
/// a session timeout). Only one stage reads through it at a time; the rebalance callbacks run
/// inside that stage's poll and go to it.
/// </summary>
public sealed class KafkaGroupMember : IDisposable
{
    private readonly object _gate = new();
    private readonly HashSet<TopicPartition> _owned = [];
    private IConsumer<byte[]?, byte[]>? _consumer;
    private IGroupMemberReader? _reader;

    /// <summary>Times a consumer of this member subscribed (joined the group): once, unless the client failed for good.</summary>
    public int Joins { get; private set; }

    /// <summary>Partitions the group has given this member and not taken back, as the last callbacks said.</summary>
    public IReadOnlyList<TopicPartition> Owned
    {
        get
        {
            lock (_gate)
            {
                return [.. _owned];
            }
        }
    }

    /// <summary>
    /// <paramref name="reader"/> reads from now on, through the consumer already in the group or
    /// (first time, or after <see cref="Close"/>) a new one built from <paramref name="build"/>
    /// and subscribed to <paramref name="topics"/>. Returns the consumer and whether it is new.
    /// </summary>
    internal (IConsumer<byte[]?, byte[]> Consumer, bool Joined) Attach(
        IGroupMemberReader reader,
        Func<ConsumerBuilder<byte[]?, byte[]>, ConsumerBuilder<byte[]?, byte[]>> build,
        ConsumerConfig config,
        IReadOnlyList<string> topics)
    {
        lock (_gate)
        {
            if (_reader is not null)
            {
                throw new InvalidOperationException("another source stage still reads through this group member");
            }

            _reader = reader;
            if (_consumer is not null)
            {
                return (_consumer, false);
            }

            var builder = new ConsumerBuilder<byte[]?, byte[]>(config)
                .SetPartitionsAssignedHandler((_, partitions) => Assigned(partitions))
                .SetPartitionsRevokedHandler((_, partitions) => Revoked([.. partitions.Select(p => p.TopicPartition)], lost: false))
                .SetPartitionsLostHandler((_, partitions) => Revoked([.. partitions.Select(p => p.TopicPartition)], lost: true));
            _consumer = build(builder).Build();
            _consumer.Subscribe(topics);
            Joins++;
            return (_consumer, true);
        }
    }

    /// <summary>The stage stopped reading; the consumer stays in the group for the next one.</summary>
    internal void Detach(IGroupMemberReader reader)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_reader, reader))
            {
                _reader = null;
            }
        }
    }

    /// <summary>
    /// Leaves the group: commits the stored offsets and closes the consumer, so the partitions
    /// move to another member at once. Called when no stage reads (the ingest has ended, or the
    /// client failed for good and a new one must join).
    /// </summary>
    public void Close()
    {
        IConsumer<byte[]?, byte[]>? consumer;
        lock (_gate)
        {
            consumer = _consumer;
            _consumer = null;
            _reader = null;
        }

        if (consumer is null)
        {
            return;
        }

        try
        {
            consumer.Close();
        }
        catch (KafkaException)
        {
            // Leaving uncleanly only delays the next owner by a session timeout; the journals hold the offsets.
        }
        finally
        {
            consumer.Dispose();
            lock (_gate)
            {
                _owned.Clear();
            }
        }
    }

    public void Dispose() => Close();

    private IEnumerable<TopicPartitionOffset> Assigned(List<TopicPartition> partitions)
    {
        IGroupMemberReader? reader;
        lock (_gate)
        {
            _owned.UnionWith(partitions);
            reader = _reader;
        }

        // No stage reads while the consumer closes: nothing to prepare, the partitions are not read.
        return reader?.OnAssigned(partitions) ?? [];
    }

    private void Revoked(List<TopicPartition> partitions, bool lost)
    {
        IGroupMemberReader? reader;
        lock (_gate)
        {
            _owned.ExceptWith(partitions);
            reader = _reader;
        }

        reader?.OnRevoked(partitions, lost);
    }
}
