using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FraudActors.Engine.Ingest;
using FraudActors.Messages.Alerts;
using FraudActors.Messages.Transactions;
using FraudActors.Testkit;
using FraudActors.Tooling.Drill;
using Npgsql;

namespace FraudActors.EndToEnd.Tests.Faults;

/// <summary>
/// Issue 8's database fault, for real: the service's own PostgreSQL server is stopped while a
/// paced stream flows, stays away for <see cref="Outage"/> after the node has found it gone, then
/// is started again. Meanwhile checkpoints
/// fail and are retried, the node stops reading (the records arriving wait on the topic instead
/// of being read ahead of what can be committed), it keeps running and does not restart in a
/// loop; once the server is back, the stream resumes from its last commit and the alerts topic
/// and table hold exactly the reference alerts, none twice, none missing.
/// </summary>
public sealed partial class PostgresOutageTests
{
    /// <summary>How long the database stays away once the node has found it gone: the issue's figure.</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);

    /// <summary>The node's in-flight bound (<c>--parallelism</c>).</summary>
    private const int Parallelism = 32;

    /// <summary>The ingest's pause before a restart: 1 s doubling to 10 s (TransactionIngest).</summary>
    private static readonly (TimeSpan Min, TimeSpan Max) IngestPause = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));

    /// <summary>
    /// How long after the server is back a journal may still be waiting out its supervisor's
    /// back-off (10 s at most, random factor 0.2) before it recovers: until then restarts fail.
    /// </summary>
    private static readonly TimeSpan JournalComeback = TimeSpan.FromSeconds(12);

    private const int Seed = 31;
    private const double Rate = 100;
    private const int Count = 6000;
    private const int Users = 2500;
    private const string Group = "pg-outage";

    /// <summary>Never in the log: trust authentication ignores it, the connection string carries it.</summary>
    private const string Password = "pg-outage-secret-7f3a";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task PostgreSQL_stopped_for_30_s_mid_stream_pauses_reading_retries_checkpoints_and_loses_or_doubles_no_alert()
    {
        Assert.True(LocalPostgres.IsInstalled, "PostgreSQL's server binaries are needed (apt-get install postgresql; scripts/test.sh installs them)");
        using var postgres = LocalPostgres.Start();
        var connection = new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Password = Password }.ConnectionString;

        var bootstrapFile = Path.GetTempFileName();
        await using var broker = FraudProcess.Start("broker", "--bootstrap-file", bootstrapFile);
        var bootstrap = (await broker.WaitForOutputAsync(l => l.StartsWith("bootstrap=", StringComparison.Ordinal), Timeout))["bootstrap=".Length..];

        await using var service = FraudProcess.Start(
            new Dictionary<string, string> { ["FRAUD_ENV"] = "dev", ["FRAUD_GROUP"] = Group, ["FRAUD_CONNECTION"] = connection },
            "run", "--bootstrap", bootstrap, "--store", "postgres", "--checkpoint-interval", "500ms", "--parallelism", $"{Parallelism}");
        await Eventually.TrueAsync(() => HttpAddress(service) is not null || service.HasExited, Timeout, () => service.StandardErrorTail());
        var api = HttpAddress(service) ?? throw new InvalidOperationException(service.StandardErrorTail());
        var job = (await GetAsync(api, "jobs"))["jobs"]![0]!["id"]!.GetValue<string>();

        // A paced stream (about a minute of records at 100/s): the first part flows before the
        // outage, the rest arrives while the database is away and after it returns.
        await using var producer = FraudProcess.Start(
            "produce", "--bootstrap", bootstrap, "--seed", $"{Seed}", "--count", $"{Count}", "--users", $"{Users}", "--rate", $"{Rate}");
        await Eventually.ValueAsync(() => CommittedAsync(api), c => c >= Count / 10, Timeout);

        // The server goes away mid-stream.
        var outage = Stopwatch.StartNew();
        postgres.Stop();

        // The node finds out at its next checkpoint or alert insert: the stream fails (saying
        // why) and restarts from its last commit after a back-off, once the database answers.
        // Until then it reads nothing more, while the topic keeps growing.
        // Finding out may take the users' ask timeout (a journal that failed mid-load): the server
        // stays away for Outage from then on, so the pause is watched for that long whatever it took.
        await Eventually.TrueAsync(() => Restarts(service) > 0 || service.HasExited, Timeout, () => service.StandardErrorTail());
        var before = await PositionAsync(api);
        var completedBefore = (await CheckpointsAsync(api, job))["counts"]!["completed"]!.GetValue<long>();
        var samples = new List<Position>();
        var watched = Stopwatch.StartNew();
        while (watched.Elapsed < Outage)
        {
            Assert.False(service.HasExited, service.StandardErrorTail());
            Assert.Equal("alive", (await GetAsync(api, "healthz"))["status"]!.GetValue<string>());
            samples.Add(await PositionAsync(api));

            // Paces the sampling; the outage's length is the fault itself, not a wait for a condition.
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }

        var during = await CheckpointsAsync(api, job);
        postgres.StartAgain();
        var back = DateTimeOffset.UtcNow;
        var away = outage.Elapsed;

        var last = samples[^1];
        Assert.True(samples.Count > 10, $"{samples.Count} samples");
        // Every restart waits for the database to answer before it reads, so nothing is read after the failed run.
        Assert.All(samples, s => Assert.True(
            s.Read <= before.Read,
            $"read up to {s.Read} while the database was away; the failed run had stopped at {before.Read}"));
        Assert.True(last.EndOffsets - before.EndOffsets >= 10 * Parallelism, $"the topic grew by {last.EndOffsets - before.EndOffsets} records during the outage");

        // No checkpoint completed while the server was away; those attempted failed, naming it.
        Assert.Equal(completedBefore, during["counts"]!["completed"]!.GetValue<long>());
        Assert.All(
            during["history"]!.AsArray().Where(c => c!["status"]!.GetValue<string>() == "failed"),
            c => Assert.Contains("PostgreSQL", c!["error"]!.GetValue<string>(), StringComparison.Ordinal));

        // Back: the stream resumes from its last commit and catches up with the whole stream.
        Assert.Equal(0, await producer.WaitForExitAsync(Timeout));
        var transactions = KafkaTestTopics.ReadAll(bootstrap, "transactions", Timeout);
        Assert.Equal(Count, transactions.Count);
        await Eventually.ValueAsync(() => CommittedAsync(api), c => c == Count, Timeout);

        // A checkpoint completed after the outage: the failed ones were retried.
        var after = await CheckpointsAsync(api, job);
        var completed = after["latest"]!["completed"]!;
        Assert.True(
            DateTimeOffset.Parse(completed["started"]!.GetValue<string>(), CultureInfo.InvariantCulture) >= back,
            $"latest completed checkpoint {completed}, database back at {back:O}");

        // No crash loop: a few restarts with a growing pause, and the process never exited.
        // Runs fail from the outage's start until the journals are back, each after the next pause.
        var restarts = RestartLines(service);
        var allowed = 1 + PausesWithin(away + JournalComeback);
        Assert.True(
            restarts.Count >= 1 && restarts.Count <= allowed,
            $"{restarts.Count} restarts (1 to {allowed} allowed, the server away for {away.TotalSeconds:0.#} s):\n{string.Join('\n', restarts)}");
        Assert.False(service.HasExited, service.StandardErrorTail());

        // Exactly the reference alerts on the topic and in the table, all published.
        var parser = new TransactionParser();
        var expected = AlertReference.SlidingVelocityIds(transactions.Select(r => (r.Partition.Value, r.Offset.Value, parser.Parse(r.Message.Key, true, r.Message.Value).Transaction!)));
        Assert.NotEmpty(expected);
        var onTopic = await Eventually.ValueAsync(
            () => Task.FromResult(KafkaTestTopics.ReadAll(bootstrap, "alerts", Timeout).Select(r => AlertJson.Deserialize(r.Message.Value).AlertId).ToList()),
            ids => ids.Count >= expected.Count,
            Timeout);
        var (duplicates, missing, extra) = AlertReference.Compare(expected, onTopic);
        Assert.Empty(duplicates);
        Assert.Empty(missing);
        Assert.Empty(extra);
        var table = await TestPostgres.AlertRowsAsync(postgres.ConnectionString);
        Assert.Equal(expected.Order(StringComparer.Ordinal), table.Select(r => r.Id).Order(StringComparer.Ordinal));
        Assert.All(table, r => Assert.True(r.Published, r.Id));

        // The log names the database and when it is tried again, and never the password.
        service.Interrupt();
        var exitCode = await service.WaitForExitAsync(Timeout);
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{service.StandardErrorTail()}");
        var log = service.StandardError.Split('\n');

        Assert.Contains(log, l => l.Contains("Ingest stream failed: ", StringComparison.Ordinal) && l.Contains("PostgreSQL", StringComparison.Ordinal) && RetryIn().IsMatch(l));
        Assert.Contains(log, l => l.Contains("outbox: PostgreSQL", StringComparison.Ordinal) && RetryIn().IsMatch(l));
        Assert.DoesNotContain(Password, service.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(service.StandardOutput, l => l.Contains(Password, StringComparison.Ordinal));
    }

    /// <summary>Where the node reads, the topic ends and the last checkpoints stand, summed over partitions.</summary>
    private sealed record Position(long Read, long EndOffsets, long Committed);

    /// <summary>How many of the ingest's successive pauses before a restart end within <paramref name="span"/>.</summary>
    private static int PausesWithin(TimeSpan span)
    {
        var backoff = new RestartBackoff(IngestPause.Min, IngestPause.Max);
        var pauses = 0;
        for (var elapsed = backoff.Next(); elapsed < span; elapsed += backoff.Next())
        {
            pauses++;
        }

        return pauses;
    }

    private static int Restarts(FraudProcess service) => RestartLines(service).Count;

    private static List<string> RestartLines(FraudProcess service) =>
        [.. service.StandardError.Split('\n').Where(l => l.Contains("Ingest stream failed", StringComparison.Ordinal))];

    private static async Task<Position> PositionAsync(Uri api)
    {
        var partitions = (await GetAsync(api, "partitions"))["partitions"]!.AsArray();
        return new Position(
            partitions.Sum(p => p!["current_offset"]?.GetValue<long>() ?? 0),
            partitions.Sum(p => p!["end_offset"]?.GetValue<long>() ?? 0),
            partitions.Sum(p => p!["committed_offset"]?.GetValue<long>() ?? 0));
    }

    private static async Task<long> CommittedAsync(Uri api) => (await PositionAsync(api)).Committed;

    private static Task<JsonNode> CheckpointsAsync(Uri api, string job) => GetAsync(api, $"jobs/{job}/checkpoints");

    private static async Task<JsonNode> GetAsync(Uri api, string path) =>
        JsonNode.Parse(await Http.GetStringAsync(new Uri(api, path)))!;

    private static Uri? HttpAddress(FraudProcess service) =>
        HttpLine().Match(service.StandardError) is { Success: true } m ? new Uri(m.Groups[1].Value) : null;

    [GeneratedRegex(@"HTTP API and dashboard on (http://\S+/)")]
    private static partial Regex HttpLine();

    [GeneratedRegex(@" in \d+(\.\d)? s\b")]
    private static partial Regex RetryIn();
}
