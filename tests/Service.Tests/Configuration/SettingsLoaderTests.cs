using FraudActors.Engine.Rules;
using FraudActors.Engine.Time;
using FraudActors.Engine.Windows;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Tests.Configuration;

/// <summary>Option beats environment beats --config beats hocon/fraud.conf, and bad values name their source.</summary>
public sealed class SettingsLoaderTests
{
    private static readonly SettingKey[] Keys = [SettingKeys.Bootstrap, SettingKeys.CheckpointInterval, SettingKeys.Store, SettingKeys.Connection, SettingKeys.StorePath, SettingKeys.Parallelism];

    [Fact]
    public void The_base_file_gives_the_defaults()
    {
        var settings = Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>());
        Assert.Equal("127.0.0.1:9092", settings.Bootstrap);
        Assert.Equal("fraud-detector", settings.GroupId);
        Assert.Equal(new("transactions", "alerts", "transactions.dlq"), settings.Topics);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.Checkpoints.Interval);
        Assert.Equal("sqlite", settings.Store);
        Assert.Equal(new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), 100, TimeSpan.Zero), settings.Checkpoints);
        var velocity = Assert.IsType<SlidingVelocityRule>(Assert.Single(settings.Rules.Rules));
        Assert.Equal(5, velocity.Settings.Threshold);
        Assert.Equal(TimeSpan.FromSeconds(60), velocity.Settings.WindowLength);

        // Event time with a 5 s bound and a 60 s idle timeout; tumbling 5 min and sessions with a
        // 10 min gap on, sliding and count windows off; late records counted, not published.
        Assert.Equal(TimeCharacteristic.EventTime, settings.Time.Characteristic);
        Assert.Equal(new WatermarkSettings(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60), TimeSpan.Zero), settings.Time.Watermarks);
        Assert.Equal(new WindowSettings(Tumbling: TimeSpan.FromMinutes(5), SessionGap: TimeSpan.FromMinutes(10)), settings.Windows);
        Assert.False(settings.PublishLate);
        Assert.Equal(("user-window-counts", "user-sessions", "transactions.late"), (settings.Topics.WindowCounts, settings.Topics.Sessions, settings.Topics.Late));
        Assert.Equal(TimeSpan.FromDays(1), settings.StateTtl!.TimeToLive);

        // Event times from 2000 on, at most a day ahead of their records; tx_ids remembered 10 min.
        Assert.Equal(FraudActors.Messages.Transactions.TimestampBounds.Default, settings.Ingest.Timestamps);
        Assert.Equal(TimeSpan.FromMinutes(10), settings.UserSettings.DedupWindow);
        Assert.Equal(1_000_000_000m, settings.Ingest.MaxAbsAmount);
    }

    [Theory]
    [InlineData("fraud.ingest.max-abs-amount = 1e6", 1_000_000)]
    [InlineData("fraud.ingest.max-abs-amount = 8589934592", 8_589_934_592)]
    public void The_amount_bound_is_read_up_to_the_limit_that_keeps_sums_from_overflowing(string line, long expected)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, line);
        Assert.Equal(expected, Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file).Ingest.MaxAbsAmount);
    }

    [Theory]
    [InlineData("fraud.state.cache-bytes = 64KiB", 64 * 1024)]
    [InlineData("fraud.state.cache-bytes = 1000000", 1_000_000)]
    [InlineData("fraud.state.cache-bytes = auto", -1)]
    public void The_state_cache_is_auto_or_a_size(string line, long expected)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, line);
        var bytes = Engine.Checkpoints.Store.UserStateStores.CacheBytes(Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file).Hocon);
        if (expected < 0)
        {
            Assert.InRange(bytes, Engine.Checkpoints.Store.UserStateStores.MinAutoCacheBytes, Engine.Checkpoints.Store.UserStateStores.MaxAutoCacheBytes);
        }
        else
        {
            Assert.Equal(expected, bytes);
        }
    }

    [Fact]
    public void A_state_cache_that_is_not_a_size_stops_the_start_naming_its_key()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "fraud.state.cache-bytes = lots");
        var e = Assert.Throws<ConfigurationException>(() => Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file));
        Assert.Contains("fraud.state.cache-bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rules_windows_and_time_are_chosen_in_configuration()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, """
            fraud.rules.timer-velocity { enabled = on, threshold = 3, window = 30s }
            fraud.rules.small-then-large { enabled = on, large-above = 250.00 }
            fraud.windows.sliding.enabled = on
            fraud.windows.count { enabled = on, size = 10 }
            fraud.windows.session.enabled = off
            fraud.time { characteristic = processing-time, idle-timeout = off, allowed-lateness = 2s }
            fraud.state.ttl = off
            """);
        var settings = Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file);
        Assert.Equal(["sliding-velocity", "small-then-large", "timer-velocity"], settings.Rules.Rules.Select(r => r.Name));
        Assert.Equal(30_000, settings.Rules.Find("timer-velocity")!.WindowMs);
        Assert.Equal(new WindowSettings(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(5), null, 10, TimeSpan.FromSeconds(2)), settings.Windows);
        Assert.Equal(TimeCharacteristic.ProcessingTime, settings.Time.Characteristic);
        Assert.Null(settings.Time.Watermarks.IdleTimeout);
        Assert.Null(settings.StateTtl);
    }

    [Theory]
    [InlineData("fraud.rules.no-such-rule.enabled = on", "fraud.rules.no-such-rule")]
    [InlineData("fraud.rules.small-then-large.large-above = lots", "fraud.rules.small-then-large.large-above")]
    [InlineData("fraud.rules.timer-velocity.threshold = 0", "fraud.rules.timer-velocity.threshold")]
    [InlineData("fraud.windows.tumbling.size = soon", "fraud.windows.tumbling.size")]
    [InlineData("fraud.windows.count.enabled = maybe", "fraud.windows.count.enabled")]
    [InlineData("fraud.time.idle-timeout = -1s", "fraud.time.idle-timeout")]
    public void A_bad_rule_window_or_time_setting_names_its_key(string line, string key)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, line);
        var e = Assert.Throws<ConfigurationException>(() => Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fraud.bootstrap = kafka", "fraud.bootstrap")]
    [InlineData("fraud.bootstrap = \"kafka-1:9092,kafka-2:0\"", "fraud.bootstrap")]
    [InlineData("fraud.topics.alerts = \"fraud alerts\"", "fraud.topics.alerts")]
    [InlineData("fraud.topics.sessions = \"..\"", "fraud.topics.sessions")]
    [InlineData("fraud.topics.dlq = transactions", "fraud.topics.dlq")]
    [InlineData("fraud.node.hostname = \"no such host!\"", "fraud.node.hostname")]
    [InlineData("fraud.node.port = 70000", "fraud.node.port")]
    [InlineData("fraud.checkpoint.interval = -1s", "fraud.checkpoint.interval")]
    [InlineData("fraud.checkpoint.retained = 0", "fraud.checkpoint.retained")]
    [InlineData("fraud.ingest.ask-timeout = 0s", "fraud.ingest.ask-timeout")]
    [InlineData("fraud.time.characteristic = wall-clock", "fraud.time.characteristic")]
    [InlineData("fraud.node.shard-allocation = random", "fraud.node.shard-allocation")]
    [InlineData("fraud.group-id = \"\"", "fraud.group-id")]
    [InlineData("fraud.ingest.earliest-ts = yesterday", "fraud.ingest.earliest-ts")]
    [InlineData("fraud.ingest.earliest-ts = \"2000-01-01\"", "fraud.ingest.earliest-ts")]
    [InlineData("fraud.ingest.earliest-ts = \"2000-01-01T00:00:00\"", "fraud.ingest.earliest-ts")]
    [InlineData("fraud.ingest.max-ts-ahead = -1s", "fraud.ingest.max-ts-ahead")]
    [InlineData("fraud.ingest.dedup-window = soon", "fraud.ingest.dedup-window")]
    [InlineData("fraud.ingest.max-abs-amount = 0", "fraud.ingest.max-abs-amount")]
    [InlineData("fraud.ingest.max-abs-amount = -5", "fraud.ingest.max-abs-amount")]
    [InlineData("fraud.ingest.max-abs-amount = lots", "fraud.ingest.max-abs-amount")]
    [InlineData("fraud.ingest.max-abs-amount = 8589934593", "fraud.ingest.max-abs-amount")]
    [InlineData("fraud.ingest.max-abs-amount = 5e28", "fraud.ingest.max-abs-amount")]
    public void A_bad_value_anywhere_is_refused_at_start_naming_its_full_key(string line, string key)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, line);
        var e = Assert.Throws<ConfigurationException>(() => Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file));
        Assert.StartsWith($"configuration key {key}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sqlite", "Host=db;Username=fraud;Password=hunter2-secret")]
    [InlineData("postgres", "Username=fraud;Password=hunter2-secret;Database=fraud")]
    [InlineData("postgres", "Password=hunter2-secret;Bogus Keyword=1")]
    public void A_connection_string_that_does_not_fit_the_store_names_the_key_and_never_shows_the_password(string store, string connection)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, $"fraud.store = {store}\nfraud.connection = \"{connection}\"");
        var e = Assert.Throws<ConfigurationException>(() => Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file));
        Assert.StartsWith("configuration key fraud.connection (--connection, FRAUD_CONNECTION)", e.Message, StringComparison.Ordinal);
        Assert.Contains($"fraud.store = {store}", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Printed_settings_show_no_password_token_or_Kafka_secret()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, """
            fraud.store = postgres
            fraud.connection = "Host=db;Username=fraud;Password=pg-secret-1;Database=fraud"
            fraud.http-admin-token = admin-secret-2
            fraud.kafka.common { "sasl.password" = sasl-secret-3 }
            """);
        var printed = Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file).ToString();
        Assert.Contains("Password=***", printed, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("host=db", printed, StringComparison.OrdinalIgnoreCase);
        Assert.All(new[] { "pg-secret-1", "admin-secret-2", "sasl-secret-3" }, secret => Assert.DoesNotContain(secret, printed, StringComparison.Ordinal));
    }

    [Fact]
    public void A_bootstrap_given_as_an_option_is_checked_as_the_key_is_and_names_both()
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(new Dictionary<SettingKey, string> { [SettingKeys.Bootstrap] = "localhost" }, new Dictionary<string, string>()));
        Assert.Contains("fraud.bootstrap", e.Message, StringComparison.Ordinal);
        Assert.Contains("--bootstrap", e.Message, StringComparison.Ordinal);
        Assert.Contains("'localhost'", e.Message, StringComparison.Ordinal);

        // librdkafka's PROTOCOL:// prefix, IPv6 and several brokers are all fine.
        var settings = Load(new Dictionary<SettingKey, string> { [SettingKeys.Bootstrap] = "SASL_SSL://kafka-1.example.com:9093,[::1]:9092,10.0.0.7:9092" }, new Dictionary<string, string>());
        Assert.Equal("SASL_SSL://kafka-1.example.com:9093,[::1]:9092,10.0.0.7:9092", settings.Bootstrap);
    }

    [Fact]
    public void An_option_beats_the_environment_which_beats_the_config_file()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, """
            fraud.bootstrap = "from-file:9092"
            fraud.checkpoint.interval = 3s
            fraud.ingest.parallelism = 7
            fraud.checkpoint.min-pause = 1500ms
            """);
        var environment = new Dictionary<string, string>
        {
            ["FRAUD_BOOTSTRAP"] = "from-env:9092",
            ["FRAUD_CHECKPOINT_INTERVAL"] = "2s",
        };
        var options = new Dictionary<SettingKey, string> { [SettingKeys.Bootstrap] = "from-option:9092" };

        var settings = Load(options, environment, file);

        Assert.Equal("from-option:9092", settings.Bootstrap);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.Checkpoints.Interval);
        Assert.Equal(7, settings.Ingest.Parallelism);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), settings.Checkpoints.MinPause);
    }

    [Fact]
    public void The_demo_environment_file_overrides_the_base()
    {
        var settings = FraudSettings.From(SettingsLoader.Load(new Dictionary<SettingKey, string>(), Keys, null, "demo", _ => null));
        Assert.Equal(TimeSpan.FromSeconds(2), settings.Checkpoints.Interval);
    }

    [Theory]
    [InlineData("FRAUD_CHECKPOINT_INTERVAL", "soon", "--checkpoint-interval")]
    [InlineData("FRAUD_STORE", "redis", "--store")]
    [InlineData("FRAUD_PARALLELISM", "-3", "--parallelism")]
    public void A_bad_environment_value_names_the_option_and_the_variable(string variable, string value, string option)
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string> { [variable] = value }));
        Assert.Contains(option, e.Message, StringComparison.Ordinal);
        Assert.Contains(variable, e.Message, StringComparison.Ordinal);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_value_in_a_file_names_the_key()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "fraud.rules.sliding-velocity.threshold = many");
        var e = Assert.Throws<ConfigurationException>(() => Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file));
        Assert.Contains("fraud.rules.sliding-velocity.threshold", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_config_file_or_environment_file_is_an_error()
    {
        Assert.Throws<ConfigurationException>(() => Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), "/nonexistent/x.conf"));
        var e = Assert.Throws<ConfigurationException>(() => Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string> { ["FRAUD_ENV"] = "staging" }));
        Assert.Contains("FRAUD_ENV=staging", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Turning_the_rule_off_in_configuration_removes_it()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "fraud.rules.sliding-velocity.enabled = off");
        Assert.Empty(Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file).Rules.Rules);
    }

    [Fact]
    public void Without_store_options_state_is_kept_in_sqlite_at_fraud_state_db_in_the_working_directory()
    {
        var settings = Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>());

        Assert.Equal("sqlite", settings.Store);
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "fraud-state.db"), settings.StorePath);
        Assert.Equal(settings.StorePath, new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(settings.Connection).DataSource);
    }

    [Fact]
    public void The_sqlite_file_is_chosen_by_option_environment_or_configuration_and_a_connection_string_overrides_it()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "fraud.store.path = from-file.db");
        string DataSource(FraudSettings s) => new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(s.Connection).DataSource;

        Assert.Equal(Path.GetFullPath("from-file.db"), DataSource(Load([], [], file)));
        Assert.Equal(Path.GetFullPath("from-env.db"), DataSource(Load([], new() { ["FRAUD_STORE_PATH"] = "from-env.db" }, file)));
        Assert.Equal("/tmp/from-option.db", DataSource(Load(new() { [SettingKeys.StorePath] = "/tmp/from-option.db" }, new() { ["FRAUD_STORE_PATH"] = "from-env.db" }, file)));
        Assert.Equal("given.db", DataSource(Load(new() { [SettingKeys.Connection] = "Data Source=given.db" }, [], file)));

        // A kind from one source and a path from another both hold, in the short form or the long one.
        var both = Load(new() { [SettingKeys.Store] = "sqlite" }, new() { ["FRAUD_STORE_PATH"] = "from-env.db" });
        Assert.Equal(("sqlite", Path.GetFullPath("from-env.db")), (both.Store, DataSource(both)));
        File.WriteAllText(file, "fraud.store = sqlite\nfraud.store.path = one-file.db");
        Assert.Equal(Path.GetFullPath("one-file.db"), DataSource(Load([], [], file)));
        File.WriteAllText(file, "fraud.store { kind = memory, path = x.db }");
        Assert.Equal("memory", Load([], [], file).Store);
        Assert.Equal("postgres", Load([], new() { ["FRAUD_STORE"] = "postgres", ["FRAUD_CONNECTION"] = "Host=db" }, file).Store);
    }

    [Fact]
    public void The_memory_store_is_only_used_when_asked_and_its_warning_says_a_crash_loses_state()
    {
        Assert.Equal("memory", Load(new() { [SettingKeys.Store] = "memory" }, []).Store);
        Assert.Contains("--store memory", FraudActors.Service.Cli.RunCommand.MemoryStoreWarning, StringComparison.Ordinal);
        Assert.Contains("a crash or kill loses them", FraudActors.Service.Cli.RunCommand.MemoryStoreWarning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("on", true)]
    [InlineData("off", false)]
    public void The_transactional_outbox_is_off_unless_switched_on(string? variable, bool expected)
    {
        var environment = variable is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["FRAUD_OUTBOX_TRANSACTIONAL"] = variable };
        var settings = FraudSettings.From(SettingsLoader.Load(new Dictionary<SettingKey, string>(), [SettingKeys.OutboxTransactional], null, null, environment.GetValueOrDefault));
        Assert.Equal(expected, settings.TransactionalOutbox);
        var bad = Assert.Throws<ConfigurationException>(() => SettingsLoader.Load(new Dictionary<SettingKey, string> { [SettingKeys.OutboxTransactional] = "maybe" }, [SettingKeys.OutboxTransactional], null, null, _ => null));
        Assert.StartsWith("--outbox-transactional: 'maybe' is not one of on, off", bad.Message, StringComparison.Ordinal);
    }

    private static FraudSettings Load(Dictionary<SettingKey, string> options, Dictionary<string, string> environment, string? file = null) =>
        FraudSettings.From(SettingsLoader.Load(options, Keys, file, null, name => environment.GetValueOrDefault(name)));
}
