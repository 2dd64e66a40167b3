using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace FraudActors.Testkit;

/// <summary>
/// The dev broker: the Kafka mock cluster inside librdkafka (<c>rd_kafka_mock_cluster_new</c>),
/// listening on loopback and speaking the real Kafka protocol to real clients. For development
/// and tests only: data lives in memory, and each partition keeps only its last ~5 MiB or
/// 100,000 message batches (fixed in librdkafka), the older ones deleted as by retention.
/// </summary>
public sealed unsafe class DevBroker : IDisposable
{
    private const int ProducerType = 0;
    private nint _client;
    private nint _cluster;

    private DevBroker(nint client, nint cluster, string bootstrapServers)
    {
        _client = client;
        _cluster = cluster;
        BootstrapServers = bootstrapServers;
    }

    /// <summary>host:port[,host:port…] of the mock brokers.</summary>
    public string BootstrapServers { get; }

    public static DevBroker Start(int brokers = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        var confNew = (delegate* unmanaged[Cdecl]<nint>)LibRdKafka.Export("rd_kafka_conf_new");
        var confSet = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, byte*, nuint, int>)LibRdKafka.Export("rd_kafka_conf_set");
        var kafkaNew = (delegate* unmanaged[Cdecl]<int, nint, byte*, nuint, nint>)LibRdKafka.Export("rd_kafka_new");
        var clusterNew = (delegate* unmanaged[Cdecl]<nint, int, nint>)LibRdKafka.Export("rd_kafka_mock_cluster_new");
        var bootstraps = (delegate* unmanaged[Cdecl]<nint, byte*>)LibRdKafka.Export("rd_kafka_mock_cluster_bootstraps");

        var error = stackalloc byte[512];
        var conf = confNew();

        // The handle only hosts the mock cluster; its own connection attempts would just log noise.
        fixed (byte* name = "log_level\0"u8, value = "3\0"u8)
        {
            confSet(conf, name, value, error, 512);
        }

        // rd_kafka_new takes ownership of conf on success.
        var client = kafkaNew(ProducerType, conf, error, 512);
        if (client == 0)
        {
            throw new InvalidOperationException("librdkafka could not create the broker's host handle: " + Marshal.PtrToStringUTF8((nint)error));
        }

        var cluster = clusterNew(client, brokers);
        if (cluster == 0)
        {
            Destroy(client);
            throw new InvalidOperationException("librdkafka could not start its mock cluster");
        }

        return new DevBroker(client, cluster, Marshal.PtrToStringUTF8((nint)bootstraps(cluster))!)
        {
            BrokerIds = [.. Enumerable.Range(1, brokers)],
        };
    }

    /// <summary>Creates a topic; the mock would otherwise auto-create it on first use with its default partition count.</summary>
    public void CreateTopic(string name, int partitions, int replicationFactor = 1)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        var topicCreate = (delegate* unmanaged[Cdecl]<nint, byte*, int, int, int>)LibRdKafka.Export("rd_kafka_mock_topic_create");
        var err2name = (delegate* unmanaged[Cdecl]<int, byte*>)LibRdKafka.Export("rd_kafka_err2name");
        var utf8 = Encoding.UTF8.GetBytes(name + "\0");
        int code;
        fixed (byte* topic = utf8)
        {
            code = topicCreate(_cluster, topic, partitions, replicationFactor);
        }

        if (code != 0)
        {
            throw new InvalidOperationException($"the dev broker could not create topic '{name}': {Marshal.PtrToStringUTF8((nint)err2name(code))}");
        }
    }

    /// <summary>
    /// Deletes a topic with its records (the mock has no CreatePartitions: a test that grows a
    /// topic deletes it and creates it again, see <see cref="DevBrokerTopics.GrowAsync"/>).
    /// </summary>
    public void DeleteTopic(string name)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        var topicDelete = (delegate* unmanaged[Cdecl]<nint, byte*, int>)LibRdKafka.Export("rd_kafka_mock_topic_delete");
        var utf8 = Encoding.UTF8.GetBytes(name + "\0");
        int code;
        fixed (byte* topic = utf8)
        {
            code = topicDelete(_cluster, topic);
        }

        Check(code, $"delete topic '{name}'");
    }

    /// <summary>The ids of the mock brokers: 1 to the number started.</summary>
    public IReadOnlyList<int> BrokerIds { get; private init; } = [];

    /// <summary>
    /// Takes a broker down: its connections are closed and new ones refused until
    /// <see cref="SetBrokerUp"/>. Its partitions keep it as their leader (no election, as the mock
    /// has none), so clients wait for it; their data is kept.
    /// </summary>
    public void SetBrokerDown(int brokerId)
    {
        RequireBroker(brokerId);
        Check(Call("rd_kafka_mock_broker_set_down", brokerId), $"take broker {brokerId} down");
    }

    /// <summary>Makes a broker that was taken down accept connections again.</summary>
    public void SetBrokerUp(int brokerId)
    {
        RequireBroker(brokerId);
        Check(Call("rd_kafka_mock_broker_set_up", brokerId), $"bring broker {brokerId} up");
    }

    /// <summary>Delays every response of a broker by <paramref name="rtt"/> (zero: no delay).</summary>
    public void SetBrokerRoundTrip(int brokerId, TimeSpan rtt)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        var setRtt = (delegate* unmanaged[Cdecl]<nint, int, int, int>)LibRdKafka.Export("rd_kafka_mock_broker_set_rtt");
        RequireBroker(brokerId);
        Check(setRtt(_cluster, brokerId, checked((int)rtt.TotalMilliseconds)), $"set the round trip of broker {brokerId}");
    }

    /// <summary>
    /// Moves a partition's leadership to a broker, as a leader election would: the partition's
    /// leader epoch grows, and clients still talking to the old leader are told NOT_LEADER_OR_FOLLOWER.
    /// </summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        var setLeader = (delegate* unmanaged[Cdecl]<nint, byte*, int, int, int>)LibRdKafka.Export("rd_kafka_mock_partition_set_leader");
        RequireBroker(brokerId);
        var utf8 = Encoding.UTF8.GetBytes(topic + "\0");
        int code;
        fixed (byte* name = utf8)
        {
            code = setLeader(_cluster, name, partition, brokerId);
        }

        Check(code, $"make broker {brokerId} the leader of {topic} [{partition}]");
    }

    /// <summary>
    /// The next requests of <paramref name="api"/>, to whichever broker, fail with these errors,
    /// one each, in order (the requests are not carried out). <see cref="ErrorCode.Local_Transport"/>
    /// makes the broker drop the connection instead.
    /// </summary>
    public void PushRequestErrors(KafkaApiKey api, params ErrorCode[] errors)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        var push = (delegate* unmanaged[Cdecl]<nint, short, nuint, int*, void>)LibRdKafka.Export("rd_kafka_mock_push_request_errors_array");
        var codes = errors.Select(e => (int)e).ToArray();
        fixed (int* array = codes)
        {
            push(_cluster, (short)api, (nuint)codes.Length, array);
        }
    }

    /// <summary>
    /// The next requests of <paramref name="api"/> to one broker fail with these errors, one
    /// each, in order; each answer is delayed by <paramref name="rtt"/>. They come before the
    /// cluster-wide errors of <see cref="PushRequestErrors"/>.
    /// </summary>
    public void PushBrokerRequestErrors(int brokerId, KafkaApiKey api, TimeSpan rtt, params ErrorCode[] errors)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        RequireBroker(brokerId);

        // The C function is variadic (error, rtt pairs). One pair per call keeps every argument
        // in a register, where a variadic and a plain call agree (x64 and arm64 Linux alike).
        var push = (delegate* unmanaged[Cdecl]<nint, int, short, nuint, int, int, int>)LibRdKafka.Export("rd_kafka_mock_broker_push_request_error_rtts");
        foreach (var error in errors)
        {
            Check(push(_cluster, brokerId, (short)api, 1, (int)error, checked((int)rtt.TotalMilliseconds)), $"push an error onto broker {brokerId}");
        }
    }

    /// <summary>How many errors pushed onto one broker for <paramref name="api"/> are still waiting for a request.</summary>
    public int PendingBrokerRequestErrors(int brokerId, KafkaApiKey api)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        var count = (delegate* unmanaged[Cdecl]<nint, int, short, nuint*, int>)LibRdKafka.Export("rd_kafka_mock_broker_error_stack_cnt");
        nuint pending;
        Check(count(_cluster, brokerId, (short)api, &pending), $"count the errors of broker {brokerId}");
        return checked((int)pending);
    }

    /// <summary>Drops the cluster-wide errors still waiting for requests of <paramref name="api"/>.</summary>
    public void ClearRequestErrors(KafkaApiKey api)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        var clear = (delegate* unmanaged[Cdecl]<nint, short, void>)LibRdKafka.Export("rd_kafka_mock_clear_request_errors");
        clear(_cluster, (short)api);
    }

    /// <summary>Makes a broker the coordinator of a consumer group (otherwise picked by a hash of its name).</summary>
    public void SetGroupCoordinator(string group, int brokerId)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        var set = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, int, int>)LibRdKafka.Export("rd_kafka_mock_coordinator_set");
        RequireBroker(brokerId);
        var key = Encoding.UTF8.GetBytes(group + "\0");
        int code;
        fixed (byte* type = "group\0"u8, name = key)
        {
            code = set(_cluster, type, name, brokerId);
        }

        Check(code, $"make broker {brokerId} the coordinator of group '{group}'");
    }

    /// <summary>The leader broker of each partition of a topic, as the brokers' metadata says now.</summary>
    public IReadOnlyDictionary<int, int> PartitionLeaders(string topic, TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.Single();
        if (metadata.Error.IsError)
        {
            throw new InvalidOperationException($"the dev broker has no topic '{topic}': {metadata.Error.Reason}");
        }

        return metadata.Partitions.ToDictionary(p => p.PartitionId, p => p.Leader);
    }

    /// <summary>librdkafka's name of an error code, e.g. NOT_LEADER_FOR_PARTITION for 6.</summary>
    public static string ErrorName(ErrorCode code) =>
        Marshal.PtrToStringUTF8((nint)((delegate* unmanaged[Cdecl]<int, byte*>)LibRdKafka.Export("rd_kafka_err2name"))((int)code))!;

    public void Dispose()
    {
        var cluster = Interlocked.Exchange(ref _cluster, 0);
        if (cluster != 0)
        {
            ((delegate* unmanaged[Cdecl]<nint, void>)LibRdKafka.Export("rd_kafka_mock_cluster_destroy"))(cluster);
        }

        var client = Interlocked.Exchange(ref _client, 0);
        if (client != 0)
        {
            Destroy(client);
        }
    }

    private int Call(string function, int brokerId)
    {
        ObjectDisposedException.ThrowIf(_cluster == 0, this);
        return ((delegate* unmanaged[Cdecl]<nint, int, int>)LibRdKafka.Export(function))(_cluster, brokerId);
    }

    /// <summary>The mock takes any id and quietly does nothing for one it does not know; this says so instead.</summary>
    private void RequireBroker(int brokerId)
    {
        if (!BrokerIds.Contains(brokerId))
        {
            throw new ArgumentOutOfRangeException(nameof(brokerId), brokerId, $"the dev broker has no broker {brokerId}; its brokers are {string.Join(", ", BrokerIds)}");
        }
    }

    private static void Check(int code, string what)
    {
        if (code != 0)
        {
            throw new InvalidOperationException($"the dev broker could not {what}: {ErrorName((ErrorCode)code)}");
        }
    }

    private static void Destroy(nint client) =>
        ((delegate* unmanaged[Cdecl]<nint, void>)LibRdKafka.Export("rd_kafka_destroy"))(client);
}
