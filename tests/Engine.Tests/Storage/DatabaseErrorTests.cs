using System.Net.Sockets;
using FraudActors.Engine.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FraudActors.Engine.Tests.Storage;

public sealed class DatabaseErrorTests
{
    [Fact]
    public void A_PostgreSQL_failure_deep_in_a_plugin_s_exceptions_is_named_with_its_root_cause()
    {
        // As Akka.Persistence.Sql reported a write to a server that had just stopped.
        var broken = new NpgsqlException("Exception while writing to stream", new IOException("Unable to write data to the transport connection: Broken pipe.", new SocketException((int)SocketError.Shutdown)));
        var thrown = new AggregateException("Exception thrown when rolling back database transaction", new ObjectDisposedException("NpgsqlTransaction", broken));

        var described = DatabaseError.Describe(thrown);

        Assert.StartsWith("PostgreSQL: Exception while writing to stream (", described, StringComparison.Ordinal);
        Assert.True(DatabaseError.IsDatabase(thrown));
    }

    [Fact]
    public void The_driver_s_message_names_the_server_never_the_connection_string()
    {
        var builder = new NpgsqlConnectionStringBuilder("Host=127.0.0.1;Port=1;Username=fraud;Password=very-secret;Database=fraud;Timeout=2");
        using var connection = new NpgsqlConnection(builder.ConnectionString);
        var e = Assert.ThrowsAny<NpgsqlException>(connection.Open);

        var described = DatabaseError.Describe(new InvalidOperationException("checkpoint not written", e));

        Assert.StartsWith("PostgreSQL: ", described, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1", described, StringComparison.Ordinal);
        Assert.DoesNotContain("very-secret", described, StringComparison.Ordinal);
    }

    [Fact]
    public void SQLite_and_other_failures_are_named_as_what_they_are()
    {
        Assert.StartsWith("SQLite: ", DatabaseError.Describe(new SqliteException("database or disk is full", 13)), StringComparison.Ordinal);
        Assert.Equal("Local: Broker transport failure", DatabaseError.Describe(new InvalidOperationException("Local: Broker transport failure")));
        Assert.False(DatabaseError.IsDatabase(new TimeoutException("no answer")));
    }
}
