using FraudActors.Service.Configuration;
using FraudActors.Service.Http;
using Microsoft.AspNetCore.Http;

namespace FraudActors.Service.Tests.Http;

/// <summary>
/// The read check itself: with a read token, the read token or the admin token passes, anything
/// else is refused; the probes pass without one, and so do GETs of the dashboard's own files (not
/// other methods on them); without a read token everything passes.
/// </summary>
public sealed class ReadAuthorizationTests
{
    private const string Read = "r3ad-token";
    private const string Admin = "adm1n-token";
    private static readonly HashSet<string> Dashboard = new(StringComparer.Ordinal) { "/", "/index.html", "/app.js" };

    [Theory]
    [InlineData("/overview", "Bearer " + Read)]
    [InlineData("/overview", "bearer  " + Read + " ")]
    [InlineData("/users/u1", "Bearer " + Admin)]
    [InlineData("/metrics", "Bearer " + Read)]
    [InlineData("/healthz", null)]
    [InlineData("/readyz", "Bearer nonsense")]
    [InlineData("/", null)]
    [InlineData("/app.js", null)]
    public void Passes(string path, string? header) => Assert.True(Allows(new ReadToken(Read), "GET", path, header));

    [Theory]
    [InlineData("/overview", null)]
    [InlineData("/overview", "")]
    [InlineData("/overview", Read)]
    [InlineData("/overview", "Basic " + Read)]
    [InlineData("/overview", "Bearer ")]
    [InlineData("/overview", "Bearer " + Read + "x")]
    [InlineData("/alerts", "Bearer R3AD-TOKEN")]
    [InlineData("/jobs", "Bearer adm1n")]
    [InlineData("/style.css", null)]
    [InlineData("/healthz/extra", null)]
    public void Refuses(string path, string? header) => Assert.False(Allows(new ReadToken(Read), "GET", path, header));

    [Fact]
    public void A_dashboard_path_with_another_method_needs_the_token() =>
        Assert.False(Allows(new ReadToken(Read), "POST", "/", null));

    [Fact]
    public void Without_a_read_token_every_read_passes() =>
        Assert.True(Allows(null, "GET", "/users/u1", null));

    private static bool Allows(ReadToken? read, string method, string path, string? header)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        if (header is not null)
        {
            context.Request.Headers.Authorization = header;
        }

        return new ReadAuthorization(read, new AdminToken(Admin), Dashboard).Allows(context.Request);
    }
}
