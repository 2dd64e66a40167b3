using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace FraudActors.Service.Http;

/// <summary>Every error of the HTTP API is RFC 7807 problem details (<c>application/problem+json</c>).</summary>
public static class Problems
{
    public static IResult Of(int status, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: ReasonPhrases.GetReasonPhrase(status));

    public static IResult BadRequest(string detail) => Of(StatusCodes.Status400BadRequest, detail);

    public static IResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, detail);

    /// <summary>A 400 whose <c>key</c> field names the part of the request at fault, as its detail does too.</summary>
    public static IResult BadField(string key, string detail) =>
        Results.Problem(
            detail: detail,
            statusCode: StatusCodes.Status400BadRequest,
            title: ReasonPhrases.GetReasonPhrase(StatusCodes.Status400BadRequest),
            extensions: new Dictionary<string, object?> { ["key"] = key });

    /// <summary>The node cannot answer yet, or a service it needs (Kafka) did not.</summary>
    public static IResult Unavailable(string detail) => Of(StatusCodes.Status503ServiceUnavailable, detail);

    /// <summary>For responses that left routing with a status and no body: an unknown route (404) or a method the route does not take (405).</summary>
    public static Task ForEmptyResponse(HttpContext context)
    {
        var request = context.Request;
        var status = context.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status404NotFound => $"no resource at {request.Path}",
            StatusCodes.Status405MethodNotAllowed => $"{request.Method} is not allowed on {request.Path}",
            _ => $"{request.Method} {request.Path} failed",
        };
        return Of(status, detail).ExecuteAsync(context);
    }
}
