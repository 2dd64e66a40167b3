using System.Text;

namespace FraudActors.Engine.Rescaling;

/// <summary>
/// The producers' partitioner: which partition a record's key lands in, so that a rescale puts
/// each user's state where the producers now send its records (docs/design.md, section 8,
/// "Rescaling").
/// </summary>
public enum ProducerPartitioner
{
    /// <summary>The Java client's default for keyed records: murmur2 of the key, sign bit cleared, modulo the partition count.</summary>
    Murmur2,

    /// <summary>librdkafka's default (<c>consistent_random</c>, so also Confluent.Kafka's and <c>fraud produce</c>'s) for keyed records: CRC-32 of the key modulo the partition count.</summary>
    Crc32,
}

/// <summary>The hashes behind <see cref="ProducerPartitioner"/>: pure functions of the key's bytes.</summary>
public static class ProducerPartitioners
{
    private static readonly uint[] Crc32Table = BuildCrc32Table();

    /// <summary>The names <c>fraud rescale --partitioner</c> takes.</summary>
    public static IReadOnlyList<string> Names { get; } = ["murmur2", "crc32"];

    public static ProducerPartitioner Parse(string name) => name switch
    {
        "murmur2" => ProducerPartitioner.Murmur2,
        "crc32" => ProducerPartitioner.Crc32,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "expected murmur2 or crc32"),
    };

    public static string Name(this ProducerPartitioner partitioner) => partitioner == ProducerPartitioner.Murmur2 ? "murmur2" : "crc32";

    /// <summary>The partition of <paramref name="key"/> (UTF-8, as the producers send user ids) among <paramref name="partitions"/>.</summary>
    public static int PartitionOf(this ProducerPartitioner partitioner, string key, int partitions) =>
        partitioner.PartitionOf(Encoding.UTF8.GetBytes(key), partitions);

    public static int PartitionOf(this ProducerPartitioner partitioner, ReadOnlySpan<byte> key, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        return partitioner switch
        {
            // Java's Utils.toPositive: the sign bit cleared, not the absolute value.
            ProducerPartitioner.Murmur2 => (Murmur2(key) & 0x7fffffff) % partitions,
            ProducerPartitioner.Crc32 => (int)(Crc32(key) % (uint)partitions),
            _ => throw new ArgumentOutOfRangeException(nameof(partitioner), partitioner, null),
        };
    }

    /// <summary>MurmurHash2 (32-bit) with the Java client's seed, read as a signed int as Java does.</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint Seed = 0x9747b28c;
        const uint M = 0x5bd1e995;
        const int R = 24;

        var length = data.Length;
        var h = Seed ^ (uint)length;
        var blocks = length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = (uint)(data[4 * i] | (data[(4 * i) + 1] << 8) | (data[(4 * i) + 2] << 16) | (data[(4 * i) + 3] << 24));
            k *= M;
            k ^= k >> R;
            k *= M;
            h *= M;
            h ^= k;
        }

        // The last 1-3 bytes, little-endian, as the reference implementation's fall-through switch.
        var tail = length & ~3;
        var rest = length % 4;
        if (rest == 3)
        {
            h ^= (uint)data[tail + 2] << 16;
        }

        if (rest >= 2)
        {
            h ^= (uint)data[tail + 1] << 8;
        }

        if (rest >= 1)
        {
            h ^= data[tail];
            h *= M;
        }

        h ^= h >> 13;
        h *= M;
        h ^= h >> 15;
        return unchecked((int)h);
    }

    /// <summary>CRC-32 as zlib and librdkafka compute it (IEEE 802.3, reflected, polynomial 0xEDB88320).</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xffffffffu;
        foreach (var b in data)
        {
            crc = Crc32Table[(crc ^ b) & 0xff] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildCrc32Table()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var bit = 0; bit < 8; bit++)
            {
                c = (c & 1) != 0 ? 0xedb88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
