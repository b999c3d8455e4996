using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ToDoList.Messaging.Diagnostics;

namespace ToDoList.Messaging;

public sealed partial class MessageBus
{
    /// <summary>
    /// Publishes <paramref name="data"/> as JSON with CloudEvents headers. Returns the event id.
    /// Fire-and-forget commands use this too: nothing waits for a reply.
    /// </summary>
    public async ValueTask<string> PublishAsync<T>(string subject, T data, PublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        var message = CreateMessage(subject, data, options);
        await PublishAsync(message, cancellationToken).ConfigureAwait(false);
        return message.Id!;
    }

    /// <summary>Publishes a message as it is: raw data, and headers only if it has some.</summary>
    public async ValueTask PublishAsync(Message message, CancellationToken cancellationToken = default)
    {
        Subjects.ValidatePublish(message.Subject);
        if (message.Data.Length > Options.MaxPayloadBytes)
        {
            throw new MessageTooLargeException(message.Subject, message.Data.Length, Options.MaxPayloadBytes);
        }

        using var activity = MessagingTelemetry.StartPublish(message, Transport.Name);
        if (Activity.Current is { } current && message.HasHeaders)
        {
            message.Headers[CloudEventHeaders.TraceParent] = current.Id;
            if (current.TraceStateString is { } state)
            {
                message.Headers[CloudEventHeaders.TraceState] = state;
            }
        }

        await Transport.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _published);
        MessagingTelemetry.Published.Add(1);
    }

    /// <summary>Builds the message <see cref="PublishAsync{T}"/> would send, for a caller that needs it first.</summary>
    public Message CreateMessage<T>(string subject, T data, PublishOptions? options = null, string? replyTo = null)
    {
        var typeInfo = (JsonTypeInfo<T>)Options.Json.GetTypeInfo(typeof(T));
        var bytes = JsonSerializer.SerializeToUtf8Bytes(data, typeInfo);
        var headers = options?.Headers?.Clone() ?? new MessageHeaders();
        headers[CloudEventHeaders.SpecVersion] = CloudEventHeaders.SpecVersionValue;
        headers[CloudEventHeaders.Id] = options?.Id ?? Nuid.Next();
        headers[CloudEventHeaders.Source] = Options.Source;
        headers[CloudEventHeaders.Type] = options?.Type ?? subject;
        headers[CloudEventHeaders.Time] = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
        headers[CloudEventHeaders.DataContentType] = "application/json";
        return new Message(subject, bytes, headers, replyTo);
    }
}
