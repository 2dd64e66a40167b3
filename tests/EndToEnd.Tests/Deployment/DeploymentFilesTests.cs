using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Configuration;
using FraudActors.Service.Configuration;
using FraudActors.Testkit;
using YamlDotNet.RepresentationModel;

namespace FraudActors.EndToEnd.Tests.Deployment;

/// <summary>
/// docker/Dockerfile and docker/compose.yml, checked without a Docker engine: the compose file
/// parses and wires Kafka, PostgreSQL, the topics and three nodes together; the Dockerfile
/// publishes what the tests build, runs it as a non-root user and probes /healthz; and its
/// publish command, entry point and health check run here as they would in the image.
/// </summary>
public sealed partial class DeploymentFilesTests
{
    private static readonly string[] FraudNodes = ["fraud-1", "fraud-2", "fraud-3"];
    private const string TopicsService = "topics";
    private const string CertsService = "certs";

    [Fact]
    public void Compose_file_has_kafka_postgres_the_topics_service_and_three_nodes_built_from_the_Dockerfile()
    {
        var services = Map(Compose(), "services");
        foreach (var name in new[] { "kafka", "postgres", TopicsService }.Concat(FraudNodes))
        {
            Assert.True(services.Children.ContainsKey(new YamlScalarNode(name)), $"compose.yml has no service '{name}'");
        }

        Assert.StartsWith("apache/kafka:", Scalar(Map(services, "kafka"), "image"), StringComparison.Ordinal);
        Assert.Contains("broker,controller", Scalar(Map(Map(services, "kafka"), "environment"), "KAFKA_PROCESS_ROLES"), StringComparison.Ordinal);
        var postgres = Map(services, "postgres");
        Assert.StartsWith("postgres:", Scalar(postgres, "image"), StringComparison.Ordinal);
        Assert.True(postgres.Children.ContainsKey(new YamlScalarNode("healthcheck")), "postgres needs a healthcheck for depends_on: service_healthy");

        var httpPorts = new List<string>();
        foreach (var name in FraudNodes)
        {
            var node = Map(services, name);
            var build = Map(node, "build");
            var context = Path.GetFullPath(Path.Combine(RepositoryRoot, "docker", Scalar(build, "context")));
            Assert.Equal(RepositoryRoot.TrimEnd(Path.DirectorySeparatorChar), context.TrimEnd(Path.DirectorySeparatorChar));
            Assert.Equal("docker/Dockerfile", Scalar(build, "dockerfile"));

            var environment = Map(node, "environment");
            Assert.Equal("0.0.0.0:8081", Scalar(environment, "FRAUD_HTTP"));
            Assert.Equal("kafka:9092", Scalar(environment, "FRAUD_BOOTSTRAP"));
            Assert.Equal("postgres", Scalar(environment, "FRAUD_STORE"));
            Assert.StartsWith("Host=postgres;", Scalar(environment, "FRAUD_CONNECTION"), StringComparison.Ordinal);
            Assert.Equal(name, Scalar(environment, "FRAUD_NODE_HOSTNAME"));
            Assert.Equal("fraud-1:4053", Scalar(environment, "FRAUD_SEED_NODES"));
            Assert.Equal("4053", Scalar(environment, "FRAUD_NODE_PORT"));

            // Both HTTP tokens come from the shell, and compose refuses to start without them.
            Assert.StartsWith("${FRAUD_ADMIN_TOKEN:?", Scalar(environment, "FRAUD_ADMIN_TOKEN"), StringComparison.Ordinal);
            Assert.StartsWith("${FRAUD_READ_TOKEN:?", Scalar(environment, "FRAUD_READ_TOKEN"), StringComparison.Ordinal);

            // Real Kafka: the outbox publishes as transactions of the job's transactional ids.
            Assert.Equal("on", Scalar(environment, "FRAUD_OUTBOX_TRANSACTIONAL"));

            // Remoting's mutual TLS, with the certificate the certs service made for this node.
            Assert.Equal($"/certs/{name}.p12", Scalar(environment, "FRAUD_NODE_TLS_CERTIFICATE"));
            Assert.Equal("/certs/ca.pem", Scalar(environment, "FRAUD_NODE_TLS_CA"));
            Assert.StartsWith("${FRAUD_NODE_TLS_PASSWORD:?", Scalar(environment, "FRAUD_NODE_TLS_PASSWORD"), StringComparison.Ordinal);
            Assert.Equal("certs:/certs:ro", Assert.Single(((YamlSequenceNode)node.Children[new YamlScalarNode("volumes")]).Children.Cast<YamlScalarNode>()).Value);

            var dependsOn = Map(node, "depends_on");
            Assert.Equal("service_healthy", Scalar(Map(dependsOn, "postgres"), "condition"));
            Assert.Equal("service_completed_successfully", Scalar(Map(dependsOn, TopicsService), "condition"));
            Assert.Equal("service_completed_successfully", Scalar(Map(dependsOn, CertsService), "condition"));

            var ports = Assert.IsType<YamlSequenceNode>(node.Children[new YamlScalarNode("ports")]);
            var port = Assert.Single(ports.Children.Cast<YamlScalarNode>()).Value!;
            Assert.EndsWith(":8081", port, StringComparison.Ordinal);
            httpPorts.Add(port);
        }

        // The certs service writes a certificate for each node, with the password the nodes read them with.
        var certs = Map(services, CertsService);
        Assert.Equal(["certs", "--out", "/certs", "--names", string.Join(',', FraudNodes)], ((YamlSequenceNode)certs.Children[new YamlScalarNode("command")]).Children.Cast<YamlScalarNode>().Select(c => c.Value!));
        Assert.StartsWith("${FRAUD_NODE_TLS_PASSWORD:?", Scalar(Map(certs, "environment"), "FRAUD_NODE_TLS_PASSWORD"), StringComparison.Ordinal);
        Assert.Equal("certs:/certs", Assert.Single(((YamlSequenceNode)certs.Children[new YamlScalarNode("volumes")]).Children.Cast<YamlScalarNode>()).Value);
        Assert.True(Map(Compose(), "volumes").Children.ContainsKey(new YamlScalarNode("certs")), "compose.yml declares no 'certs' volume");

        // Published on the host's loopback only, Kafka's host port too.
        Assert.Equal(["127.0.0.1:8081:8081", "127.0.0.1:8082:8081", "127.0.0.1:8083:8081"], httpPorts);
        Assert.Equal("127.0.0.1:29092:29092", Assert.Single(((YamlSequenceNode)Map(services, "kafka").Children[new YamlScalarNode("ports")]).Children.Cast<YamlScalarNode>()).Value);
    }

    [Fact]
    public void Every_FRAUD_variable_in_the_compose_file_is_a_setting_the_service_reads()
    {
        var known = typeof(SettingKeys).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetValue(null)).OfType<SettingKey>().Select(k => k.EnvironmentVariable).ToHashSet(StringComparer.Ordinal);
        var services = Map(Compose(), "services");
        foreach (var (name, service) in services.Children)
        {
            if (((YamlMappingNode)service).Children.TryGetValue(new YamlScalarNode("environment"), out var environment))
            {
                foreach (var variable in ((YamlMappingNode)environment).Children.Keys.Cast<YamlScalarNode>().Select(k => k.Value!))
                {
                    Assert.True(!variable.StartsWith("FRAUD_", StringComparison.Ordinal) || known.Contains(variable), $"{name}: {variable} is not a setting of the service ({string.Join(", ", known.Order())})");
                }
            }
        }
    }

    [Fact]
    public void The_topics_service_creates_every_topic_of_fraud_conf_transactions_with_twelve_partitions_and_rules_compacted()
    {
        var topics = ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(RepositoryRoot, "hocon", "fraud.conf")))
            .GetConfig("fraud.topics").AsEnumerable().Select(kv => kv.Value.GetString()).ToList();
        Assert.Contains("transactions", topics);
        Assert.True(topics.Count >= 6, string.Join(", ", topics));

        var service = Map(Map(Compose(), "services"), TopicsService);
        Assert.StartsWith("apache/kafka:", Scalar(service, "image"), StringComparison.Ordinal);
        Assert.Equal("service_healthy", Scalar(Map(Map(service, "depends_on"), "kafka"), "condition"));
        var script = string.Join('\n', ((YamlSequenceNode)service.Children[new YamlScalarNode("command")]).Children.Cast<YamlScalarNode>().Select(s => s.Value));
        Assert.Contains("kafka-topics.sh --bootstrap-server kafka:9092 --create --if-not-exists", script, StringComparison.Ordinal);
        var created = CreateLine().Matches(script).ToDictionary(
            m => m.Groups["topic"].Value,
            m => (Partitions: int.Parse(m.Groups["partitions"].Value, System.Globalization.CultureInfo.InvariantCulture), Configs: m.Groups["configs"].Value));
        foreach (var topic in topics)
        {
            Assert.True(created.ContainsKey(topic!), $"the topics service does not create '{topic}' (creates {string.Join(", ", created.Keys)})");
        }

        Assert.Equal(12, created["transactions"].Partitions);

        // The rules topic is compacted (a rule's latest record is its settings), one partition (one order).
        Assert.Equal((1, " --config cleanup.policy=compact"), created["rules"]);
        Assert.Equal((1, string.Empty), created["rules.dlq"]);
        Assert.Contains("\"$${@:3}\"", script, StringComparison.Ordinal);
    }

    [Fact]
    public void The_demo_producer_runs_produce_against_kafka_under_the_demo_profile()
    {
        var producer = Map(Map(Compose(), "services"), "producer");
        Assert.Equal(["demo"], Sequence(producer, "profiles"));
        var command = Sequence(producer, "command");
        Assert.Equal("produce", command[0]);
        Assert.Equal("kafka:9092", command[command.IndexOf("--bootstrap") + 1]);
    }

    [Fact]
    public void Dockerfile_builds_in_two_stages_publishes_FraudService_in_Release_and_runs_it_as_a_non_root_user()
    {
        var instructions = Dockerfile();
        var stages = instructions.Where(i => i.Keyword == "FROM").Select(i => i.Arguments).ToList();
        Assert.Equal(["mcr.microsoft.com/dotnet/sdk:10.0 AS build", "mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime"], stages);

        Assert.Contains("dotnet publish src/FraudService -c Release -o /app", PublishCommand(), StringComparison.Ordinal);
        Assert.Contains(instructions, i => i.Keyword == "COPY" && i.Arguments == "--from=build /app /app");

        var user = Assert.Single(instructions, i => i.Keyword == "USER").Arguments;
        Assert.DoesNotMatch(@"^(root|0)(:.*)?$", user);
        var runtimeStart = instructions.FindLastIndex(i => i.Keyword == "FROM");
        Assert.True(instructions.FindIndex(i => i.Keyword == "USER") > runtimeStart, "USER belongs to the runtime stage");

        Assert.Equal(["dotnet", "/app/fraud.dll"], JsonArray(Assert.Single(instructions, i => i.Keyword == "ENTRYPOINT").Arguments));
        Assert.Equal(["run"], JsonArray(Assert.Single(instructions, i => i.Keyword == "CMD").Arguments));
        var exposed = Assert.Single(instructions, i => i.Keyword == "EXPOSE").Arguments.Split(' ');
        Assert.Contains("8081", exposed);
        Assert.Contains("4053", exposed);
        Assert.Contains("FRAUD_HTTP=0.0.0.0:8081", Assert.Single(instructions, i => i.Keyword == "ENV" && i.Arguments.Contains("FRAUD_HTTP", StringComparison.Ordinal)).Arguments, StringComparison.Ordinal);
        Assert.Contains("/healthz", string.Join(' ', HealthCheck()), StringComparison.Ordinal);
    }

    /// <summary>
    /// The Dockerfile's publish command as the image runs it (reusing this test run's build), then
    /// the image's entry point with <c>--help</c>, then <c>run</c> with the image's health check
    /// against it: unhealthy before the HTTP API listens, healthy once it does.
    /// </summary>
    [Fact]
    public async Task The_Dockerfiles_publish_command_gives_a_fraud_dll_that_runs_and_passes_the_health_check()
    {
        var output = Directory.CreateTempSubdirectory("fraud-publish-");
        try
        {
            // The build stage restores first; here the test run's build is reused as it is.
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            var publish = PublishCommand().Replace("-c Release", $"-c {configuration}", StringComparison.Ordinal)
                .Replace("-o /app", $"-o {output.FullName}", StringComparison.Ordinal)
                .Replace("--no-restore", "--no-build", StringComparison.Ordinal);
            var words = publish.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var (published, publishOutput) = await RunAsync(words[0], words[1..], RepositoryRoot, new Dictionary<string, string>(), TimeSpan.FromSeconds(60));
            Assert.True(published == 0, $"{publish} exited {published}:\n{publishOutput}");

            foreach (var file in new[] { "fraud.dll", "hocon/fraud.conf", "wwwroot/index.html" })
            {
                Assert.True(File.Exists(Path.Combine(output.FullName, file)), $"{file} is missing from the published output");
            }

            // ENTRYPOINT ["dotnet", "/app/fraud.dll"] with /app replaced by the publish directory.
            var entryPoint = JsonArray(Assert.Single(Dockerfile(), i => i.Keyword == "ENTRYPOINT").Arguments)
                .Select(a => a.Replace("/app", output.FullName, StringComparison.Ordinal)).ToArray();
            var (help, helpOutput) = await RunAsync(entryPoint[0], [.. entryPoint[1..], "--help"], output.FullName, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
            Assert.True(help == 0, $"fraud --help exited {help}:\n{helpOutput}");

            var environment = new Dictionary<string, string> { ["FRAUD_HTTP"] = $"127.0.0.1:{FreePort()}" };
            var probe = HealthCheck();
            var (before, _) = await RunAsync(probe[0], probe[1..], output.FullName, environment, TimeSpan.FromSeconds(10));
            Assert.NotEqual(0, before);

            // No Kafka is needed for /healthz: an unreachable bootstrap, a memory store, any node port.
            var run = new ProcessStartInfo(entryPoint[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = output.FullName };
            foreach (var argument in entryPoint[1..].Concat(["run", "--bootstrap", "127.0.0.1:1", "--store", "memory", "--node-port", "0"]))
            {
                run.ArgumentList.Add(argument);
            }

            run.Environment["FRAUD_HTTP"] = environment["FRAUD_HTTP"];
            using var service = Process.Start(run)!;
            var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
            service.OutputDataReceived += (_, e) => said.Enqueue(e.Data ?? "");
            service.ErrorDataReceived += (_, e) => said.Enqueue(e.Data ?? "");
            service.BeginOutputReadLine();
            service.BeginErrorReadLine();
            try
            {
                var healthy = await Eventually.ValueAsync(
                    async () => (await RunAsync(probe[0], probe[1..], output.FullName, environment, TimeSpan.FromSeconds(10))).ExitCode,
                    code => code == 0 || service.HasExited,
                    TimeSpan.FromSeconds(30));
                if (service.HasExited)
                {
                    Assert.Fail($"fraud run exited ({service.ExitCode}) before it was healthy:\n{string.Join('\n', said)}");
                }

                Assert.Equal(0, healthy);
            }
            finally
            {
                service.Kill(entireProcessTree: true);
                await service.WaitForExitAsync();
            }
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static string RepositoryRoot
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "FraudActors.sln")))
            {
                root = root.Parent;
            }

            return root?.FullName ?? throw new DirectoryNotFoundException("no FraudActors.sln above " + AppContext.BaseDirectory);
        }
    }

    private static YamlMappingNode Compose()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(RepositoryRoot, "docker", "compose.yml"));
        yaml.Load(reader);
        return (YamlMappingNode)Assert.Single(yaml.Documents).RootNode;
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlMappingNode map
            ? map
            : throw new Xunit.Sdk.XunitException($"compose.yml: no mapping '{key}' at line {node.Start.Line}");

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlScalarNode scalar
            ? scalar.Value ?? ""
            : throw new Xunit.Sdk.XunitException($"compose.yml: no value '{key}' at line {node.Start.Line}");

    private static List<string> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) && child is YamlSequenceNode sequence
            ? sequence.Children.Cast<YamlScalarNode>().Select(s => s.Value ?? "").ToList()
            : throw new Xunit.Sdk.XunitException($"compose.yml: no list '{key}' at line {node.Start.Line}");

    private sealed record Instruction(string Keyword, string Arguments);

    /// <summary>The Dockerfile's instructions, comments dropped and continuation lines joined.</summary>
    private static List<Instruction> Dockerfile()
    {
        var instructions = new List<Instruction>();
        var current = "";
        foreach (var raw in File.ReadAllLines(Path.Combine(RepositoryRoot, "docker", "Dockerfile")))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                current += line[..^1].Trim() + " ";
                continue;
            }

            current += line;
            if (current.Length > 0)
            {
                var space = current.IndexOf(' ', StringComparison.Ordinal);
                instructions.Add(new Instruction(current[..space].ToUpperInvariant(), current[(space + 1)..].Trim()));
            }

            current = "";
        }

        return instructions;
    }

    /// <summary>The <c>dotnet publish …</c> part of the build stage's RUN instruction.</summary>
    private static string PublishCommand()
    {
        var run = Assert.Single(Dockerfile(), i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal)).Arguments;
        return run[run.IndexOf("dotnet publish", StringComparison.Ordinal)..].Split("&&")[0].Trim();
    }

    /// <summary>The HEALTHCHECK's command, exec form.</summary>
    private static string[] HealthCheck()
    {
        var healthCheck = Assert.Single(Dockerfile(), i => i.Keyword == "HEALTHCHECK").Arguments;
        return JsonArray(healthCheck[(healthCheck.IndexOf("CMD ", StringComparison.Ordinal) + 4)..]);
    }

    private static string[] JsonArray(string json) => JsonSerializer.Deserialize<string[]>(json)!;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] arguments, string directory, Dictionary<string, string> environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not exit within {timeout}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"^\s*create (?<topic>[A-Za-z0-9._-]+) (?<partitions>\d+)(?<configs>( --config [a-z.]+=[A-Za-z0-9.,_-]+)*)\s*$", RegexOptions.Multiline)]
    private static partial Regex CreateLine();
}
