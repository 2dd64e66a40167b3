using FraudActors.FraudService.Configuration;

namespace FraudActors.FraudService.Tests.Configuration;

/// <summary>Option beats environment beats --config beats hocon/fraud.conf, and bad values name their source.</summary>
public sealed class SettingsLoaderTests
{
    private static readonly SettingKey[] Keys = [SettingKeys.Bootstrap, SettingKeys.CheckpointInterval, SettingKeys.Store, SettingKeys.Parallelism];

    [Fact]
    public void The_base_file_gives_the_defaults()
    {
        var settings = Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>());
        Assert.Equal("127.0.0.1:9092", settings.Bootstrap);
        Assert.Equal("fraud-detector", settings.GroupId);
        Assert.Equal(new("transactions", "alerts", "transactions.dlq"), settings.Topics);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.Checkpoints.Interval);
        Assert.Equal("memory", settings.Store);
        Assert.Equal(new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), 100, TimeSpan.Zero), settings.Checkpoints);
        Assert.Equal(5, settings.Rules.SlidingVelocity!.Threshold);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.Rules.SlidingVelocity.WindowLength);
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
        Assert.Null(Load(new Dictionary<SettingKey, string>(), new Dictionary<string, string>(), file).Rules.SlidingVelocity);
    }

    private static FraudSettings Load(Dictionary<SettingKey, string> options, Dictionary<string, string> environment, string? file = null) =>
        FraudSettings.From(SettingsLoader.Load(options, Keys, file, null, name => environment.GetValueOrDefault(name)));
}
