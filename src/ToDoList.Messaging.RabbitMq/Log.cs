using Microsoft.Extensions.Logging;

namespace ToDoList.Messaging.RabbitMq;

internal static partial class Log
{
    [LoggerMessage(200, LogLevel.Information, "RabbitMQ connections {Connection} open to {Url} (broker {ServerVersion}), exchange {Exchange}")]
    public static partial void Connected(ILogger logger, string connection, string url, string serverVersion, string exchange);

    [LoggerMessage(201, LogLevel.Warning, "RabbitMQ connection {Connection} to {Url} lost ({Reason}); recovering. Plain and queue-group messages on their way are lost (at-most-once); unacknowledged durable messages come again")]
    public static partial void Disconnected(ILogger logger, string connection, string url, string reason);

    [LoggerMessage(202, LogLevel.Information, "RabbitMQ connection {Connection} to {Url} recovered, with its queues, bindings and consumers")]
    public static partial void Recovered(ILogger logger, string connection, string url);

    [LoggerMessage(203, LogLevel.Warning, "RabbitMQ connection {Connection} to {Url} could not recover yet; trying again")]
    public static partial void RecoveryFailed(ILogger logger, string connection, string url, Exception exception);

    [LoggerMessage(204, LogLevel.Warning, "RabbitMQ connection {Connection} is blocked by the broker ({Reason}): publishes wait")]
    public static partial void Blocked(ILogger logger, string connection, string reason);

    [LoggerMessage(205, LogLevel.Information, "Durable group {QueueGroup} on {Subject}: queue {Queue}")]
    public static partial void DurableReady(ILogger logger, string queueGroup, string subject, string queue);

    [LoggerMessage(206, LogLevel.Error, "The broker cancelled the consumer of queue {Queue} ({Subject}), e.g. the queue was deleted: making it again. What it held is lost")]
    public static partial void ConsumerCancelled(ILogger logger, string queue, string subject);

    [LoggerMessage(209, LogLevel.Information, "Consuming queue {Queue} ({Subject}) again")]
    public static partial void ConsumerResumed(ILogger logger, string queue, string subject);

    [LoggerMessage(210, LogLevel.Warning, "Could not make queue {Queue} ({Subject}) again yet; trying again")]
    public static partial void ResumeFailed(ILogger logger, string queue, string subject, Exception exception);

    [LoggerMessage(207, LogLevel.Warning, "Could not give back a durable message on {Subject} of queue {Queue}; the broker delivers it again when this channel closes")]
    public static partial void GiveBackFailed(ILogger logger, string subject, string queue, Exception exception);

    [LoggerMessage(208, LogLevel.Warning, "A durable message on {Subject} of queue {Queue} was not acknowledged within {AckWait}: delivered again")]
    public static partial void AckWaitExpired(ILogger logger, string subject, string queue, TimeSpan ackWait);
}
