using System.Runtime.InteropServices;
using System.Text;
using FraudActors.Engine.Rescaling;
using FraudActors.Testkit;

namespace FraudActors.Engine.Tests.Rescaling;

/// <summary>
/// The producers' partitioners against published vectors: Kafka's own tests of its murmur2
/// (the Java client's), librdkafka's partitioner tests (crc32 and murmur2), the CRC-32 check
/// value, and librdkafka's own partitioner functions called on many keys.
/// </summary>
public sealed class ProducerPartitionerTests
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int NativePartitioner(nint topic, byte[] key, nuint keyLength, int partitions, nint topicOpaque, nint messageOpaque);

    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_is_the_Java_clients_hash(string key, int expected) =>
        Assert.Equal(expected, ProducerPartitioners.Murmur2(Encoding.UTF8.GetBytes(key)));

    [Theory]
    [InlineData("", 681)]
    [InlineData("a", 524)]
    [InlineData("ab", 434)]
    [InlineData("abc", 107)]
    [InlineData("123456789", 566)]
    public void Murmur2_partitions_as_the_Java_client_among_1000(string key, int expected) =>
        Assert.Equal(expected, ProducerPartitioner.Murmur2.PartitionOf(Encoding.UTF8.GetBytes(key), 1000));

    [Theory]
    [InlineData("", 0x106e08d9u)]
    [InlineData("23456", 0x058d780fu)]
    [InlineData("this is another string with more length to it perhaps", 0x4f7703dau)]
    [InlineData("hejsan", 0x5ec19395u)]
    public void Murmur2_partitions_as_librdkafkas_murmur2_partitioner(string key, uint positiveHash)
    {
        foreach (var partitions in new[] { 1, 3, 6, 7, 17, 100 })
        {
            Assert.Equal((int)(positiveHash % (uint)partitions), ProducerPartitioner.Murmur2.PartitionOf(Encoding.UTF8.GetBytes(key), partitions));
        }
    }

    [Theory]
    [InlineData("", 0x0u)]
    [InlineData("23456", 0xb1b451d7u)]
    [InlineData("this is another string with more length to it perhaps", 0xb0150df7u)]
    [InlineData("hejsan", 0xd077037eu)]
    [InlineData("123456789", 0xcbf43926u)]
    public void Crc32_is_librdkafkas_consistent_hash(string key, uint expected)
    {
        Assert.Equal(expected, ProducerPartitioners.Crc32(Encoding.UTF8.GetBytes(key)));
        foreach (var partitions in new[] { 1, 3, 6, 7, 17 })
        {
            Assert.Equal((int)(expected % (uint)partitions), ProducerPartitioner.Crc32.PartitionOf(Encoding.UTF8.GetBytes(key), partitions));
        }
    }

    [Fact]
    public void Both_agree_with_librdkafkas_own_partitioner_functions_on_many_keys()
    {
        var library = NativeLibrary.Load(LibRdKafka.EnsureLoaded());
        var consistent = Marshal.GetDelegateForFunctionPointer<NativePartitioner>(NativeLibrary.GetExport(library, "rd_kafka_msg_partitioner_consistent"));
        var murmur2 = Marshal.GetDelegateForFunctionPointer<NativePartitioner>(NativeLibrary.GetExport(library, "rd_kafka_msg_partitioner_murmur2"));
        var keys = Enumerable.Range(0, 2000).Select(i => $"u{i}").Concat(["u901", "u902", "\u00fc-user", "a", "abcdefghij"]);
        foreach (var key in keys)
        {
            var bytes = Encoding.UTF8.GetBytes(key);
            foreach (var partitions in new[] { 3, 6, 7, 12 })
            {
                Assert.Equal(consistent(0, bytes, (nuint)bytes.Length, partitions, 0, 0), ProducerPartitioner.Crc32.PartitionOf(key, partitions));
                Assert.Equal(murmur2(0, bytes, (nuint)bytes.Length, partitions, 0, 0), ProducerPartitioner.Murmur2.PartitionOf(key, partitions));
            }
        }
    }

    [Fact]
    public void Names_round_trip()
    {
        foreach (var name in ProducerPartitioners.Names)
        {
            Assert.Equal(name, ProducerPartitioners.Parse(name).Name());
        }
    }
}
