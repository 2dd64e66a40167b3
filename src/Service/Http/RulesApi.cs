using Confluent.Kafka;
using FraudActors.Engine.Rules;
using FraudActors.Messages.Rules;
using FraudActors.Service.Hosting;
using FraudActors.Service.Rules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace FraudActors.Service.Http;

/// <summary>
/// The rules' routes (docs/design.md, "Dynamic rules"): <c>GET /rules</c> shows the node's
/// rules, desired and in force per partition; <c>PUT /rules/{name}</c> (admin) checks a record
/// value as the configuration is checked and publishes it, normalized, to the rules topic;
/// <c>DELETE /rules/{name}</c> (admin) publishes a tombstone, returning the rule to its
/// configured settings. A change takes effect through the topic, as every node reads it.
/// </summary>
public static class RulesApi
{
    /// <summary>A rule's settings are a few fields: anything larger is not one.</summary>
    private const int MaxValueBytes = 64 * 1024;

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(30);

    public static void Map(WebApplication app, AdminAuthorization admin)
    {
        app.MapGet("/rules", ([FromServices] NodeLifecycle node) =>
            node.Rules is { } board ? Results.Json(RulesView.Of(board)) : NotStarted());

        app.MapPut("/rules/{name}", async (string name, HttpRequest request, [FromServices] NodeLifecycle node, CancellationToken ct) =>
        {
            if (admin.Refusal(request) is { } refusal)
            {
                return refusal;
            }

            if (node.Rules is not { } board || node.RulesPublisher is not { } publisher)
            {
                return NotStarted();
            }

            var value = await ReadValueAsync(request, ct).ConfigureAwait(false);
            if (value is null)
            {
                return Problems.BadField("value", $"value: the body is over {MaxValueBytes} bytes; a rule record is {{\"rule\", \"enabled\", \"params\"}}");
            }

            RuleSpec spec;
            try
            {
                spec = RuleRecord.Parse(name, value, 0, board.Configured);
            }
            catch (RuleRecordException e)
            {
                return Refused(e);
            }

            return await PublishAsync(publisher, spec, RuleRecord.Serialize(spec), ct).ConfigureAwait(false);
        });

        app.MapDelete("/rules/{name}", async (string name, HttpRequest request, [FromServices] NodeLifecycle node, CancellationToken ct) =>
        {
            if (admin.Refusal(request) is { } refusal)
            {
                return refusal;
            }

            if (node.Rules is not { } board || node.RulesPublisher is not { } publisher)
            {
                return NotStarted();
            }

            RuleSpec configured;
            try
            {
                configured = RuleRecord.Parse(name, null, 0, board.Configured);
            }
            catch (RuleRecordException e)
            {
                return Refused(e);
            }

            return await PublishAsync(publisher, configured, null, ct).ConfigureAwait(false);
        });
    }

    /// <summary>Publishes and answers 202 with where the record landed: the topic, not this call, changes the rules.</summary>
    private static async Task<IResult> PublishAsync(RulesPublisher publisher, RuleSpec spec, byte[]? value, CancellationToken ct)
    {
        try
        {
            var published = await publisher.PublishAsync(spec.Name, value, ct).WaitAsync(PublishTimeout, ct).ConfigureAwait(false);
            return Results.Json(RulePublishedView.Of(spec, published), statusCode: StatusCodes.Status202Accepted);
        }
        catch (RulesTopicMissingException e)
        {
            return Problems.Unavailable(e.Message);
        }
        catch (KafkaException e)
        {
            return Problems.Unavailable($"the rules topic did not take the record: {e.Error.Reason}");
        }
        catch (TimeoutException)
        {
            return Problems.Unavailable($"the rules topic did not take the record within {PublishTimeout.TotalSeconds:0} s; is Kafka reachable?");
        }
    }

    private static IResult Refused(RuleRecordException e) => Problems.BadField(e.Key, RuleRefusal.Describe(e));

    private static IResult NotStarted() => Problems.Unavailable("the node has not started: its rules are not read yet");

    /// <summary>The body, or null when it is larger than any rule record.</summary>
    private static async Task<byte[]?> ReadValueAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxValueBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
