using System.CommandLine;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Cli;

/// <summary>
/// The options a command shares with configuration (<see cref="SettingKeys"/>), plus
/// <c>--config</c>. Values are validated by <see cref="SettingKey.ToHocon"/> whichever way they
/// arrive, so a bad environment variable gets the same message as a bad option.
/// </summary>
public sealed class CommandOptions
{
    private readonly Dictionary<SettingKey, Option<string>> _options = [];
    private readonly List<SettingKey> _environmentOnly = [];
    private readonly Option<FileInfo> _config = new("--config")
    {
        Description = "extra HOCON file, over hocon/fraud.conf and under environment variables and options",
    };

    public CommandOptions(Command command, params SettingKey[] keys)
    {
        foreach (var key in keys)
        {
            if (key.EnvironmentOnly)
            {
                _environmentOnly.Add(key);
                continue;
            }

            var choices = key.Choices.Length > 0 ? $": {string.Join("|", key.Choices)}" : string.Empty;
            var option = new Option<string>(key.Option)
            {
                Description = $"{key.Description}{choices} [env {key.EnvironmentVariable}, HOCON {key.Path}]",
            };

            _options[key] = option;
            command.Options.Add(option);
        }

        command.Options.Add(_config);
    }

    public FraudSettings Settings(ParseResult parse, string? environmentName = null) =>
        FraudSettings.From(Hocon(parse, environmentName));

    public Akka.Configuration.Config Hocon(ParseResult parse, string? environmentName = null)
    {
        var given = new Dictionary<SettingKey, string>();
        foreach (var (key, option) in _options)
        {
            if (parse.GetResult(option) is not null && parse.GetValue(option) is { } value)
            {
                given[key] = value;
            }
        }

        return SettingsLoader.Load(given, [.. _options.Keys, .. _environmentOnly], parse.GetValue(_config)?.FullName, environmentName, Environment.GetEnvironmentVariable);
    }

    public bool WasGiven(ParseResult parse, SettingKey key) =>
        _options.TryGetValue(key, out var option) && parse.GetResult(option) is not null;
}
