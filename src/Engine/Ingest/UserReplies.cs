using FraudActors.Messages.Commands;
using FraudActors.Messages.Events;

namespace FraudActors.Engine.Ingest;

/// <summary>
/// The one reply target of a pipeline run: every record is told to its user with this as the
/// sender. A user on this node that has nothing to report counts its record here
/// (<see cref="Applied"/>, no message); any other answer is a <see cref="TransactionApplied"/>.
/// Both find the record's slot from the <see cref="ApplyTransaction.Sequence"/> alone: the
/// group's number and the record's place in it (docs/design.md, "Records one way"). What
/// <c>Ask</c> did per record (a promise actor, its path, a timer, a task and a continuation each)
/// is done once per group of records.
/// </summary>
internal sealed class UserReplies(IActorRefProvider provider) : ReplyTarget(provider), IDisposable, Users.IAppliedCounter
{
    /// <summary>Bits of a sequence number that hold the record's place in its group.</summary>
    private const int IndexBits = 24;

    /// <summary>Groups awaiting replies, by their number: far more than the stream keeps in flight.</summary>
    private readonly RecordGroup?[] _groups = new RecordGroup?[64];
    private long _lastGroup;

    /// <summary>The sequence number of a record about to be sent, its reply expected into slot <paramref name="index"/> of <paramref name="group"/>.</summary>
    public long Expect(RecordGroup group, int index)
    {
        if (group.Number == 0)
        {
            // The group's first record: it takes a number and a slot (only the stream's turn sends).
            group.Number = ++_lastGroup;
            Volatile.Write(ref _groups[group.Number % _groups.Length], group);
        }

        group.Expect();
        return (group.Number << IndexBits) | (uint)index;
    }

    /// <summary>A group that timed out: replies still coming for it are dropped.</summary>
    public void Forget(RecordGroup group) =>
        Interlocked.CompareExchange(ref _groups[group.Number % _groups.Length], null, group);

    public void Dispose() => Unregister();

    /// <summary>A record applied with nothing to report, counted in its group's slot on the user's thread: no message, no allocation.</summary>
    public void Applied(long sequence) => Find(sequence)?.Set(IndexOf(sequence), RecordGroup.AppliedQuietly);

    /// <summary>
    /// Runs on the replying user's thread: stores the reply into its group's slot, found by the
    /// sequence number alone (no dictionary, no lock), and completes the group with the last one.
    /// </summary>
    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is TransactionApplied applied)
        {
            Find(applied.Sequence)?.Set(IndexOf(applied.Sequence), applied);
        }
    }

    private RecordGroup? Find(long sequence)
    {
        var number = sequence >> IndexBits;
        return Volatile.Read(ref _groups[number % _groups.Length]) is { } group && group.Number == number ? group : null;
    }

    private static int IndexOf(long sequence) => (int)(sequence & ((1L << IndexBits) - 1));
}

/// <summary>
/// Consecutive records of one stream element, sent to their users together: their replies in
/// record order, and the side work (dead letters, late output, wake-ups) started while sending.
/// </summary>
internal sealed class RecordGroup(int records, long generation)
{
    /// <summary>The run that sent the records.</summary>
    public long Generation { get; } = generation;

    /// <summary>The reply slot of a record applied with nothing to report (no alert, window, error or timer): no reply was made.</summary>
    public static readonly TransactionApplied AppliedQuietly = new(string.Empty, -1, -1, [], Duplicate: false);

    /// <summary>The group's number in its run's <see cref="UserReplies"/> (0 until its first record is sent).</summary>
    public long Number { get; set; }

    private readonly TaskCompletionSource _replied = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Replies still to come, plus one held by the sender until every record is sent.</summary>
    private int _remaining = 1;

    /// <summary>The records as sent, in stream order (rejected ones without a command).</summary>
    public List<RecordSent> Sent { get; } = new(records);

    /// <summary>Work started at the stream's turn that must end before the group counts as handled.</summary>
    public List<Task> Started { get; } = [];

    /// <summary>Each sent record's reply, by its place in <see cref="Sent"/>.</summary>
    public TransactionApplied?[] Replies { get; } = new TransactionApplied?[records];

    /// <summary>Every record's user has answered.</summary>
    public Task Replied => _replied.Task;

    /// <summary>Before a record is told to its user.</summary>
    public void Expect() => Interlocked.Increment(ref _remaining);

    /// <summary>Every record is sent: from here the last reply completes the group.</summary>
    public void Close() => CountDown();

    public void Set(int index, TransactionApplied applied)
    {
        if ((uint)index < (uint)Replies.Length && Interlocked.CompareExchange(ref Replies[index], applied, null) is null)
        {
            CountDown();
        }
    }

    private void CountDown()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _replied.TrySetResult();
        }
    }
}

/// <summary>A record as sent: where it came from and what its user was told (null: it went to the dead letters).</summary>
internal readonly record struct RecordSent(Kafka.KafkaRecord Record, ApplyTransaction? Command, PartitionClock? Clock);

/// <summary>
/// The reply target of one partition's barrier: every dirty user is told the barrier with this
/// as the sender, and the states come back here, counted, instead of one ask per user (a
/// checkpoint of 100,000 changed users made 100,000 promise actors, timers and tasks).
/// </summary>
public sealed class BarrierReplies(IActorRefProvider provider, int users, TimeSpan timeout)
    : CountedReplies<UserCheckpointState>(provider, users, timeout, "the barrier")
{
    /// <summary>Every user's state, or an <see cref="AskTimeoutException"/> when one did not answer in time.</summary>
    public Task<UserCheckpointState[]> States => All;
}

/// <summary>
/// The one reply target of many users told at once (a barrier's states, the answers to a clock's
/// wakes): the replies come back here, counted, instead of one ask — a promise actor, a timer
/// and a task — per user.
/// </summary>
public class CountedReplies<T> : ReplyTarget
    where T : class
{
    private readonly TaskCompletionSource<T[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly T[] _replies;
    private readonly string _what;
    private int _received;
    private int _stored;

    public CountedReplies(IActorRefProvider provider, int expected, TimeSpan timeout, string what)
        : base(provider)
    {
        _replies = new T[expected];
        _what = what;
        All = Complete(timeout);
        if (expected == 0)
        {
            _done.TrySetResult([]);
        }
    }

    /// <summary>Every reply, or an <see cref="AskTimeoutException"/> when one did not come in time.</summary>
    public Task<T[]> All { get; }

    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is T reply)
        {
            // Replies come on the users' threads: a slot each, and the whole is complete when
            // the last one is stored (not when the last slot is handed out: an earlier slot's
            // writer may not have stored its reply yet).
            var index = Interlocked.Increment(ref _received) - 1;
            if (index < _replies.Length)
            {
                _replies[index] = reply;
                if (Interlocked.Increment(ref _stored) == _replies.Length)
                {
                    _done.TrySetResult(_replies);
                }
            }
        }
    }

    private async Task<T[]> Complete(TimeSpan timeout)
    {
        try
        {
            return await _done.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new AskTimeoutException($"{_replies.Length - Volatile.Read(ref _stored)} of {_replies.Length} user(s) did not answer {_what} within {timeout}");
        }
        finally
        {
            Unregister();
        }
    }
}

/// <summary>
/// A reply target that is not an actor: replies are handled on the replier's thread, as an
/// ask's promise handles its one. Registered as a temporary actor, so users on other nodes
/// can answer it as they answer an ask; unregistered when its replies are all in.
/// </summary>
public abstract class ReplyTarget : MinimalActorRef
{
    private readonly IActorRefProvider _provider;

    protected ReplyTarget(IActorRefProvider provider)
    {
        _provider = provider;
        Path = provider.TempPath();
        provider.RegisterTempActor(this, Path);
    }

    public override ActorPath Path { get; }

    public override IActorRefProvider Provider => _provider;

    protected void Unregister() => _provider.UnregisterTempActor(Path);
}
