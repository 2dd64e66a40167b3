using System.Security.Cryptography;
using System.Text;
using FraudActors.Service.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FraudActors.Service.Http;

/// <summary>
/// With a read token configured (<c>fraud.http-read-token</c>), every route of the API but
/// <c>/healthz</c> and <c>/readyz</c> needs <c>Authorization: Bearer &lt;token&gt;</c> with the
/// read token or the admin token; admin calls still check for the admin token after this. The
/// dashboard's own files (the page, its script and style: no data) stay open so that it can ask
/// for the token. Without a read token every read is open, as before. Comparisons are of SHA-256
/// hashes with FixedTimeEquals, as <see cref="AdminAuthorization"/> does.
/// </summary>
public sealed class ReadAuthorization(ReadToken? read, AdminToken? admin, IReadOnlySet<string> openPaths)
{
    private const string Scheme = "Bearer ";

    private readonly byte[]? _read = read is null ? null : Hash(read.Value);
    private readonly byte[]? _admin = admin is null ? null : Hash(admin.Value);

    /// <summary>Routes every probe needs to reach without a secret.</summary>
    public static readonly IReadOnlySet<string> Probes = new HashSet<string>(StringComparer.Ordinal) { "/healthz", "/readyz" };

    /// <summary>True when a read token is configured.</summary>
    public bool Required => _read is not null;

    /// <summary>Refuses, before anything else runs, a request without the read or admin token.</summary>
    public void Use(WebApplication app)
    {
        if (!Required)
        {
            return;
        }

        app.Use(async (context, next) =>
        {
            if (Allows(context.Request))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Of(StatusCodes.Status401Unauthorized, "this node needs a read token: Authorization: Bearer <read token> (the node's --read-token or FRAUD_READ_TOKEN), or the admin token")
                .ExecuteAsync(context).ConfigureAwait(false);
        });
    }

    /// <summary>True when <paramref name="request"/> may be answered.</summary>
    public bool Allows(HttpRequest request)
    {
        var path = request.Path.Value ?? "/";
        if (_read is null || Probes.Contains(path) || (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && openPaths.Contains(path))
        {
            return true;
        }

        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var given = Hash(header[Scheme.Length..].Trim());

        // Both compared every time: the time taken does not say which token matched.
        var isRead = CryptographicOperations.FixedTimeEquals(given, _read);
        var isAdmin = _admin is not null && CryptographicOperations.FixedTimeEquals(given, _admin);
        return isRead | isAdmin;
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
