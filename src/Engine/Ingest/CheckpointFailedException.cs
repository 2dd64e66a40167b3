namespace FraudActors.Engine.Ingest;

/// <summary>Thrown when a checkpoint cannot commit; the stream restarts from the last commit.</summary>
public sealed class CheckpointFailedException(string message, Exception? cause = null) : Exception(message, cause);
