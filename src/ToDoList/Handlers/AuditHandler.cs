using ToDoList.Data;
using ToDoList.Items;
using ToDoList.Messaging;
using ToDoList.Messaging.Hosting;

namespace ToDoList.Handlers;

/// <summary>
/// Queue group <c>audit-handler</c>: one audit entry and one structured log line per new-item event, however often it is
/// delivered. What has arrived together is recorded with one statement (events audited already are skipped by the database).
/// </summary>
public sealed partial class AuditHandler(ToDoDbContext db, TimeProvider time, ILogger<AuditHandler> logger) : IBatchMessageHandler<NewItemEvent>
{
    public const string QueueGroup = "audit-handler";

    public async ValueTask HandleAsync(IReadOnlyList<MessageContext<NewItemEvent>> batch, CancellationToken cancellationToken)
    {
        var entries = new Dictionary<string, AuditEntry>(batch.Count);
        foreach (var context in batch)
        {
            var message = context.Message;
            var eventId = context.EventId ?? Nuid.Next();
            if (ToDoDbContext.CheckEventId(eventId) is { } badId)
            {
                throw new PoisonMessageException(badId);
            }

            entries.TryAdd(eventId, new AuditEntry
            {
                EventId = eventId,
                Subject = ToDoDbContext.Storable(message.Subject, ToDoDbContext.MaxSubjectLength)!,
                Item = ToDoDbContext.Storable(context.Data.Item, NewItemRules.MaxLength),
                Source = ToDoDbContext.Storable(message.HasHeaders ? message.Headers[CloudEventHeaders.Source] : null, ToDoDbContext.MaxSourceLength),
                ReceivedAt = time.GetUtcNow(),
            });
        }

        foreach (var entry in await db.StoreNewAuditEntriesAsync([.. entries.Values], cancellationToken))
        {
            LogAudit(logger, entry.EventId, entry.Subject, entry.Item, entry.Source);
        }
    }

    [LoggerMessage(200, LogLevel.Information, "AUDIT: event {EventId} on {Subject}: new item {Item} from {Source}")]
    private static partial void LogAudit(ILogger logger, string eventId, string subject, string? item, string? source);
}
