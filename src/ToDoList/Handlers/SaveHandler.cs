using Microsoft.EntityFrameworkCore;
using ToDoList.Data;
using ToDoList.Items;
using ToDoList.Messaging;
using ToDoList.Messaging.Hosting;

namespace ToDoList.Handlers;

/// <summary>
/// Queue group <c>save-handler</c>: stores each new item once (the event id is unique in the table),
/// then announces <c>events.todo.itemsaved</c> and answers a waiting requester.
/// </summary>
public sealed partial class SaveHandler(ToDoDbContext db, IConfiguration configuration, TimeProvider time, ILogger<SaveHandler> logger)
    : IMessageHandler<NewItemEvent>
{
    public const string QueueGroup = "save-handler";

    public async ValueTask HandleAsync(MessageContext<NewItemEvent> context, CancellationToken cancellationToken)
    {
        if (NewItemRules.Check(context.Data.Item) is { } problem)
        {
            throw new PoisonMessageException(problem);
        }

        // A raw payload (e.g. from `nats pub`) has no id: it cannot be told apart from a copy, so it gets a fresh one.
        var eventId = context.EventId ?? Nuid.Next();
        if (ToDoDbContext.CheckEventId(eventId) is { } badId)
        {
            throw new PoisonMessageException(badId);
        }

        var saved = await db.Items.AsNoTracking().FirstOrDefaultAsync(i => i.EventId == eventId, cancellationToken)
            ?? await InsertAsync(eventId, context.Data, cancellationToken);

        var savedEvent = ItemSavedEvent.From(saved);
        await context.ReplyAsync(savedEvent, cancellationToken);
        if (configuration.GetValue($"Events:{TodoSubjects.ItemSaved}:Publish", true))
        {
            // Deterministic id: a redelivered new-item event announces the same saved event.
            await context.Bus.PublishAsync(TodoSubjects.ItemSaved, savedEvent, new PublishOptions { Id = eventId + ".saved" }, cancellationToken);
        }
    }

    private async Task<TodoItem> InsertAsync(string eventId, NewItemEvent data, CancellationToken cancellationToken)
    {
        var item = new TodoItem
        {
            Item = data.Item!.Trim(),
            DateAdded = Storable(data.DateAdded ?? time.GetUtcNow()),
            EventId = eventId,
        };
        db.Items.Add(item);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            LogSaved(logger, item.Id, eventId);
            return item;
        }
        catch (DbUpdateException e) when (ToDoDbContext.IsDuplicate(e))
        {
            // Another member stored the same event a moment ago.
            db.ChangeTracker.Clear();
            return await db.Items.AsNoTracking().FirstAsync(i => i.EventId == eventId, cancellationToken);
        }
    }

    /// <summary>In UTC and whole microseconds, what every provider stores exactly: the item answered now equals the item read later.</summary>
    private static DateTimeOffset Storable(DateTimeOffset date)
    {
        var ticks = date.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerMicrosecond), TimeSpan.Zero);
    }

    [LoggerMessage(100, LogLevel.Information, "Saved item {ItemId} from event {EventId}")]
    private static partial void LogSaved(ILogger logger, int itemId, string eventId);
}
