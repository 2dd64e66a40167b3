using Akka.Configuration;

namespace FraudActors.FraudService.Configuration;

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

        var overrides = new List<string>();
        foreach (var key in keys)
        {
            if (options.TryGetValue(key, out var raw))
            {
                overrides.Add($"{key.Path} = {key.ToHocon(raw, "the command line")}");
            }
            else if (environment(key.EnvironmentVariable) is { } fromEnvironment)
            {
                overrides.Add($"{key.Path} = {key.ToHocon(fromEnvironment, key.EnvironmentVariable)}");
            }
        }

        return overrides.Count == 0
            ? config
            : ConfigurationFactory.ParseString(string.Join('\n', overrides)).WithFallback(config);
    }

    private static Config ParseFile(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new ConfigurationException($"{what}: file '{path}' does not exist");
        }

        try
        {
            return ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConfigurationException($"{what}: '{path}' is not valid HOCON: {e.Message}");
        }
    }
}
