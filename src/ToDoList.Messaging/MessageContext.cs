using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ToDoList.Messaging;

/// <summary>A message being handled, with the means to reply to it.</summary>
public class MessageContext
{
    internal MessageContext(MessageBus bus, Message message, int attempt, string? queueGroup)
    {
        Bus = bus;
        Message = message;
        Attempt = attempt;
        QueueGroup = queueGroup;
    }

    public Message Message { get; }

    /// <summary>1 on the first try; higher when the message is tried again.</summary>
    public int Attempt { get; }

    public string? QueueGroup { get; }

    public MessageBus Bus { get; }

    /// <summary>The event id, or null when the publisher sent a raw payload.</summary>
    public string? EventId => Message.Id;

    /// <summary>Reads the data as JSON; a payload that is not a <typeparamref name="T"/> is a poison message.</summary>
    public T Deserialize<T>()
    {
        try
        {
            var typeInfo = (JsonTypeInfo<T>)Bus.Options.Json.GetTypeInfo(typeof(T));
            return JsonSerializer.Deserialize(Message.Data.Span, typeInfo)
                ?? throw new PoisonMessageException($"The data on '{Message.Subject}' is null.");
        }
        catch (JsonException e)
        {
            throw new PoisonMessageException($"The data on '{Message.Subject}' is not a valid {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>Replies when the sender asked for a reply; does nothing otherwise.</summary>
    public ValueTask ReplyAsync<T>(T data, CancellationToken cancellationToken = default) =>
        Message.ReplyTo is { } replyTo
            ? Bus.PublishAsync(replyTo, data, new PublishOptions { Type = Message.Type is null ? null : Message.Type + ".reply" }, cancellationToken).AsValueTaskVoid()
            : ValueTask.CompletedTask;

    /// <summary>Replies with raw data, sent as it is, when the sender asked for a reply.</summary>
    public ValueTask ReplyRawAsync(ReadOnlyMemory<byte> data, MessageHeaders? headers = null, CancellationToken cancellationToken = default) =>
        Message.ReplyTo is { } replyTo
            ? Bus.PublishAsync(new Message(replyTo, data, headers), cancellationToken)
            : ValueTask.CompletedTask;
}

/// <summary>A message whose JSON data was read as a <typeparamref name="T"/>.</summary>
public sealed class MessageContext<T> : MessageContext
{
    internal MessageContext(MessageContext context, T data)
        : base(context.Bus, context.Message, context.Attempt, context.QueueGroup) => Data = data;

    public T Data { get; }
}

internal static class ValueTaskExtensions
{
    public static async ValueTask AsValueTaskVoid<T>(this ValueTask<T> task) => await task.ConfigureAwait(false);
}
