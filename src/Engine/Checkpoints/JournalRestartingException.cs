namespace FraudActors.Engine.Checkpoints;

/// <summary>
/// The answer of a partition journal between two attempts to recover from its database. One
/// instance answers every ask while it is away, so its stack trace (which grows with each
/// rethrow) is left out.
/// </summary>
public sealed class JournalRestartingException(string message) : InvalidOperationException(message)
{
    public override string? StackTrace => null;
}
