using FraudActors.Messages.Sharding;

namespace FraudActors.Messages.Queries;

/// <summary>
/// Ask a user's live actor for its current state (the HTTP API's <c>GET /users/{id}</c>). The
/// partition routes it to the user's shard; it changes nothing.
/// </summary>
public sealed record GetUserState(int Partition, string UserId) : IUserMessage;

/// <summary>Reply to <see cref="GetUserState"/>: the state in its checkpoint form (UserStateCodec), so it can cross nodes.</summary>
public sealed record CurrentUserState(string UserId, int Partition, long LastAppliedOffset, byte[] State);
