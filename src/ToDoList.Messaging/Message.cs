namespace ToDoList.Messaging;

/// <summary>
/// A message as it crosses a transport: a subject, headers (CloudEvents attributes among them) and raw data.
/// A payload published by any client with no headers at all is still a valid message.
/// </summary>
public sealed class Message
{
    private MessageHeaders? _headers;

    public Message(string subject, ReadOnlyMemory<byte> data, MessageHeaders? headers = null, string? replyTo = null)
    {
        Subject = subject;
        Data = data;
        _headers = headers;
        ReplyTo = replyTo;
    }

    public string Subject { get; }

    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Where a reply goes (request-response, scatter-gather); null for events.</summary>
    public string? ReplyTo { get; }

    public MessageHeaders Headers => _headers ??= new MessageHeaders();

    public bool HasHeaders => _headers is { Count: > 0 };

    /// <summary>The CloudEvents id: the idempotency key. Null for a raw payload.</summary>
    public string? Id => _headers?[CloudEventHeaders.Id];

    /// <summary>The CloudEvents type, null for a raw payload.</summary>
    public string? Type => _headers?[CloudEventHeaders.Type];

    public Message WithSubject(string subject, string? replyTo = null) => new(subject, Data, _headers?.Clone(), replyTo);

    public override string ToString() => $"{Subject} ({Data.Length} B)";
}
