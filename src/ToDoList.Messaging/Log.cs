using Microsoft.Extensions.Logging;

namespace ToDoList.Messaging;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "Handler for {Subject} failed on message {MessageId}, try {Attempt} of {MaxDeliver}; trying again in {DelayMs:0} ms")]
    public static partial void HandlerFailed(ILogger logger, string subject, string? messageId, int attempt, int maxDeliver, double delayMs, Exception exception);

    [LoggerMessage(2, LogLevel.Error, "Message {MessageId} on {Subject} moved to the dead letters after {Attempt} tries in group {QueueGroup}")]
    public static partial void DeadLettered(ILogger logger, string subject, string? messageId, int attempt, string? queueGroup, Exception exception);

    [LoggerMessage(3, LogLevel.Error, "Could not publish the dead letter of message {MessageId} on {Subject}; it stays with the transport")]
    public static partial void DeadLetterPublishFailed(ILogger logger, string subject, string? messageId, Exception exception);

    [LoggerMessage(4, LogLevel.Error, "Handler of dead letter {MessageId} on {Subject} failed; it is not dead-lettered again")]
    public static partial void DeadLetterHandlerFailed(ILogger logger, string subject, string? messageId, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "Could not {Settlement} message {MessageId} on {Subject}; the transport will deliver it again")]
    public static partial void SettleFailed(ILogger logger, string settlement, string subject, string? messageId, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "A batch of {Count} messages on {Subject} failed; each is tried alone")]
    public static partial void BatchFailed(ILogger logger, string subject, int count, Exception exception);
}
