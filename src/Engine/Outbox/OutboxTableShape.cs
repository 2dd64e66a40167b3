namespace FraudActors.Engine.Outbox;

/// <summary>
/// An outbox table's name and columns: <c>seq</c>, the unique <paramref name="IdColumn"/>, the
/// further text <paramref name="Columns"/>, <c>user_id</c> (the records' key), <c>topic</c> when
/// <paramref name="TopicColumn"/>, <c>payload</c>, <c>created_at</c> and <c>published</c>.
/// Readers outside the service (the drill, tests, operators) know these tables by these names.
/// </summary>
/// <param name="Columns">Text columns after the id, for readers of the table (e.g. a window result's <c>kind</c>).</param>
/// <param name="TopicColumn">Each row keeps its topic; without the column every row goes to the codec's one topic.</param>
public sealed record OutboxTableShape(string Name, string IdColumn, IReadOnlyList<string> Columns, bool TopicColumn);
