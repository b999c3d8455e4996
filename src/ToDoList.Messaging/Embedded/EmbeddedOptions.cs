namespace ToDoList.Messaging.Embedded;

/// <summary>Settings of the in-process transport (<c>embedded://</c>, <c>memory://</c>).</summary>
public sealed record EmbeddedOptions
{
    /// <summary>The queue file <c>embedded://</c> uses when neither its URL nor the application names one: in the working folder.</summary>
    public const string DefaultFileName = "queue.db";

    /// <summary>
    /// The SQLite file durable groups keep their messages in, so that a crash loses nothing a publish
    /// returned for; the transport holds it exclusively while it runs. Null (the default, <c>memory://</c>)
    /// keeps them in memory only.
    /// </summary>
    public string? FilePath { get; init; }

    /// <summary>
    /// Messages a durable group keeps before publishing to it fails with <see cref="QueueFullException"/>
    /// (explicit back-pressure instead of unbounded memory). Default 1,000,000.
    /// </summary>
    public long MaxMessagesPerGroup { get; init; } = 1_000_000;

    /// <summary>How often unacknowledged durable deliveries are checked against their ack wait. Default 1 s.</summary>
    public TimeSpan AckWaitCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The options of <c>embedded://</c>: the file its URL names (<c>embedded:///abs/path/queue.db</c>), else the one
    /// <paramref name="configured"/> names, else <see cref="DefaultFileName"/> in the working folder.
    /// </summary>
    public static EmbeddedOptions ForUrl(TransportUrl url, EmbeddedOptions? configured = null)
    {
        var options = configured ?? new EmbeddedOptions();
        if (!string.IsNullOrEmpty(url.Uri.Host))
        {
            throw new TransportException($"'{url}' names a host; the embedded queue takes a file path after three slashes, as embedded:///var/lib/todo/queue.db, or none (embedded://).");
        }

        var path = Uri.UnescapeDataString(url.Uri.AbsolutePath);
        if (path.Length > 1)
        {
            return options with { FilePath = path };
        }

        return string.IsNullOrWhiteSpace(options.FilePath) ? options with { FilePath = Path.GetFullPath(DefaultFileName) } : options;
    }
}
