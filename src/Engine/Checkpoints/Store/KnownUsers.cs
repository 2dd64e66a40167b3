namespace FraudActors.Engine.Checkpoints.Store;

/// <summary>
/// Which users a journal's store holds, as a Bloom filter: "no" is certain, "maybe" is right
/// about 99 times in 100 while it holds no more than its capacity. A user it says no to is new,
/// so its start needs no read of the store. About 10 bits a user; it only fills, never forgets
/// (a user removed from the store by a replacement stays a "maybe", which costs a read).
/// </summary>
public sealed class KnownUsers
{
    private const int BitsPerUser = 10;
    private const int Hashes = 7;

    private readonly long[] _bits;
    private readonly ulong _size;
    private long _count;

    public KnownUsers(long capacity)
    {
        Capacity = Math.Max(1024, capacity);
        _size = (ulong)(Capacity * BitsPerUser);
        _bits = new long[(_size + 63) / 64];
    }

    /// <summary>The users it was sized for; past them it says "maybe" more often.</summary>
    public long Capacity { get; }

    /// <summary>Users added (those it already said "maybe" to not counted).</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Sized for the store's users now and as many more again.</summary>
    public static KnownUsers For(long users) => new(Math.Max(1 << 20, 2 * users));

    /// <summary>Safe while others read: each bit is set atomically. Counted when it was not a "maybe" already.</summary>
    public void Add(string userId)
    {
        var (h1, h2) = Hash(userId);
        var added = false;
        for (var i = 0UL; i < Hashes; i++)
        {
            var bit = (h1 + (i * h2)) % _size;
            var mask = 1L << (int)(bit & 63);
            added |= (Interlocked.Or(ref _bits[bit >> 6], mask) & mask) == 0;
        }

        if (added)
        {
            Interlocked.Increment(ref _count);
        }
    }

    /// <summary>It holds more users than it was sized for: a new one, from the store, would answer "no" more often.</summary>
    public bool Full => Count > Capacity;

    public bool MightContain(string userId)
    {
        var (h1, h2) = Hash(userId);
        for (var i = 0UL; i < Hashes; i++)
        {
            var bit = (h1 + (i * h2)) % _size;
            if ((Volatile.Read(ref _bits[bit >> 6]) & (1L << (int)(bit & 63))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Two independent 64-bit hashes of the id's UTF-16 code units (FNV-1a, then a murmur finalizer of it).</summary>
    private static (ulong H1, ulong H2) Hash(string userId)
    {
        var h = 14695981039346656037UL;
        foreach (var c in userId)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        var g = h;
        g ^= g >> 33;
        g *= 0xff51afd7ed558ccdUL;
        g ^= g >> 33;
        g *= 0xc4ceb9fe1a85ec53UL;
        g ^= g >> 33;
        return (h, g | 1);
    }
}
