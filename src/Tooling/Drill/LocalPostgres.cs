using System.Net;
using System.Net.Sockets;

namespace FraudActors.Tooling.Drill;

/// <summary>
/// A throwaway PostgreSQL server for the drill: Debian's installed binaries, a new data
/// directory, a free loopback port, stopped and removed on dispose. As root the server runs as
/// the package's <c>postgres</c> user (PostgreSQL refuses to run as root).
/// </summary>
public sealed class LocalPostgres : IDisposable
{
    private readonly string _bin;
    private readonly string _directory = Directory.CreateTempSubdirectory("fraud-drill-pg.").FullName;
    private readonly bool _asPostgresUser = Environment.UserName == "root";
    private readonly int _port = FreePort();

    private LocalPostgres(string bin) => _bin = bin;

    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres");

    /// <summary>Whether Debian's PostgreSQL server binaries are installed here.</summary>
    public static bool IsInstalled => FindBin() is not null;

    /// <summary>
    /// The store a command runs on when the user did not choose: PostgreSQL where it is installed
    /// (or a connection was given), else SQLite, said on <paramref name="say"/>.
    /// </summary>
    public static string ChooseStore(string store, bool chosen, string? connection, Action<string> say) =>
        ChooseStore(store, chosen, connection, say, IsInstalled);

    public static string ChooseStore(string store, bool chosen, string? connection, Action<string> say, bool installed)
    {
        if (chosen || store != Engine.Checkpoints.JournalStore.Postgres || !string.IsNullOrWhiteSpace(connection) || installed)
        {
            return store;
        }

        say("PostgreSQL is not installed here ('apt-get install postgresql' to use it, or --connection); running on SQLite instead");
        return Engine.Checkpoints.JournalStore.Sqlite;
    }

    public static LocalPostgres Start()
    {
        var bin = FindBin();
        if (bin is null)
        {
            throw new InvalidOperationException(
                "PostgreSQL is not installed here (no /usr/lib/postgresql/*/bin/pg_ctl): install it with 'apt-get install postgresql', give --connection to an empty database, or use --store sqlite");
        }

        var server = new LocalPostgres(bin);
        try
        {
            if (server._asPostgresUser)
            {
                Run("chown", "-R", "postgres", server._directory);
            }

            server.RunPg("initdb", "-D", server.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8");
            server.StartAgain();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stops the server as an operator or a failover would (<c>pg_ctl stop -m fast</c>: open
    /// connections are terminated); its data stays, and <see cref="StartAgain"/> brings it back.
    /// </summary>
    public void Stop() => RunPg("pg_ctl", "-D", Data, "-m", "fast", "-w", "stop");

    /// <summary>Starts the server on its data directory and port, as when it was first started; returns once it accepts connections.</summary>
    public void StartAgain() => RunPg(
        "pg_ctl", "-D", Data, "-l", Path.Combine(_directory, "server.log"), "-w",
        "-o", string.Create(CultureInfo.InvariantCulture, $"-c listen_addresses=127.0.0.1 -c port={_port} -c unix_socket_directories={_directory} -c fsync=off"),
        "start");

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Data))
            {
                RunPg("pg_ctl", "-D", Data, "-m", "fast", "-w", "stop");
            }
        }
        catch (InvalidOperationException)
        {
            // Not running: nothing to stop.
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private string Data => Path.Combine(_directory, "data");

    private void RunPg(string tool, params string[] args)
    {
        var path = Path.Combine(_bin, tool);
        if (_asPostgresUser)
        {
            Run("runuser", ["-u", "postgres", "--", path, .. args]);
        }
        else
        {
            Run(path, args);
        }
    }

    private static void Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result.Trim()}");
        }
    }

    private static string? FindBin() => Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "pg_ctl")) && File.Exists(Path.Combine(d, "initdb")))
            .OrderBy(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            .LastOrDefault()
        : null;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
