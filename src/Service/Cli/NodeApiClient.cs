using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Cli;

/// <summary>A node's HTTP API answered with a status a command cannot go on from (not a 400 or 401: those are the caller's, exit 2).</summary>
public sealed class NodeApiException(string message) : Exception(message);

/// <summary>
/// A command's client of a node's HTTP API (<c>--http URL</c>, <c>--token</c>). A 400 or 401 is
/// a bad argument (a <see cref="ConfigurationException"/>: exit 2, the problem's detail said);
/// another error status, or no answer, is a failure at run time (exit 1).
/// </summary>
public sealed class NodeApiClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http;

    public NodeApiClient(Uri address, string? token)
    {
        _http = new HttpClient { BaseAddress = address, Timeout = RequestTimeout };
        if (!string.IsNullOrWhiteSpace(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Trim());
        }
    }

    /// <summary><c>http://host:port[/]</c>, <c>https://…</c> or <c>host:port</c> (taken as http): the node's address as <c>--http</c> names it.</summary>
    public static Uri ParseAddress(string text)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw new ConfigurationException($"--http: '{text}' is not the address of a node's HTTP API (http://host:port)");
        }

        return new Uri(uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
    }

    /// <summary>Sends the request and returns the answer's body; an error status throws as described on the class.</summary>
    public async Task<string> SendAsync(HttpMethod method, string path, byte[]? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new NodeApiException($"{method} {new Uri(_http.BaseAddress!, path)}: no answer: {e.Message}");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }

            var detail = Detail(text);
            throw response.StatusCode switch
            {
                HttpStatusCode.BadRequest => new ConfigurationException(detail),
                HttpStatusCode.Unauthorized => new ConfigurationException($"--token: the node refuses it: {detail}"),
                _ => new NodeApiException($"{method} {new Uri(_http.BaseAddress!, path)}: {(int)response.StatusCode} {response.ReasonPhrase}: {detail}"),
            };
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>A problem's detail, or the body as it came.</summary>
    private static string Detail(string body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
            {
                return detail.GetString()!;
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 500 ? body[..500] : body;
    }
}
