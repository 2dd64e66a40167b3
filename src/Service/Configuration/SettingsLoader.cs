using Akka.Configuration;

namespace FraudActors.Service.Configuration;

/// <summary>
/// Builds the one HOCON <see cref="Config"/> a command runs with. Highest first: command-line
/// options, <c>FRAUD_*</c> environment variables, <c>--config FILE</c>, <c>hocon/$FRAUD_ENV.conf</c>,
/// <c>hocon/fraud.conf</c>.
/// </summary>
public static class SettingsLoader
{
    public const string EnvironmentVariable = "FRAUD_ENV";

    public static string HoconDirectory => System.IO.Path.Combine(AppContext.BaseDirectory, "hocon");

    /// <param name="options">The options given on the command line, with their raw values.</param>
    /// <param name="keys">The settings the command reads; only these are taken from the environment.</param>
    public static Config Load(
        IReadOnlyDictionary<SettingKey, string> options,
        IEnumerable<SettingKey> keys,
        string? configFile,
        string? environmentName,
        Func<string, string?> environment)
    {
        var config = ParseFile(System.IO.Path.Combine(HoconDirectory, "fraud.conf"), "the base configuration");
        environmentName ??= environment(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(environmentName))
        {
            var path = System.IO.Path.Combine(HoconDirectory, environmentName + ".conf");
            config = ParseFile(path, $"{EnvironmentVariable}={environmentName}").WithFallback(config);
        }

        if (configFile is not null)
        {
            config = ParseFile(configFile, "--config").WithFallback(config);
        }

        foreach (var key in keys)
        {
            if (options.TryGetValue(key, out var raw))
            {
                config = Parse($"{key.Path} = {key.ToHocon(raw, "the command line")}").WithFallback(config);
            }
            else if (environment(key.EnvironmentVariable) is { } fromEnvironment)
            {
                config = Parse($"{key.Path} = {key.ToHocon(fromEnvironment, key.EnvironmentVariable)}").WithFallback(config);
            }
        }

        return config;
    }

    /// <summary>The key <c>fraud.store = KIND</c> is short for <c>fraud.store.kind</c>, beside <c>fraud.store.path</c>.</summary>
    public const string StoreKindPath = "fraud.store.kind";

    /// <summary>
    /// One source, with <c>fraud.store = KIND</c> read as <c>fraud.store.kind = KIND</c>: in HOCON a
    /// value and an object at one key replace each other, so a kind from one source and a path
    /// from another (or two lines of one) would otherwise not both hold.
    /// </summary>
    private static Config Parse(string hocon)
    {
        var config = ConfigurationFactory.ParseString(hocon);
        if (config.HasPath(SettingKeys.Store.Path) && config.GetValue(SettingKeys.Store.Path) is { } store && store.IsString())
        {
            var kind = store.GetString().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
            return ConfigurationFactory.ParseString($"{StoreKindPath} = \"{kind}\"").WithFallback(config);
        }

        return config;
    }

    private static Config ParseFile(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new ConfigurationException($"{what}: file '{path}' does not exist");
        }

        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConfigurationException($"{what}: '{path}' is not valid HOCON: {e.Message}");
        }
    }
}
