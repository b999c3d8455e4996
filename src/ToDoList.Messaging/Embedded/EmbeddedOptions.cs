namespace ToDoList.Messaging.Embedded;

/// <summary>Settings of the in-process transport (<c>embedded://</c>, <c>memory://</c>).</summary>
public sealed record EmbeddedOptions
{
    /// <summary>
    /// Messages a durable group keeps before publishing to it fails with <see cref="QueueFullException"/>
    /// (explicit back-pressure instead of unbounded memory). Default 1,000,000.
    /// </summary>
    public long MaxMessagesPerGroup { get; init; } = 1_000_000;

    /// <summary>How often unacknowledged durable deliveries are checked against their ack wait. Default 1 s.</summary>
    public TimeSpan AckWaitCheckInterval { get; init; } = TimeSpan.FromSeconds(1);
}
