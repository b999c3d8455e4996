namespace ToDoList.Messaging.RabbitMq;

/// <summary>Settings of the RabbitMQ transport beyond its URL; every one has a default that works.</summary>
public sealed record RabbitMqTransportOptions
{
    /// <summary>The connection name the broker shows (management UI, <c>rabbitmqctl list_connections</c>). Default <c>todo</c>.</summary>
    public string Name { get; init; } = "todo";

    /// <summary>The durable topic exchange every message is published to; subjects are its routing keys. Default <c>todo</c>.</summary>
    public string Exchange { get; init; } = "todo";

    /// <summary>How long a publish waits for the broker's confirmation. Default 5 s.</summary>
    public TimeSpan PublishConfirmTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Wait between attempts to recover a lost connection (the client recovers forever). Default 1 s.</summary>
    public TimeSpan RecoveryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a delay queue (the retry mechanism of durable groups) lives unused before the
    /// broker deletes it. Default 10 min.
    /// </summary>
    public TimeSpan DelayQueueIdleExpiry { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A PEM file of a private CA that signed the broker's certificate (<see cref="MessagingOptions.CaFile"/>), for <c>amqps://</c>.</summary>
    public string? CaFile { get; init; }

    /// <summary>The management plugin's endpoint (<c>http://host:15672</c>), asked as the URL's user, where the diagnostics read connections and queues. Null: only this process's durable queues are shown.</summary>
    public string? MonitorUrl { get; init; }
}
