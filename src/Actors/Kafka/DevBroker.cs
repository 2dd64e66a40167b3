using System.Runtime.InteropServices;
using System.Text;

namespace FraudActors.Actors.Kafka;

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

        return new DevBroker(client, cluster, Marshal.PtrToStringUTF8((nint)bootstraps(cluster))!);
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

    private static void Destroy(nint client) =>
        ((delegate* unmanaged[Cdecl]<nint, void>)LibRdKafka.Export("rd_kafka_destroy"))(client);
}
