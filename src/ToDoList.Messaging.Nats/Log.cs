using Microsoft.Extensions.Logging;

namespace ToDoList.Messaging.Nats;

internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "NATS connection {Connection} open to {Url} (server {ServerVersion}, max_payload {MaxPayload} B, JetStream {JetStream})")]
    public static partial void Connected(ILogger logger, string connection, string url, string serverVersion, int maxPayload, bool jetStream);

    [LoggerMessage(101, LogLevel.Warning, "NATS connection {Connection} to {Url} lost; reconnecting. Plain publishes buffered meanwhile go out on reconnect; durable messages come again")]
    public static partial void Disconnected(ILogger logger, string connection, string url);

    [LoggerMessage(108, LogLevel.Error, "NATS connection {Connection} to {Url} lost, reconnecting: plain and queue-group messages on their way to this process are lost (at-most-once). The server cuts off a subscriber that reads too slowly (max_pending, write_deadline), or it restarted")]
    public static partial void SubscriberDisconnected(ILogger logger, string connection, string url);

    [LoggerMessage(102, LogLevel.Information, "NATS connection {Connection} open again to {Url}")]
    public static partial void Reconnected(ILogger logger, string connection, string url);

    [LoggerMessage(103, LogLevel.Warning, "NATS connection {Connection} could not reconnect to {Url}; trying again")]
    public static partial void ReconnectFailed(ILogger logger, string connection, string url);

    [LoggerMessage(104, LogLevel.Error, "NATS client dropped a message on {Subject} of connection {Connection}: its subscriber buffer held {Pending} messages")]
    public static partial void MessageDropped(ILogger logger, string connection, string subject, int pending);

    [LoggerMessage(105, LogLevel.Error, "NATS slow consumer on {Subject} of connection {Connection}: messages may be lost")]
    public static partial void SlowConsumer(ILogger logger, string connection, string subject);

    [LoggerMessage(106, LogLevel.Error, "NATS server error on connection {Connection}: {Error}")]
    public static partial void ServerError(ILogger logger, string connection, string error);

    [LoggerMessage(109, LogLevel.Error, "NATS refused connection {Connection} what its user is not allowed: {Error}. A plain publish so refused is dropped and a subscription gets nothing; a durable publish fails")]
    public static partial void PermissionViolation(ILogger logger, string connection, string error);

    [LoggerMessage(107, LogLevel.Warning, "NATS server {Url} of connection {Connection} is shutting down (lame duck mode); the client moves to another")]
    public static partial void LameDuck(ILogger logger, string connection, string url);

    [LoggerMessage(110, LogLevel.Error, "Durable group {QueueGroup} on {Subject} (stream {Stream}) stopped receiving; making its consumer again")]
    public static partial void ConsumeFailed(ILogger logger, string? queueGroup, string stream, string subject, Exception exception);

    [LoggerMessage(111, LogLevel.Warning, "Could not give back a durable message on {Subject}; it comes again after its ack wait")]
    public static partial void GiveBackFailed(ILogger logger, string subject, Exception exception);

    [LoggerMessage(112, LogLevel.Information, "Durable group {QueueGroup} on {Subject}: stream {Stream}, consumer {Consumer}")]
    public static partial void DurableReady(ILogger logger, string? queueGroup, string subject, string stream, string consumer);

    [LoggerMessage(113, LogLevel.Warning, "Stream advisories on {Connection} ended; subjects streams capture are asked again after {Ttl}")]
    public static partial void AdvisoriesEnded(ILogger logger, string connection, TimeSpan ttl, Exception? exception);

    [LoggerMessage(114, LogLevel.Warning, "Durable group {QueueGroup} (stream {Stream}) did not finish handing back its messages within {Timeout} while stopping; the server delivers them again after the ack wait")]
    public static partial void StopDrainTimedOut(ILogger logger, string? queueGroup, string stream, TimeSpan timeout);
}
