using System.Text;
using Confluent.Kafka;
using FraudActors.Testkit;

namespace FraudActors.EndToEnd.Tests.Cli;

/// <summary><c>fraud broker --controls</c>: faults typed on standard input reach real clients of the broker.</summary>
public sealed class BrokerControlsTests
{
    private const string Topic = "transactions";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Typed_controls_move_a_leader_fail_requests_and_take_a_broker_down_and_up_and_bad_ones_are_answered_with_why()
    {
        await using var broker = FraudProcess.StartWithInput("broker", "--controls");
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];

        var leaders = await AskAsync(broker, "leaders transactions", "ok: leaders of transactions: ");
        var leader = int.Parse(leaders.Split(' ').Single(p => p.StartsWith("0=", StringComparison.Ordinal))[2..], System.Globalization.CultureInfo.InvariantCulture);
        var other = leader % 3 + 1;
        await AskAsync(broker, $"leader transactions 0 {other}", $"ok: leader of transactions [0] is broker {other}");
        await AskAsync(broker, "leaders transactions", $"ok: leaders of transactions: 0={other} ");

        // Retriable errors are retried by the client and the record lands once; a permanent one fails the produce.
        await AskAsync(broker, "errors Produce 2 NOT_LEADER_OR_FOLLOWER", "ok: the next 2 Produce request(s) fail with NOT_LEADER_FOR_PARTITION");
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, EnableIdempotence = true, MessageTimeoutMs = 3000 }).Build();
        await producer.ProduceAsync(new TopicPartition(Topic, 0), Message("retried"));
        await AskAsync(broker, $"errors Produce 1 MsgSizeTooLarge {other}", $"ok: the next 1 Produce request(s) to broker {other} fail with MSG_SIZE_TOO_LARGE");
        var refused = await Assert.ThrowsAsync<ProduceException<byte[]?, byte[]>>(() => producer.ProduceAsync(new TopicPartition(Topic, 0), Message("refused")));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, refused.Error.Code);

        // A down broker refuses its partition until it is up again.
        await AskAsync(broker, $"down {other}", $"ok: broker {other} down");
        var timedOut = await Assert.ThrowsAsync<ProduceException<byte[]?, byte[]>>(() => producer.ProduceAsync(new TopicPartition(Topic, 0), Message("down")));
        Assert.Equal(ErrorCode.Local_MsgTimedOut, timedOut.Error.Code);
        await AskAsync(broker, $"up {other}", $"ok: broker {other} up");
        await producer.ProduceAsync(new TopicPartition(Topic, 0), Message("up again"));

        var values = KafkaTestTopics.ReadAll(bootstrap, Topic, Timeout).Select(r => Encoding.UTF8.GetString(r.Message.Value)).ToList();
        Assert.Equal(["retried", "up again"], values);

        await AskAsync(broker, "down 9", "error: down 9: the dev broker has no broker 9; its brokers are 1, 2, 3");
        await AskAsync(broker, "errors Fetch many REQUEST_TIMED_OUT", "error: errors Fetch many REQUEST_TIMED_OUT: COUNT must be a whole number, not 'many'");
        await AskAsync(broker, "errors Fetch 1 NO_SUCH_ERROR", "error: errors Fetch 1 NO_SUCH_ERROR: ERROR must be a Kafka error name");
        await AskAsync(broker, "errors Fly 1 REQUEST_TIMED_OUT", "error: errors Fly 1 REQUEST_TIMED_OUT: API must be one of Produce, Fetch");
        await AskAsync(broker, "fly away", "error: 'fly away' is not a command; down BROKER | up BROKER");
        await AskAsync(broker, "clear Fetch", "ok: no more Fetch errors pending (cluster-wide)");

        // The broker's own output is as without controls, its first line the bootstrap line.
        Assert.StartsWith("bootstrap=", broker.StandardOutput.First(), StringComparison.Ordinal);
        broker.Interrupt();
        Assert.Equal(0, await broker.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Help_names_the_controls()
    {
        var (code, help) = await FraudProcess.RunAsync(Timeout, "broker", "--help");
        Assert.Equal(0, code);
        var text = string.Join('\n', help.StandardOutput);
        Assert.Contains("--controls", text, StringComparison.Ordinal);
        Assert.Contains("errors API COUNT ERROR [BROKER]", text, StringComparison.Ordinal);
    }

    private static async Task<string> AskAsync(FraudProcess broker, string command, string answer)
    {
        await broker.WriteLineAsync(command);
        return await broker.WaitForOutputAsync(l => l.StartsWith(answer, StringComparison.Ordinal), Timeout);
    }

    private static Message<byte[]?, byte[]> Message(string value) => new() { Value = Encoding.UTF8.GetBytes(value) };
}
