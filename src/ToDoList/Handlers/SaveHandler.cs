using Microsoft.EntityFrameworkCore;
using ToDoList.Data;
using ToDoList.Items;
using ToDoList.Messaging;
using ToDoList.Messaging.Hosting;

namespace ToDoList.Handlers;

/// <summary>
/// Queue group <c>save-handler</c>: stores each new item once (the event id is unique in the table), then announces
/// <c>events.todo.itemsaved</c> and answers a waiting requester. It takes what has arrived together, up to
/// <see cref="SubscribeOptions.MaxBatch"/> (waiting a moment for more while items keep coming): a backlog is stored
/// with one statement per batch (insert what is new, skip what is stored), and acknowledged after the commit. A batch
/// that fails (a poison item) is handed over again one item at a time.
/// </summary>
public sealed partial class SaveHandler(ToDoDbContext db, IConfiguration configuration, TimeProvider time, ILogger<SaveHandler> logger)
    : IBatchMessageHandler<NewItemEvent>
{
    public const string QueueGroup = "save-handler";

    public async ValueTask HandleAsync(IReadOnlyList<MessageContext<NewItemEvent>> batch, CancellationToken cancellationToken)
    {
        var events = new List<(MessageContext<NewItemEvent> Context, string EventId)>(batch.Count);
        foreach (var context in batch)
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

            events.Add((context, eventId));
        }

        // One row per event id, stored once: the database skips an id it holds (a redelivery, the same event twice in the
        // batch, another member's copy); those are answered with the row stored before.
        var saved = new Dictionary<string, TodoItem>(events.Count);
        foreach (var (context, eventId) in events)
        {
            saved.TryAdd(eventId, new TodoItem { Item = context.Data.Item!.Trim(), DateAdded = Storable(context.Data.DateAdded ?? time.GetUtcNow()), EventId = eventId });
        }

        var stored = await db.StoreNewItemsAsync([.. saved.Values], cancellationToken);
        foreach (var item in stored)
        {
            LogSaved(logger, item.Id, item.EventId);
        }

        if (stored.Count < saved.Count)
        {
            var earlierIds = saved.Values.Where(i => i.Id == 0).Select(i => i.EventId).ToList();
            foreach (var earlier in await db.Items.AsNoTracking().Where(i => earlierIds.Contains(i.EventId)).ToListAsync(cancellationToken))
            {
                saved[earlier.EventId] = earlier;
            }
        }

        var announce = configuration.GetValue($"Events:{TodoSubjects.ItemSaved}:Publish", true);
        await Task.WhenAll(events.Select(e => AnnounceAsync(e.Context, e.EventId, ItemSavedEvent.From(saved[e.EventId]), announce, cancellationToken)));
    }

    private static async Task AnnounceAsync(MessageContext context, string eventId, ItemSavedEvent savedEvent, bool announce, CancellationToken cancellationToken)
    {
        await context.ReplyAsync(savedEvent, cancellationToken);
        if (announce)
        {
            // Deterministic id: a redelivered new-item event announces the same saved event.
            await context.Bus.PublishAsync(TodoSubjects.ItemSaved, savedEvent, new PublishOptions { Id = eventId + ".saved" }, cancellationToken);
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
