using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RabbitMQ.Client;

namespace ToDoList.Messaging.RabbitMq;

/// <summary>
/// Our <see cref="Message"/> to and from AMQP 0-9-1: the subject is the routing key, CloudEvents
/// attributes are <c>cloudEvents_*</c> application properties (the CloudEvents AMQP binding) and the
/// content type is the message's <c>content_type</c>. A message with no headers goes out with none.
/// </summary>
internal static class AmqpMessages
{
    /// <summary>The CloudEvents AMQP binding's prefix of attribute names.</summary>
    public const string CloudEventsPrefix = "cloudEvents_";

    /// <summary>How many deliveries a durable message had before it was published again (a retry); absent on the first.</summary>
    public const string AttemptsHeader = "x-todo-attempts";

    /// <summary>The subject of a message published again to a queue directly (a retry), whose routing key is then the queue's name.</summary>
    public const string SubjectHeader = "x-todo-subject";

    private const int MaxNameBytes = 255;

    public static BasicProperties ToProperties(Message message)
    {
        var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent, ReplyTo = message.ReplyTo };
        if (!message.HasHeaders)
        {
            return properties;
        }

        Dictionary<string, object?>? headers = null;
        foreach (var (name, value) in message.Headers)
        {
            if (string.Equals(name, CloudEventHeaders.DataContentType, StringComparison.OrdinalIgnoreCase))
            {
                properties.ContentType = value;
                continue;
            }

            headers ??= new Dictionary<string, object?>(message.Headers.Count, StringComparer.Ordinal);
            var amqpName = name.StartsWith(CloudEventHeaders.Prefix, StringComparison.OrdinalIgnoreCase)
                ? CloudEventsPrefix + name[CloudEventHeaders.Prefix.Length..]
                : name;
            headers[amqpName] = value;
        }

        properties.Headers = headers;
        return properties;
    }

    /// <summary>The message a delivery carries, and how many deliveries it had before it was published again (0 at first).</summary>
    public static (Message Message, int PreviousAttempts) ToMessage(string routingKey, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        MessageHeaders? headers = null;
        var subject = routingKey;
        var previousAttempts = 0;
        if (properties.Headers is { Count: > 0 } amqpHeaders)
        {
            foreach (var (name, raw) in amqpHeaders)
            {
                if (name == SubjectHeader)
                {
                    subject = TextOf(raw) ?? subject;
                    continue;
                }

                if (name == AttemptsHeader)
                {
                    previousAttempts = int.TryParse(TextOf(raw), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
                    continue;
                }

                // The broker's own bookkeeping of dead-lettering (retries through delay queues).
                if (name is "x-death" or "x-delivery-count" || name.StartsWith("x-first-death-", StringComparison.Ordinal) || name.StartsWith("x-last-death-", StringComparison.Ordinal))
                {
                    continue;
                }

                if (TextOf(raw) is not { } value)
                {
                    continue;
                }

                headers ??= new MessageHeaders();
                if (name.StartsWith(CloudEventsPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    headers[CloudEventHeaders.Prefix + name[CloudEventsPrefix.Length..]] = value;
                }
                else if (name.StartsWith("cloudEvents:", StringComparison.OrdinalIgnoreCase))
                {
                    headers[CloudEventHeaders.Prefix + name["cloudEvents:".Length..]] = value;
                }
                else
                {
                    headers[name] = value;
                }
            }
        }

        if (properties.ContentType is { Length: > 0 } contentType)
        {
            headers ??= new MessageHeaders();
            headers[CloudEventHeaders.DataContentType] = contentType;
        }

        var replyTo = string.IsNullOrEmpty(properties.ReplyTo) ? null : properties.ReplyTo;
        return (new Message(subject, body, headers, replyTo), previousAttempts);
    }

    /// <summary>A subject pattern as a topic-exchange binding key: <c>*</c> stays, <c>&gt;</c> (one or more tokens) becomes <c>*.#</c>.</summary>
    public static string BindingKeyOf(string pattern)
    {
        if (pattern == ">")
        {
            return "*.#";
        }

        return pattern.EndsWith(".>", StringComparison.Ordinal) ? pattern[..^1] + "*.#" : pattern;
    }

    /// <summary>A routing key the broker takes (at most 255 bytes).</summary>
    public static string RoutingKeyOf(string subject)
    {
        if (Encoding.UTF8.GetByteCount(subject) > MaxNameBytes)
        {
            throw new TransportException($"The subject '{subject}' is longer than the {MaxNameBytes} bytes a RabbitMQ routing key holds.");
        }

        return subject;
    }

    /// <summary>The durable queue of a durable group: the group's name (hashed when the broker would refuse it).</summary>
    public static string DurableQueueOf(string group) => QueueName(group);

    /// <summary>The shared, non-durable queue of a plain queue group: one per group and subject, as NATS queue groups are.</summary>
    public static string GroupQueueOf(string group, string subject) => QueueName($"{group}@{subject}");

    /// <summary>The queue that keeps the subject a durable group follows, as its one message.</summary>
    public static string SubjectQueueOf(string queue) => QueueName($"{queue}.subject");

    /// <summary>The delay queue of a durable queue for one retry delay.</summary>
    public static string DelayQueueOf(string queue, long delayMs) => QueueName($"{queue}.delay.{delayMs.ToString(CultureInfo.InvariantCulture)}");

    private static string QueueName(string name)
    {
        // amq.* names are the broker's own.
        var safe = name.StartsWith("amq.", StringComparison.Ordinal) ? "todo." + name : name;
        if (Encoding.UTF8.GetByteCount(safe) <= MaxNameBytes)
        {
            return safe;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 8));
        return $"{safe[..180]}~{hash}";
    }

    private static string? TextOf(object? raw) => raw switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        AmqpTimestamp timestamp => timestamp.UnixTime.ToString(CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        bool flag => flag ? "true" : "false",
        _ => null,
    };
}
