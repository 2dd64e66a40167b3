using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using FraudActors.Engine.Dispatch;
using Xunit;

namespace FraudActors.Engine.Tests.Dispatch;

/// <summary>The compact mailbox: a queue's order across growth and wrap-around, the stash's prepend, many senders, and a stashing actor on it.</summary>
public sealed class CompactMailboxTests() : TestKit(ConfigurationFactory.ParseString(CompactMailbox.Hocon))
{
    [Fact]
    public void Keeps_order_across_growth_and_wrap_around()
    {
        var queue = new CompactMessageQueue();
        var expected = new Queue<int>();
        var next = 0;
        // Interleaved enqueues and dequeues move the head around the ring while it grows.
        for (var round = 0; round < 50; round++)
        {
            for (var i = 0; i < round % 7 + 1; i++)
            {
                queue.Enqueue(ActorRefs.Nobody, new Envelope(next, ActorRefs.NoSender));
                expected.Enqueue(next++);
            }

            for (var i = 0; i < round % 5; i++)
            {
                Assert.True(queue.TryDequeue(out var envelope));
                Assert.Equal(expected.Dequeue(), envelope.Message);
            }
        }

        Assert.Equal(expected.Count, queue.Count);
        while (queue.TryDequeue(out var envelope))
        {
            Assert.Equal(expected.Dequeue(), envelope.Message);
        }

        Assert.Empty(expected);
        Assert.False(queue.HasMessages);
    }

    [Fact]
    public void A_prepended_envelope_comes_out_first()
    {
        var queue = new CompactMessageQueue();
        foreach (var i in Enumerable.Range(0, 6))
        {
            queue.Enqueue(ActorRefs.Nobody, new Envelope(i, ActorRefs.NoSender));
        }

        queue.EnqueueFirst(new Envelope("b", ActorRefs.NoSender));
        queue.EnqueueFirst(new Envelope("a", ActorRefs.NoSender));
        var all = new List<object>();
        while (queue.TryDequeue(out var envelope))
        {
            all.Add(envelope.Message);
        }

        Assert.Equal(new object[] { "a", "b", 0, 1, 2, 3, 4, 5 }, all);
    }

    [Fact]
    public async Task Many_senders_lose_nothing_and_keep_each_senders_order()
    {
        var queue = new CompactMessageQueue();
        const int Senders = 4, Each = 20_000;
        var sending = Enumerable.Range(0, Senders).Select(s => Task.Run(() =>
        {
            for (var i = 0; i < Each; i++)
            {
                queue.Enqueue(ActorRefs.Nobody, new Envelope((s, i), ActorRefs.NoSender));
            }
        })).ToArray();
        var last = Enumerable.Repeat(-1, Senders).ToArray();
        var received = 0;
        while (received < Senders * Each)
        {
            if (queue.TryDequeue(out var envelope))
            {
                var (sender, i) = ((int, int))envelope.Message;
                Assert.Equal(last[sender] + 1, i);
                last[sender] = i;
                received++;
            }
        }

        await Task.WhenAll(sending);
        Assert.False(queue.HasMessages);
    }

    [Fact]
    public void A_stashing_actor_on_it_gets_its_messages_back_in_order()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Gate()));
        foreach (var i in Enumerable.Range(0, 10))
        {
            actor.Tell(i, TestActor);
        }

        actor.Tell("open", TestActor);
        foreach (var i in Enumerable.Range(0, 10))
        {
            ExpectMsg(i);
        }
    }

    /// <summary>Stashes everything until "open", then echoes.</summary>
    private sealed class Gate : UntypedActor, IWithUnboundedStash
    {
        private bool _open;

        public IStash Stash { get; set; } = null!;

        protected override void OnReceive(object message)
        {
            if (message is "open")
            {
                _open = true;
                Stash.UnstashAll();
            }
            else if (_open)
            {
                Sender.Tell(message);
            }
            else
            {
                Stash.Stash();
            }
        }
    }
}
