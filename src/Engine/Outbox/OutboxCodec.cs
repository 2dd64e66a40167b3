namespace FraudActors.Engine.Outbox;

/// <summary>A record as its outbox table holds it: its id, topic, key, the bytes to publish and the values of the table's further columns.</summary>
public sealed record OutboxRecord(string Id, string Topic, string Key, byte[] Payload, IReadOnlyList<string> Columns);

/// <summary>
/// What makes an outbox of one kind of record (alerts, window results): its table, the topics its
/// records go to and how a record becomes a row. The table, the publisher, the fence and the
/// transactional path are the same for every kind (<see cref="Outbox{T}"/>).
/// </summary>
public sealed class OutboxCodec<T>
{
    private readonly Func<T, OutboxRecord> _encode;

    /// <param name="name">How the log names the outbox, e.g. "Alert outbox".</param>
    /// <param name="topics">Every topic the records go to; the publisher reads their tails on start.</param>
    public OutboxCodec(string name, OutboxTableShape table, IReadOnlyList<string> topics, Func<T, OutboxRecord> encode)
    {
        if (!table.TopicColumn && topics.Count != 1)
        {
            throw new ArgumentException($"the table {table.Name} keeps no topic, so its records go to one topic, not {topics.Count}", nameof(topics));
        }

        Name = name;
        Table = table;
        Topics = topics;
        _encode = encode;
    }

    public string Name { get; }

    public OutboxTableShape Table { get; }

    public IReadOnlyList<string> Topics { get; }

    /// <summary>The header that carries each record's id on the topic (named as the id column), so a consumer can deduplicate without parsing the value.</summary>
    public string IdHeader => Table.IdColumn;

    /// <summary>The row of <paramref name="record"/>; its columns match <see cref="OutboxTableShape.Columns"/>.</summary>
    public OutboxRecord Encode(T record) => _encode(record);

    /// <summary>The topic of a row read back from a table that keeps none.</summary>
    internal string OnlyTopic => Topics[0];
}
