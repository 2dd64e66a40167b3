using System.CommandLine;
using FraudActors.Service.Configuration;
using FraudActors.Service.Hosting;

namespace FraudActors.Service.Cli;

/// <summary>
/// <c>fraud certs</c>: the job's CA and a PKCS#12 certificate per node for remoting's mutual TLS
/// (the compose file's one-shot init service runs it). The files' password is
/// <c>FRAUD_NODE_TLS_PASSWORD</c>, the one the nodes read them with.
/// </summary>
public static class CertsCommand
{
    public static Command Create()
    {
        var command = new Command("certs", $"Make the files of remoting's mutual TLS: {NodeCertificates.CaFile} and {NodeCertificates.CaKeyFile} (a CA already in --out is used again) and NAME.p12 per node, with the password of {SettingKeys.NodeTlsPassword.EnvironmentVariable}.");
        var options = new CommandOptions(command, SettingKeys.NodeTlsPassword);
        var output = new Option<DirectoryInfo>("--out") { Description = "directory for the files", Required = true };
        var names = new Option<string>("--names") { Description = "the nodes' names, comma-separated (each gets NAME.p12)", Required = true };
        command.Options.Add(output);
        command.Options.Add(names);
        command.SetAction((parse, _) => Guarded.RunAsync(stop =>
        {
            var hocon = options.Hocon(parse);
            var password = hocon.GetString(SettingKeys.NodeTlsPassword.Path, string.Empty) ?? string.Empty;
            if (password.Length == 0)
            {
                throw new ConfigurationException($"{SettingKeys.NodeTlsPassword.EnvironmentVariable}: set it to the password the nodes' certificate files get (the nodes read them with the same variable)");
            }

            var nodes = parse.GetValue(names)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (nodes.Length == 0 || nodes.Any(n => n.IndexOfAny(['/', '\\', '=']) >= 0 || n.StartsWith('.')))
            {
                throw new ConfigurationException($"--names: '{parse.GetValue(names)}' is not a comma-separated list of node names (letters, digits, '-', '_', '.')");
            }

            foreach (var file in NodeCertificates.Write(parse.GetValue(output)!.FullName, nodes, password))
            {
                Console.WriteLine(file);
            }

            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }
}
