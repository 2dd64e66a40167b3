using System.Text;
using FraudActors.Messages.Windows;

namespace FraudActors.Messages.Tests.Windows;

public sealed class WindowResultJsonTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 17, 9, 0, 0, TimeSpan.Zero);

    private static readonly WindowResult Tumbling = new(
        WindowResult.TimeWindowId(WindowKinds.Tumbling, "u901", Start.ToUnixTimeMilliseconds(), Start.AddMinutes(1).ToUnixTimeMilliseconds()),
        WindowKinds.Tumbling,
        "u901",
        Start,
        Start.AddMinutes(1),
        8,
        99.50m,
        new DateTimeOffset(2026, 3, 17, 9, 1, 5, 250, TimeSpan.Zero));

    private static readonly WindowResult Session = new(
        WindowResult.SessionId("u902", Start.ToUnixTimeMilliseconds()),
        WindowKinds.Session,
        "u902",
        Start.AddMilliseconds(123),
        Start.AddSeconds(95).AddMilliseconds(123),
        4,
        12.25m,
        new DateTimeOffset(2026, 3, 17, 9, 3, 0, TimeSpan.Zero));

    [Fact]
    public void A_time_window_has_window_start_and_end_and_round_trips()
    {
        var json = Encoding.UTF8.GetString(WindowResultJson.Serialize(Tumbling));
        Assert.Equal(
            """{"result_id":"tumbling:u901:1773738000000:1773738060000","kind":"tumbling","user_id":"u901","window_start":"2026-03-17T09:00:00.000Z","window_end":"2026-03-17T09:01:00.000Z","count":8,"total_amount":99.5,"emitted_at":"2026-03-17T09:01:05.250Z"}""",
            json);
        Assert.Equal(Tumbling, WindowResultJson.Deserialize(WindowResultJson.Serialize(Tumbling)));
    }

    [Fact]
    public void A_session_has_start_end_and_duration_and_round_trips()
    {
        var json = Encoding.UTF8.GetString(WindowResultJson.Serialize(Session));
        Assert.Equal(
            """{"result_id":"session:u902:1773738000000","kind":"session","user_id":"u902","start":"2026-03-17T09:00:00.123Z","end":"2026-03-17T09:01:35.123Z","duration_s":95,"count":4,"total_amount":12.25,"emitted_at":"2026-03-17T09:03:00.000Z"}""",
            json);
        Assert.Equal(Session, WindowResultJson.Deserialize(WindowResultJson.Serialize(Session)));
    }

    [Theory]
    [InlineData(WindowKinds.Sliding)]
    [InlineData(WindowKinds.Count)]
    public void Sliding_and_count_windows_take_the_time_window_shape(string kind)
    {
        var result = Tumbling with { Kind = kind, ResultId = kind + ":u901:1" };
        var json = Encoding.UTF8.GetString(WindowResultJson.Serialize(result));
        Assert.Contains("\"window_end\":", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\"duration_s\":", json, StringComparison.Ordinal);
        Assert.Equal(result, WindowResultJson.Deserialize(WindowResultJson.Serialize(result)));
    }

    [Theory]
    [InlineData("result_id")]
    [InlineData("user_id")]
    [InlineData("window_start")]
    [InlineData("window_end")]
    [InlineData("count")]
    [InlineData("total_amount")]
    [InlineData("emitted_at")]
    public void A_time_window_without_a_field_is_a_format_error_naming_it(string field)
    {
        var e = Assert.Throws<FormatException>(() => WindowResultJson.Deserialize(Without(Tumbling, field)));
        Assert.Contains($"'{field}'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kind")]
    [InlineData("start")]
    [InlineData("end")]
    [InlineData("duration_s")]
    public void A_session_without_a_field_is_a_format_error_naming_it(string field)
    {
        var e = Assert.Throws<FormatException>(() => WindowResultJson.Deserialize(Without(Session, field)));
        Assert.Contains($"'{field}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_values_are_format_errors_naming_the_field()
    {
        var json = Encoding.UTF8.GetString(WindowResultJson.Serialize(Tumbling));
        Assert.Contains("'count'", Assert.Throws<FormatException>(() => WindowResultJson.Deserialize(Encoding.UTF8.GetBytes(json.Replace("\"count\":8", "\"count\":\"8\"", StringComparison.Ordinal)))).Message, StringComparison.Ordinal);
        Assert.Contains("'window_end'", Assert.Throws<FormatException>(() => WindowResultJson.Deserialize(Encoding.UTF8.GetBytes(json.Replace("2026-03-17T09:01:00.000Z", "soon", StringComparison.Ordinal)))).Message, StringComparison.Ordinal);
        Assert.Contains("'kind'", Assert.Throws<FormatException>(() => WindowResultJson.Deserialize(Encoding.UTF8.GetBytes(json.Replace("\"tumbling\"", "\"hopping\"", StringComparison.Ordinal)))).Message, StringComparison.Ordinal);

        var session = Encoding.UTF8.GetString(WindowResultJson.Serialize(Session));
        Assert.Contains("'duration_s'", Assert.Throws<FormatException>(() => WindowResultJson.Deserialize(Encoding.UTF8.GetBytes(session.Replace("\"duration_s\":95", "\"duration_s\":96", StringComparison.Ordinal)))).Message, StringComparison.Ordinal);

        Assert.Throws<FormatException>(() => WindowResultJson.Deserialize("nope"u8));
        Assert.Throws<FormatException>(() => WindowResultJson.Deserialize("[1]"u8));
    }

    private static byte[] Without(WindowResult result, string field)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(WindowResultJson.Serialize(result))!.AsObject();
        Assert.True(node.Remove(field), $"the serialized form has no '{field}'");
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }
}
