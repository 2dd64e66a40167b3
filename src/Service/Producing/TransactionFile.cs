using System.Text;
using System.Text.Json;

namespace FraudActors.Service.Producing;

/// <summary>
/// Replays a JSONL file: each non-blank line is sent as it is, even a malformed one, so that the
/// service's dead-letter handling sees exactly what the file holds. The key is the line's
/// <c>user_id</c> when it has one, as the lab's producer keys by user.
/// </summary>
public static class TransactionFile
{
    public static IEnumerable<(string? Key, byte[] Value)> Read(string path)
    {
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                yield return (KeyOf(line), Encoding.UTF8.GetBytes(line));
            }
        }
    }

    public static string? KeyOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                   && doc.RootElement.TryGetProperty("user_id", out var user)
                   && user.ValueKind == JsonValueKind.String
                ? user.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
