using Microsoft.EntityFrameworkCore;
using ToDoList.Data;
using ToDoList.Items;
using ToDoList.Messaging;
using ToDoList.Messaging.Hosting;

namespace ToDoList.Handlers;

/// <summary>Queue group <c>audit-handler</c>: one audit entry and one structured log line per new-item event, however often it is delivered.</summary>
public sealed partial class AuditHandler(ToDoDbContext db, TimeProvider time, ILogger<AuditHandler> logger) : IMessageHandler<NewItemEvent>
{
    public const string QueueGroup = "audit-handler";

    public async ValueTask HandleAsync(MessageContext<NewItemEvent> context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        var eventId = context.EventId ?? Nuid.Next();
        if (ToDoDbContext.CheckEventId(eventId) is { } badId)
        {
            throw new PoisonMessageException(badId);
        }

        if (await db.AuditEntries.AnyAsync(e => e.EventId == eventId, cancellationToken))
        {
            return;
        }

        var entry = new AuditEntry
        {
            EventId = eventId,
            Subject = ToDoDbContext.Storable(message.Subject, ToDoDbContext.MaxSubjectLength)!,
            Item = ToDoDbContext.Storable(context.Data.Item, NewItemRules.MaxLength),
            Source = ToDoDbContext.Storable(message.HasHeaders ? message.Headers[CloudEventHeaders.Source] : null, ToDoDbContext.MaxSourceLength),
            ReceivedAt = time.GetUtcNow(),
        };
        db.AuditEntries.Add(entry);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (ToDoDbContext.IsDuplicate(e))
        {
            return;
        }

        LogAudit(logger, eventId, message.Subject, entry.Item, entry.Source);
    }

    [LoggerMessage(200, LogLevel.Information, "AUDIT: event {EventId} on {Subject}: new item {Item} from {Source}")]
    private static partial void LogAudit(ILogger logger, string eventId, string subject, string? item, string? source);
}
