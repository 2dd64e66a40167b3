namespace FraudActors.Engine.Rescaling;

/// <summary>What one partition journal holds, as <see cref="GetCommittedUsers"/> answers it.</summary>
/// <param name="NextOffset">Null for a journal that never committed (a partition the job never checkpointed, or one that did not exist).</param>
public sealed record JournalContents(int Partition, long Epoch, long? NextOffset, long? WatermarkMs, IReadOnlyList<UserSnapshot> Users);

/// <summary>What a rescale writes to one partition's journal.</summary>
/// <param name="Users">The partition's users afterwards: exactly those the partitioner sends to it.</param>
/// <param name="Interim">
/// When the partition both gains and loses users, what it holds between the two write phases:
/// its new users plus the ones it is losing, so that no user is in no journal at any moment.
/// </param>
/// <param name="Unchanged">Already as the plan wants it (a re-run): not written.</param>
public sealed record PartitionTarget(
    int Partition,
    bool IsNew,
    long NextOffset,
    long? WatermarkMs,
    IReadOnlyList<UserSnapshot> Users,
    IReadOnlyList<UserSnapshot>? Interim,
    int UsersBefore,
    bool Gains,
    bool Loses,
    bool Unchanged);

/// <summary>
/// A rescale of the partition journals to <see cref="ToPartitions"/> partitions, computed
/// without touching them (docs/design.md, section 8, "Rescaling"): every user goes to the
/// partition <see cref="Partitioner"/> picks for its id; old partitions keep their next offset
/// and watermark, new ones start at offset 0 with the lowest watermark of the partitions their
/// users come from; every partition gets the highest epoch found, so later checkpoints number
/// above all of them.
/// </summary>
public sealed record RescalePlan(
    int FromPartitions,
    int ToPartitions,
    ProducerPartitioner Partitioner,
    long Epoch,
    IReadOnlyList<PartitionTarget> Partitions,
    IReadOnlyDictionary<(int From, int To), int> Moves,
    int Users,
    int StaleCopies)
{
    /// <summary>Users whose state changes partition.</summary>
    public int Moved => Moves.Where(m => m.Key.From != m.Key.To).Sum(m => m.Value);

    /// <summary>
    /// Plans the rescale of <paramref name="journals"/> (every journal that may hold users: the
    /// old partitions, and any partition an interrupted rescale already wrote).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer partitions than there were: Kafka cannot shrink a topic.</exception>
    /// <param name="move">What a user's state becomes in another partition; <see cref="MovedUserState.ForgetOffset"/> unless a test says otherwise.</param>
    /// <exception cref="InvalidOperationException">A user's state is in two journals, differs, and neither is in its partition.</exception>
    public static RescalePlan Compute(IReadOnlyList<JournalContents> journals, int toPartitions, ProducerPartitioner partitioner, Func<UserSnapshot, UserSnapshot>? move = null)
    {
        move ??= MovedUserState.ForgetOffset;
        ArgumentOutOfRangeException.ThrowIfLessThan(toPartitions, 1);
        var byPartition = journals.ToDictionary(j => j.Partition);
        var fromPartitions = journals.Where(j => j.NextOffset is not null || j.Users.Count > 0).Select(j => j.Partition + 1).DefaultIfEmpty(0).Max();
        if (fromPartitions > toPartitions)
        {
            throw new ArgumentException($"the journals hold {fromPartitions} partitions and a topic's partitions cannot be decreased: rescale to {fromPartitions} or more");
        }

        // Each user once. Two copies exist only after an interrupted rescale (its first phase
        // copies users before the second removes them): the copy in the user's partition wins.
        var chosen = new Dictionary<string, (int From, UserSnapshot User)>(StringComparer.Ordinal);
        var copies = new Dictionary<string, List<(int From, UserSnapshot User)>>(StringComparer.Ordinal);
        foreach (var journal in journals.OrderBy(j => j.Partition))
        {
            foreach (var user in journal.Users)
            {
                (copies.TryGetValue(user.UserId, out var list) ? list : copies[user.UserId] = []).Add((journal.Partition, user));
            }
        }

        var staleCopies = 0;
        foreach (var (userId, found) in copies)
        {
            var target = partitioner.PartitionOf(userId, toPartitions);
            var pick = found.FirstOrDefault(c => c.From == target);
            if (pick.User is null)
            {
                if (found.Skip(1).Any(c => !c.User.State.AsSpan().SequenceEqual(found[0].User.State)))
                {
                    throw new InvalidOperationException(
                        $"user {userId} has different states in the journals of partitions {string.Join(", ", found.Select(c => c.From))} and none in partition {target}, where {partitioner.Name()} puts it: the store was written after an interrupted rescale; restore it from a backup");
                }

                pick = found[0];
            }

            staleCopies += found.Count - 1;
            chosen[userId] = pick;
        }

        var epoch = journals.Select(j => j.Epoch).DefaultIfEmpty(0).Max();
        var moves = new Dictionary<(int From, int To), int>();
        var incoming = Enumerable.Range(0, toPartitions).Select(_ => new List<(int From, UserSnapshot User)>()).ToArray();
        foreach (var (userId, (from, user)) in chosen)
        {
            var to = partitioner.PartitionOf(userId, toPartitions);
            incoming[to].Add((from, from == to ? user : move(user)));
            moves[(from, to)] = moves.GetValueOrDefault((from, to)) + 1;
        }

        var targets = new List<PartitionTarget>(toPartitions);
        for (var partition = 0; partition < toPartitions; partition++)
        {
            var old = byPartition.GetValueOrDefault(partition);
            var isNew = old?.NextOffset is null;
            var users = incoming[partition].Select(i => i.User).OrderBy(u => u.UserId, StringComparer.Ordinal).ToList();
            var watermark = isNew ? LowestWatermark(incoming[partition].Select(i => i.From).Distinct().Select(p => byPartition[p].WatermarkMs).ToList()) : old!.WatermarkMs;
            var before = (old?.Users ?? []).ToDictionary(u => u.UserId, u => u.State, StringComparer.Ordinal);
            var kept = users.Count(u => before.TryGetValue(u.UserId, out var state) && state.AsSpan().SequenceEqual(u.State));
            var gains = kept < users.Count;
            var loses = kept < before.Count;
            var nextOffset = old?.NextOffset ?? 0;
            var unchanged = !gains && !loses && old is not null && old.Epoch == epoch && old.NextOffset == nextOffset && old.WatermarkMs == watermark;
            var staying = users.Select(u => u.UserId).ToHashSet(StringComparer.Ordinal);
            var interim = gains && loses ? [.. users, .. old!.Users.Where(u => !staying.Contains(u.UserId))] : (List<UserSnapshot>?)null;
            targets.Add(new PartitionTarget(partition, isNew, nextOffset, watermark, users, interim, before.Count, gains, loses, unchanged));
        }

        return new RescalePlan(fromPartitions, toPartitions, partitioner, epoch, targets, moves, chosen.Count, staleCopies);
    }

    /// <summary>
    /// A new partition's watermark: the lowest of its users' old partitions, so that no record
    /// one of them would still have taken on time is late after the move; none (null) when a
    /// source had none, or no user comes in.
    /// </summary>
    private static long? LowestWatermark(List<long?> sources) =>
        sources.Count == 0 || sources.Any(w => w is null) ? null : sources.Min();
}
