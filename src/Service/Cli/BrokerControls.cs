using System.Globalization;
using Confluent.Kafka;
using FraudActors.Engine.Kafka;
using FraudActors.Testkit;

namespace FraudActors.Service.Cli;

/// <summary>
/// The fault controls of <c>fraud broker --controls</c>: one command a line, applied to the dev
/// broker at once, so a user can break Kafka by hand under a running service. Each command
/// answers one line: <c>ok: …</c> on success, otherwise why not (the broker keeps running).
/// </summary>
public sealed class BrokerControls(DevBroker broker)
{
    public const string Usage =
        "down BROKER | up BROKER | leader TOPIC PARTITION BROKER | errors API COUNT ERROR [BROKER] | clear API | rtt BROKER MS | leaders TOPIC | help";

    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Librdkafka's current name for error 6, an alias its name table does not list.</summary>
    private static readonly Dictionary<string, ErrorCode> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["NOT_LEADER_OR_FOLLOWER"] = ErrorCode.NotLeaderForPartition,
    };

    /// <summary>Applies one line; returns the answer (<c>ok: …</c>, or <c>error: …</c> naming what is wrong).</summary>
    public string Apply(string line)
    {
        var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return "error: empty command; " + Usage;
        }

        try
        {
            switch (words[0].ToLowerInvariant())
            {
                case "down" when words.Length == 2:
                    broker.SetBrokerDown(Number(words[1], "BROKER"));
                    return $"ok: broker {words[1]} down";
                case "up" when words.Length == 2:
                    broker.SetBrokerUp(Number(words[1], "BROKER"));
                    return $"ok: broker {words[1]} up";
                case "leader" when words.Length == 4:
                    broker.SetPartitionLeader(words[1], Number(words[2], "PARTITION"), Number(words[3], "BROKER"));
                    return $"ok: leader of {words[1]} [{words[2]}] is broker {words[3]}";
                case "errors" when words.Length is 4 or 5:
                    return PushErrors(Api(words[1]), Number(words[2], "COUNT"), Error(words[3]), words.Length == 5 ? Number(words[4], "BROKER") : null);
                case "clear" when words.Length == 2:
                    broker.ClearRequestErrors(Api(words[1]));
                    return $"ok: no more {Api(words[1])} errors pending (cluster-wide)";
                case "rtt" when words.Length == 3:
                    broker.SetBrokerRoundTrip(Number(words[1], "BROKER"), TimeSpan.FromMilliseconds(Number(words[2], "MS")));
                    return $"ok: broker {words[1]} answers after {words[2]} ms";
                case "leaders" when words.Length == 2:
                    var leaders = broker.PartitionLeaders(words[1], MetadataTimeout);
                    return $"ok: leaders of {words[1]}: " + string.Join(' ', leaders.OrderBy(l => l.Key).Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Key}={l.Value}")));
                case "help":
                    return "ok: " + Usage;
                default:
                    return $"error: '{line.Trim()}' is not a command; " + Usage;
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or KafkaException or ObjectDisposedException)
        {
            return $"error: {line.Trim()}: {e.Message}";
        }
    }

    /// <summary>
    /// Reads commands in the background. Not awaited by the caller: a read of the console may not
    /// end on Ctrl-C, and the input ending (e.g. &lt; /dev/null) leaves the broker running.
    /// </summary>
    public void Start(TextReader commands, TextWriter answers, CancellationToken stop) =>
        _ = Task.Run(async () => await RunAsync(commands, answers, stop).ConfigureAwait(false), CancellationToken.None);

    /// <summary>Reads commands until the input ends, writing each answer to <paramref name="answers"/>.</summary>
    public async Task RunAsync(TextReader commands, TextWriter answers, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && await commands.ReadLineAsync(stop).ConfigureAwait(false) is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                await answers.WriteLineAsync(Apply(line)).ConfigureAwait(false);
                await answers.FlushAsync(stop).ConfigureAwait(false);
            }
        }
    }

    private string PushErrors(KafkaApiKey api, int count, ErrorCode error, int? brokerId)
    {
        if (count < 1)
        {
            throw new FormatException("COUNT must be at least 1");
        }

        var errors = Enumerable.Repeat(error, count).ToArray();
        if (brokerId is { } id)
        {
            broker.PushBrokerRequestErrors(id, api, TimeSpan.Zero, errors);
            return $"ok: the next {count} {api} request(s) to broker {id} fail with {DevBroker.ErrorName(error)}";
        }

        broker.PushRequestErrors(api, errors);
        return $"ok: the next {count} {api} request(s) fail with {DevBroker.ErrorName(error)}";
    }

    private static int Number(string word, string what) =>
        int.TryParse(word, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new FormatException($"{what} must be a whole number, not '{word}'");

    private static KafkaApiKey Api(string word) =>
        Enum.TryParse<KafkaApiKey>(word, ignoreCase: true, out var api) && Enum.IsDefined(api)
            ? api
            : throw new FormatException($"API must be one of {string.Join(", ", Enum.GetNames<KafkaApiKey>())}, not '{word}'");

    /// <summary>An error by librdkafka's name (NOT_LEADER_OR_FOLLOWER), Confluent.Kafka's (NotLeaderForPartition) or number.</summary>
    private static ErrorCode Error(string word)
    {
        if (Aliases.TryGetValue(word, out var alias))
        {
            return alias;
        }

        if (int.TryParse(word, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && Enum.IsDefined((ErrorCode)number))
        {
            return (ErrorCode)number;
        }

        foreach (var code in Enum.GetValues<ErrorCode>())
        {
            if (string.Equals(word, code.ToString(), StringComparison.OrdinalIgnoreCase) || string.Equals(word, DevBroker.ErrorName(code), StringComparison.OrdinalIgnoreCase))
            {
                return code;
            }
        }

        throw new FormatException($"ERROR must be a Kafka error name (e.g. NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT) or code, not '{word}'");
    }
}
