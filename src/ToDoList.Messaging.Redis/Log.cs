using Microsoft.Extensions.Logging;

namespace ToDoList.Messaging.Redis;

internal static partial class Log
{
    [LoggerMessage(200, LogLevel.Information, "Redis connection {Connection} open to {Url}")]
    public static partial void Connected(ILogger logger, string connection, string url);

    [LoggerMessage(201, LogLevel.Warning, "Redis connection {Connection} to {Url} lost ({FailureType}); reconnecting. Pub/sub messages meanwhile are lost (at-most-once); durable messages wait in their streams")]
    public static partial void Disconnected(ILogger logger, string connection, string url, string failureType);

    [LoggerMessage(202, LogLevel.Information, "Redis connection {Connection} open again to {Url}")]
    public static partial void Reconnected(ILogger logger, string connection, string url);

    [LoggerMessage(210, LogLevel.Error, "Durable group {QueueGroup} on {Subject} (stream {Stream}) could not read; trying again")]
    public static partial void ConsumeFailed(ILogger logger, string? queueGroup, string subject, string stream, Exception exception);

    [LoggerMessage(211, LogLevel.Warning, "Could not give back a durable message on {Subject}; it comes again after its ack wait")]
    public static partial void GiveBackFailed(ILogger logger, string subject, Exception exception);

    [LoggerMessage(212, LogLevel.Information, "Durable group {QueueGroup} on {Subject}: stream {Stream}")]
    public static partial void DurableReady(ILogger logger, string? queueGroup, string subject, string stream);

    [LoggerMessage(213, LogLevel.Error, "Queue group {QueueGroup} on {Subject}: this member could not ask who takes a message, or renew its membership")]
    public static partial void ClaimFailed(ILogger logger, string? queueGroup, string subject, Exception exception);

    [LoggerMessage(214, LogLevel.Warning, "Could not trim stream {Stream}; it is tried again later")]
    public static partial void TrimFailed(ILogger logger, string stream, Exception exception);
}
