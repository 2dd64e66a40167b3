using System.Globalization;
using FraudActors.Engine.Storage;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Hosting;

/// <summary>
/// One node per SQLite file (docs/design.md, "One cluster per job"): a SQLite store has one
/// writer and no way for two processes to fence each other, so a second node on the same file
/// would only fight the first one for its locks and publish its alerts twice. The node holds an
/// exclusive lock on <c>FILE.lock</c> while it runs (an advisory <c>flock</c> on Linux, which the
/// kernel drops when the process ends, <c>kill -9</c> included: nothing stale to clean up) and
/// writes who it is to <c>FILE.owner</c>; a second node fails to take the lock and stops with exit
/// code 2, naming the file and the process that holds it.
/// </summary>
internal sealed class SqliteOwnership : IDisposable
{
    private readonly FileStream _lock;
    private readonly string _ownerFile;

    private SqliteOwnership(FileStream @lock, string ownerFile)
    {
        _lock = @lock;
        _ownerFile = ownerFile;
    }

    /// <summary>Takes the file of <paramref name="connection"/> for this process; null for an in-memory database.</summary>
    /// <exception cref="ConfigurationException">Another process holds it.</exception>
    public static SqliteOwnership? Take(string connection)
    {
        if (SqliteFaults.DatabaseFile(connection) is not { } file)
        {
            return null;
        }

        var ownerFile = file + ".owner";
        FileStream held;
        try
        {
            held = new FileStream(file + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var owner = File.Exists(ownerFile) ? File.ReadAllText(ownerFile).Trim() : "another process";
            throw new ConfigurationException(
                $"the SQLite file {file} is in use by {owner}: a SQLite store belongs to one process; stop that one first, or run several nodes of a job on --store postgres");
        }
        catch (UnauthorizedAccessException)
        {
            // A directory the node cannot write: the store's own check reports it, with its cause.
            return null;
        }

        File.WriteAllText(ownerFile, string.Create(CultureInfo.InvariantCulture, $"process {Environment.ProcessId} on {Environment.MachineName} (since {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC)\n"));
        return new SqliteOwnership(held, ownerFile);
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_ownerFile);
        }
        catch (IOException)
        {
            // Stale text is overwritten by the next owner.
        }

        _lock.Dispose();
    }
}
