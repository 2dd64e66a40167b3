namespace FraudActors.Engine.Users;

/// <summary>
/// Messages the user actors of this process received, by where they came from: this node's
/// pipeline, or another node's (a record read on one node whose user runs on another). Shard
/// placement exists to keep the second near zero; <c>fraud bench --scenario placement</c>
/// compares it with plain hashing.
/// </summary>
public static class UserTraffic
{
    private static long _local;
    private static long _remote;

    public static long Local => Interlocked.Read(ref _local);

    public static long Remote => Interlocked.Read(ref _remote);

    internal static void Received(bool fromAnotherNode)
    {
        if (fromAnotherNode)
        {
            Interlocked.Increment(ref _remote);
        }
        else
        {
            Interlocked.Increment(ref _local);
        }
    }
}
