using System.Globalization;
using System.Net;
using FraudActors.Service.Configuration;

namespace FraudActors.Service.Http;

/// <summary>The <c>--http</c> address: <c>host:port</c> with an IP address (or <c>localhost</c>, or <c>*</c> for every interface) and a port (0: any free one).</summary>
public static class HttpAddress
{
    public static IPEndPoint Parse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            throw Bad(text, "is not host:port");
        }

        var host = text[..colon].Trim('[', ']');
        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw Bad(text, "has no port number (0-65535) after the colon");
        }

        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "0.0.0.0" => IPAddress.Any,
            _ when IPAddress.TryParse(host, out var ip) => ip,
            _ => throw Bad(text, "names no IP address (use an address such as 127.0.0.1, localhost, or * for every interface)"),
        };
        return new IPEndPoint(address, port);
    }

    private static ConfigurationException Bad(string text, string what) => new($"--http: '{text}' {what}");
}
