using System.Security.Cryptography;
using System.Text;
using FraudActors.Service.Configuration;
using Microsoft.AspNetCore.Http;

namespace FraudActors.Service.Http;

/// <summary>
/// Admin calls need <c>Authorization: Bearer &lt;token&gt;</c> with the configured token; none
/// configured refuses them all. The comparison takes the same time whatever the guess.
/// </summary>
public sealed class AdminAuthorization(AdminToken? token)
{
    private readonly byte[]? _expected = token is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token.Value));

    /// <summary>Null when the request may go on; otherwise the refusal to send.</summary>
    public IResult? Refusal(HttpRequest request)
    {
        if (_expected is null)
        {
            return Problems.Of(StatusCodes.Status403Forbidden, "admin calls are disabled: no admin token configured (--admin-token or FRAUD_ADMIN_TOKEN)");
        }

        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Unauthorized("an admin call needs the header Authorization: Bearer <token>");
        }

        // Hashing both sides first gives equal lengths, so FixedTimeEquals leaks nothing about the token's length either.
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, _expected) ? null : Unauthorized("the bearer token is not the admin token");
    }

    private static IResult Unauthorized(string detail) => new WithHeader(Problems.Of(StatusCodes.Status401Unauthorized, detail), "WWW-Authenticate", "Bearer");

    private sealed class WithHeader(IResult inner, string name, string value) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[name] = value;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
