using FraudActors.Engine.Outbox;
using FraudActors.Messages.Windows;

namespace FraudActors.Engine.Windows.Output;

/// <summary>
/// The window results' outbox (docs/design.md, sections 2 and 4): the <c>window_results</c> table
/// (<c>result_id</c>, <c>kind</c>, <c>user_id</c>, <c>topic</c>, <c>payload</c>), sessions to the
/// sessions topic and every other kind to the counts topic, as <see cref="WindowResultJson"/>,
/// keyed by user, the id in the header <c>result_id</c>.
/// </summary>
public static class WindowResultCodec
{
    private static readonly OutboxTableShape Table = new("window_results", "result_id", ["kind"], TopicColumn: true);

    public static OutboxCodec<WindowResult> For(string countsTopic, string sessionsTopic) =>
        new(
            "Window outbox",
            Table,
            [countsTopic, sessionsTopic],
            result => new OutboxRecord(result.ResultId, TopicFor(result.Kind, countsTopic, sessionsTopic), result.UserId, WindowResultJson.Serialize(result), [result.Kind]));

    /// <summary>The topic a result of <paramref name="kind"/> goes to.</summary>
    private static string TopicFor(string kind, string countsTopic, string sessionsTopic) => kind == WindowKinds.Session ? sessionsTopic : countsTopic;
}
