using System.Text.Json;

namespace ToDoList.Messaging;

/// <summary>Settings of the message bus; bound from the <c>MessageQueue</c> configuration section.</summary>
public sealed record MessagingOptions
{
    /// <summary>
    /// Which transport, by URL: <c>memory://</c> (default), <c>embedded://</c>, and the brokers'
    /// URLs once their transports are registered. A password in it never reaches a log.
    /// </summary>
    public string Url { get; init; } = "memory://";

    /// <summary>
    /// The broker's HTTP monitoring endpoint, where the diagnostics read connections and queues: NATS
    /// <c>http://host:8222</c>, RabbitMQ's management plugin <c>http://host:15672</c> (with the URL's user). Null: not read.
    /// </summary>
    public string? MonitorUrl { get; init; }

    /// <summary>
    /// A PEM file of the CA that signed the broker's certificate, for a private CA: TLS URLs (<c>tls://</c>, <c>rediss://</c>,
    /// <c>amqps://</c>) trust it besides the system's roots. Certificate validation (chain and host name) is always on. Null: the system's roots.
    /// </summary>
    public string? CaFile { get; init; }

    /// <summary>The CloudEvents <c>source</c> of messages this process publishes. Default <c>/todo</c>.</summary>
    public string Source { get; init; } = "/todo";

    /// <summary>Largest payload accepted at publish. Default 1 MiB.</summary>
    public int MaxPayloadBytes { get; init; } = 1024 * 1024;

    /// <summary>Timeout of a request when the caller names none. Default 5 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How failing messages are tried again and when they become dead letters.</summary>
    public RetryPolicy Retry { get; init; } = new();

    /// <summary>Serializer settings for typed payloads; set a source-generated resolver here.</summary>
    public JsonSerializerOptions Json { get; init; } = new(JsonSerializerDefaults.Web);
}

/// <summary>Retries with exponential backoff and jitter, then the dead letters.</summary>
public sealed record RetryPolicy
{
    /// <summary>Tries in all, the first included, before a message becomes a dead letter. Default 5.</summary>
    public int MaxDeliver { get; init; } = 5;

    /// <summary>Wait before the second try; each later wait doubles. Default 200 ms.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between tries. Default 30 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Fraction of each wait added or removed at random so retries of many messages spread out. Default 0.2.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>
    /// Tells a passing failure of something the handler needs (the database down, a timeout) from a failure of the message.
    /// A transient failure is tried again up to <see cref="MaxTransientDeliver"/> times instead of <see cref="MaxDeliver"/>,
    /// so an outage of minutes delays messages rather than dead-lettering them. Null: every failure counts the same.
    /// </summary>
    public Func<Exception, bool>? IsTransient { get; init; }

    /// <summary>Tries in all when every failure is transient. Default 100: with <see cref="MaxDelay"/> 30 s, about 50 minutes.</summary>
    public int MaxTransientDeliver { get; init; } = 100;

    /// <summary>The wait after try number <paramref name="attempt"/> (1-based) failed; never more than <see cref="MaxDelay"/>.</summary>
    public TimeSpan DelayAfter(int attempt)
    {
        var exponential = InitialDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempt - 1));
        var jittered = Math.Min(exponential, MaxDelay.TotalMilliseconds) * (1 + (Jitter * ((Random.Shared.NextDouble() * 2) - 1)));

        // Capped after the jitter too: MaxDelay is the longest wait, as documented.
        return TimeSpan.FromMilliseconds(Math.Clamp(jittered, 0, MaxDelay.TotalMilliseconds));
    }
}

/// <summary>How a handler subscribes.</summary>
public sealed record SubscribeOptions
{
    /// <summary>Members of the same group share the messages: each goes to one member. Null: every message to this subscriber.</summary>
    public string? QueueGroup { get; init; }

    /// <summary>
    /// At-least-once: the group keeps messages while no member runs and delivers unacknowledged
    /// ones again. Needs <see cref="QueueGroup"/>, which names the durable consumer.
    /// </summary>
    public bool Durable { get; init; }

    /// <summary>Messages handled at once by this subscriber. Default 1, which keeps them in order.</summary>
    public int MaxConcurrency { get; init; } = 1;

    /// <summary>Messages buffered for this subscriber; when full the publisher waits (never a silent drop). Default 1024.</summary>
    public int Capacity { get; init; } = 1024;

    /// <summary>Most messages a batch handler (<see cref="MessageBus.SubscribeBatchAsync(string, BatchHandler, SubscribeOptions?, CancellationToken)"/>) gets at once. Default 256.</summary>
    public int MaxBatch { get; init; } = 256;

    /// <summary>
    /// How long a batch handler's batch, when more than one message but not full, waits for more before it is handled.
    /// Under a steady stream it makes fewer, larger batches (less work per message) at the cost of this much more time to
    /// handle each; a lone message is handled at once. Default zero: what has arrived, at once.
    /// </summary>
    public TimeSpan BatchWait { get; init; }

    /// <summary>How long a durable delivery may go unacknowledged before it is delivered again. Default 30 s.</summary>
    public TimeSpan AckWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Overrides the bus's retry policy for this subscription.</summary>
    public RetryPolicy? Retry { get; init; }
}

/// <summary>How a typed message is published.</summary>
public sealed record PublishOptions
{
    /// <summary>The CloudEvents id; a new unique one when null. It is the idempotency key.</summary>
    public string? Id { get; init; }

    /// <summary>The CloudEvents type; the subject when null.</summary>
    public string? Type { get; init; }

    /// <summary>Extra headers, sent as they are.</summary>
    public MessageHeaders? Headers { get; init; }
}

/// <summary>How a scatter-gather request collects replies.</summary>
public sealed record GatherOptions
{
    /// <summary>How long replies are collected. Default 1 s.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Stop as soon as this many replies came; null waits for the whole window.</summary>
    public int? MaxReplies { get; init; }
}
