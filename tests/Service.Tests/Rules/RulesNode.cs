using System.Net.Http.Headers;
using FraudActors.Service.Cli;
using FraudActors.Service.Composition;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;
using FraudActors.Testkit;

namespace FraudActors.Service.Tests.Rules;

/// <summary>
/// One node in process on the dev broker (the service's topics, the rules topic with one
/// partition, transactions with one), memory store, a read token and an admin token: the
/// rules' routes and <c>fraud rules … --http</c> run against it.
/// </summary>
public sealed class RulesNode : IAsyncLifetime
{
    public const string AdminToken = "rules-admin-token";
    public const string ReadToken = "rules-read-token";

    private DevBroker? _broker;
    private FraudNode? _node;

    public string Bootstrap => _broker!.BootstrapServers;

    public FraudSettings Settings => _node!.Settings;

    public Uri Address => _node!.HttpAddress;

    public async Task InitializeAsync()
    {
        var topics = Load(new Dictionary<SettingKey, string>()).Topics;
        _broker = BrokerCommand.Start(topics, partitions: 1);
        var settings = Load(new Dictionary<SettingKey, string>
        {
            [SettingKeys.Bootstrap] = _broker.BootstrapServers,
            [SettingKeys.Group] = "rules-api",
            [SettingKeys.Store] = "memory",
            [SettingKeys.Http] = "127.0.0.1:0",
            [SettingKeys.AdminToken] = AdminToken,
            [SettingKeys.ReadToken] = ReadToken,
        });
        _node = await FraudNode.StartAsync(settings, new NodeOutputs(_ => { }), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.CancelAsync();
        }

        _broker?.Dispose();
    }

    /// <summary>A client of the node's API sending <paramref name="token"/> (none: no Authorization header).</summary>
    public HttpClient Client(string? token)
    {
        var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    private static FraudSettings Load(Dictionary<SettingKey, string> given) =>
        FraudSettings.From(SettingsLoader.Load(given, [.. given.Keys], null, null, _ => null));
}

/// <summary>The test classes that share one <see cref="RulesNode"/>: they run one after the other.</summary>
[CollectionDefinition(Name)]
public sealed class RulesNodeCollection : ICollectionFixture<RulesNode>
{
    public const string Name = "rules node";
}
