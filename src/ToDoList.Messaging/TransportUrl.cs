namespace ToDoList.Messaging;

/// <summary>A transport URL, parsed once; its <see cref="ToString"/> hides the password.</summary>
public sealed record TransportUrl
{
    private TransportUrl(string original, Uri uri)
    {
        Original = original;
        Uri = uri;
    }

    /// <summary>The URL as configured, password included: give it to the client library, never to a log.</summary>
    public string Original { get; }

    public Uri Uri { get; }

    public string Scheme => Uri.Scheme;

    public static TransportUrl Parse(string url)
    {
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri))
        {
            throw new TransportException($"MessageQueue:Url '{Redact(url)}' is not a URL such as embedded://, nats://host:4222, redis://host:6379 or amqp://user:pass@host:5672/.");
        }

        return new TransportUrl(url.Trim(), uri);
    }

    /// <summary>The URL with any password replaced by ***, safe for logs, pages and errors.</summary>
    public static string Redact(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return "";
        }

        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var at = url.LastIndexOf('@');
        if (schemeEnd < 0 || at < schemeEnd)
        {
            return url;
        }

        var userInfo = url[(schemeEnd + 3)..at];
        var colon = userInfo.IndexOf(':');
        var redacted = colon < 0 ? "***" : userInfo[..colon] + ":***";
        return url[..(schemeEnd + 3)] + redacted + url[at..];
    }

    public override string ToString() => Redact(Original);
}
