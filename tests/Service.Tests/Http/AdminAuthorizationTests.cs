using FraudActors.Service.Configuration;
using FraudActors.Service.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FraudActors.Service.Tests.Http;

/// <summary>
/// The admin check itself: only <c>Bearer</c> with exactly the token passes; a prefix, an
/// extension, another scheme or no header is refused (401), and no configured token refuses all
/// (403). The comparison is of SHA-256 hashes with FixedTimeEquals: equal lengths, constant time.
/// </summary>
public sealed class AdminAuthorizationTests
{
    private const string Token = "s3cret-admin-token";

    [Theory]
    [InlineData("Bearer " + Token)]
    [InlineData("bearer " + Token)]
    [InlineData("Bearer  " + Token + " ")]
    public void The_token_passes(string header) => Assert.Null(Check(new AdminToken(Token), header));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(Token)]
    [InlineData("Basic " + Token)]
    [InlineData("Bearer ")]
    [InlineData("Bearer s3cret")]
    [InlineData("Bearer " + Token + "x")]
    [InlineData("Bearer S3CRET-ADMIN-TOKEN")]
    public async Task Anything_else_is_unauthorized(string? header) =>
        Assert.Equal(StatusCodes.Status401Unauthorized, await StatusAsync(Check(new AdminToken(Token), header)));

    [Fact]
    public async Task Without_a_configured_token_every_call_is_forbidden() =>
        Assert.Equal(StatusCodes.Status403Forbidden, await StatusAsync(Check(null, "Bearer " + Token)));

    private static IResult? Check(AdminToken? token, string? header)
    {
        var context = new DefaultHttpContext();
        if (header is not null)
        {
            context.Request.Headers.Authorization = header;
        }

        return new AdminAuthorization(token).Refusal(context.Request);
    }

    private static async Task<int> StatusAsync(IResult? result)
    {
        Assert.NotNull(result);
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Response.Body = new MemoryStream();
        await result.ExecuteAsync(context);
        return context.Response.StatusCode;
    }
}
