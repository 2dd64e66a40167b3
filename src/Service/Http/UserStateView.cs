using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FraudActors.Engine.Time;
using FraudActors.Engine.Users;
using FraudActors.Engine.Windows;

namespace FraudActors.Service.Http;

/// <summary>
/// A user's live state as <c>GET /users/{id}</c> shows it: offsets, every rule's state by name,
/// timers, open windows and the profile. Times are ISO-8601 UTC.
/// </summary>
public static class UserStateView
{
    private static readonly JsonSerializerOptions RuleStateJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static JsonObject Render(UserState state, int partition) => new()
    {
        ["user_id"] = state.UserId,
        ["partition"] = partition,
        ["last_applied_offset"] = state.LastAppliedOffset,
        ["transaction_count"] = state.TransactionCount,
        ["rules"] = Rules(state),
        ["timers"] = new JsonArray([.. state.Timers.All.Select(t => (JsonNode)new JsonObject
        {
            ["at"] = Time(t.AtMs),
            ["domain"] = t.Domain == TimeDomain.EventTime ? "event-time" : "processing-time",
            ["owner"] = t.Owner,
        })]),
        ["windows"] = Windows(state.Windows),
        ["profile"] = Profile(state.Profile),
    };

    private static JsonObject Rules(UserState state)
    {
        var rules = new JsonObject();
        foreach (var (name, ruleState) in state.RuleStates)
        {
            // Rule states are small immutable values (timestamps, counts, flags): shown as they are.
            var node = JsonSerializer.SerializeToNode(ruleState, ruleState.GetType(), RuleStateJson);
            rules[name] = node is JsonObject o ? o : new JsonObject { ["value"] = node };
        }

        return rules;
    }

    private static JsonObject Windows(WindowState windows) => new()
    {
        ["tumbling"] = TimeWindows(windows.Tumbling),
        ["sliding"] = TimeWindows(windows.Sliding),
        ["sessions"] = new JsonArray([.. windows.Sessions.Select(s => (JsonNode)new JsonObject
        {
            ["start"] = Time(s.FirstMs),
            ["end"] = Time(s.LastMs),
            ["count"] = s.Count,
            ["total"] = s.Total,
        })]),
        ["count"] = new JsonObject { ["count"] = windows.Counting.Count, ["total"] = windows.Counting.Total },
    };

    private static JsonArray TimeWindows(IEnumerable<KeyValuePair<TimeWindow, WindowAggregate>> windows) =>
        new([.. windows.Select(w => (JsonNode)new JsonObject
        {
            ["start"] = Time(w.Key.StartMs),
            ["end"] = Time(w.Key.EndMs),
            ["count"] = w.Value.Count,
            ["total"] = w.Value.Total,
        })]);

    private static JsonObject Profile(UserProfile profile)
    {
        var merchants = new JsonObject();
        if (profile.MerchantCounts.Entries is { } entries)
        {
            foreach (var (merchant, entry) in entries)
            {
                merchants[merchant] = entry.Value;
            }
        }

        var amounts = profile.Amounts.HasValue ? profile.Amounts.Value : default;
        return new JsonObject
        {
            ["merchants"] = merchants,
            ["amounts"] = new JsonObject
            {
                ["count"] = amounts.Count,
                ["sum"] = amounts.Sum,
                ["min"] = profile.Amounts.HasValue ? amounts.Min : null,
                ["max"] = profile.Amounts.HasValue ? amounts.Max : null,
                ["avg"] = profile.Amounts.HasValue ? amounts.Average : null,
            },
            ["last_seen"] = profile.LastSeenMs.HasValue ? Time(profile.LastSeenMs.Value) : null,
        };
    }

    private static string Time(long ms) =>
        ms >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)
            : ms.ToString(CultureInfo.InvariantCulture);
}
