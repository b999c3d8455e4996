using NATS.Client.Core;

namespace ToDoList.Messaging.Nats;

/// <summary>Our <see cref="Message"/> to and from NATS: subject, headers, data and reply subject map one to one.</summary>
internal static class NatsMessages
{
    /// <summary>
    /// The reply subject of a message published through JetStream, whose NATS reply subject carries
    /// the stream's acknowledgement instead. Always present on such a message (empty when there is
    /// none), so a receiver knows to ignore the NATS reply subject.
    /// </summary>
    public const string ReplyToHeader = "reply-to";

    public static readonly NatsRawSerializer<ReadOnlyMemory<byte>> Raw = NatsRawSerializer<ReadOnlyMemory<byte>>.Default;

    /// <summary>The message's headers as NATS headers; null when it has none, so a raw payload stays a plain NATS message.</summary>
    public static NatsHeaders? ToNatsHeaders(Message message)
    {
        if (!message.HasHeaders)
        {
            return null;
        }

        var headers = new NatsHeaders();
        foreach (var (name, value) in message.Headers)
        {
            // NATS headers are lines: a line break would end the header early.
            if (value.AsSpan().ContainsAny('\r', '\n'))
            {
                throw new ArgumentException($"Header '{name}' of the message on '{message.Subject}' contains a line break, which NATS headers cannot carry.", nameof(message));
            }

            headers[name] = value;
        }

        return headers;
    }

    public static Message ToMessage(string subject, string? natsReplyTo, NatsHeaders? natsHeaders, ReadOnlyMemory<byte> data, bool noResponders)
    {
        MessageHeaders? headers = null;
        var replyTo = natsReplyTo;
        if (natsHeaders is { Count: > 0 })
        {
            headers = new MessageHeaders();
            foreach (var (name, values) in natsHeaders)
            {
                var value = values.Count > 0 ? values[^1] ?? "" : "";
                if (string.Equals(name, ReplyToHeader, StringComparison.OrdinalIgnoreCase))
                {
                    replyTo = value.Length > 0 ? value : null;
                    continue;
                }

                headers[name] = value;
            }
        }

        if (noResponders)
        {
            headers ??= new MessageHeaders();
            headers[MessagingHeaders.Status] = MessagingHeaders.NoRespondersStatus;
        }

        return new Message(subject, data, headers is { Count: > 0 } ? headers : null, replyTo);
    }
}
