namespace FraudActors.Engine.Serialization;

/// <summary>
/// An exception another node answered with (<c>Status.Failure</c>), as it arrives here: its message
/// and its type's name as text, never the type itself (<see cref="WireSerializer"/>).
/// </summary>
public sealed class RemoteFailureException(string remoteType, string message) : Exception(message)
{
    /// <summary>The full name of the exception's type on the node that raised it, for the log.</summary>
    public string RemoteType { get; } = remoteType;

    public override string ToString() => $"{RemoteType} (on another node): {Message}";
}
