using System.CommandLine;
using FraudActors.Service.Cli;
using FraudActors.Tooling.Cli;

var root = new RootCommand("FraudActors: fraud detection on sharded, persistent Akka.NET actors fed by Kafka.")
{
    DemoCommand.Create(),
    BrokerCommand.Create(),
    ProduceCommand.Create(),
    RunCommand.Create(),
    AlertsCommand.Create(),
    DrillCommand.Create(),
    CheckpointsCommand.Create(),
    RescaleCommand.Create(),
    RulesCommand.Create(),
    CertsCommand.Create(),
    BenchCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync($"fraud: {error.Message}");
    }

    await Console.Error.WriteLineAsync("fraud: see 'fraud --help' or 'fraud <command> --help'");
    return ExitCodes.BadArguments;
}

// Signals are handled by each command (Guarded), which stops cleanly, so the parser's own
// termination handling is off.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
