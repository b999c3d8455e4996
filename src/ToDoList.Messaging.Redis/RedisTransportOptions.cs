namespace ToDoList.Messaging.Redis;

/// <summary>Settings of the Redis transport beyond its URL; every one has a default that works.</summary>
public sealed record RedisTransportOptions
{
    /// <summary>The client name the server shows (<c>CLIENT LIST</c>). Default <c>todo</c>.</summary>
    public string Name { get; init; } = "todo";

    /// <summary>Prefix of every key and internal channel the transport makes (streams, the group registry, claims). Default <c>todo:</c>.</summary>
    public string KeyPrefix { get; init; } = "todo:";

    /// <summary>
    /// Most entries a durable group's stream holds; a publish beyond it fails with <see cref="QueueFullException"/>
    /// rather than dropping unacknowledged messages. Acknowledged entries are trimmed. Default 1,000,000.
    /// </summary>
    public long MaxStreamLength { get; init; } = 1_000_000;

    /// <summary>
    /// How long the record of which queue-group member takes a pub/sub message is kept (one small key per
    /// message and group): a member more than this far behind the others could take a message again.
    /// Default 30 s.
    /// </summary>
    public TimeSpan QueueGroupClaimTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest wait of a durable member between looks at its stream when no wake-up notice came. Default 1 s.</summary>
    public TimeSpan DurablePollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long connecting may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A PEM file of a private CA that signed the server's certificate (<see cref="MessagingOptions.CaFile"/>), for <c>rediss://</c>.</summary>
    public string? CaFile { get; init; }
}
