using System.Collections.Concurrent;
using System.Text.Json;
using ToDoList.Items;
using ToDoList.Messaging;

namespace ToDoList.Web;

/// <summary>What an open page hears: an item accepted (pending), saved, completed, deleted, or failed.</summary>
public abstract record ItemChange;

public sealed record ItemAccepted(PendingItem Item) : ItemChange;

public sealed record ItemSaved(ItemSavedEvent Item) : ItemChange;

public sealed record ItemCompleted(int Id) : ItemChange;

public sealed record ItemDeleted(int Id) : ItemChange;

public sealed record ItemFailed(PendingItem Item) : ItemChange;

/// <summary>An item published and not yet saved; <see cref="Error"/> is set when it became a dead letter.</summary>
public sealed record PendingItem(string EventId, string Item, DateTimeOffset AcceptedAt, string? Error = null);

/// <summary>
/// Push, not polling: this web instance listens to every to-do event on the queue (a plain
/// subscription, so every replica hears everything) and tells its open pages at once.
/// </summary>
public sealed partial class ItemFeed(TimeProvider time, ILogger<ItemFeed> logger)
{
    public const int MaxPending = 1000;

    public static readonly string[] Subjects = [TodoSubjects.AllEvents, Messaging.Subjects.DeadLetterOf(TodoSubjects.NewItem)];

    private readonly ConcurrentDictionary<string, PendingItem> _pending = new(StringComparer.Ordinal);

    public event Action<ItemChange>? Changed;

    /// <summary>Items accepted and not yet saved, oldest first.</summary>
    public IReadOnlyList<PendingItem> Pending => _pending.Values.OrderBy(p => p.AcceptedAt).ToList();

    internal ValueTask OnMessageAsync(MessageContext context, CancellationToken cancellationToken)
    {
        var message = context.Message;
        try
        {
            var change = message.Subject switch
            {
                TodoSubjects.NewItem => Accept(message),
                TodoSubjects.ItemSaved => Saved(JsonSerializer.Deserialize(message.Data.Span, TodoJson.Default.ItemSavedEvent)),
                TodoSubjects.ItemCompleted => JsonSerializer.Deserialize(message.Data.Span, TodoJson.Default.ItemChangedEvent) is { } c ? new ItemCompleted(c.Id) : null,
                TodoSubjects.ItemDeleted => JsonSerializer.Deserialize(message.Data.Span, TodoJson.Default.ItemChangedEvent) is { } d ? new ItemDeleted(d.Id) : null,
                _ when message.Subject == Messaging.Subjects.DeadLetterOf(TodoSubjects.NewItem) => Failed(message),
                _ => null,
            };
            if (change is not null)
            {
                Changed?.Invoke(change);
            }
        }
        catch (JsonException e)
        {
            // Not ours to judge: the handlers dead-letter bad messages; the page just does not show them.
            LogUnreadable(logger, message.Subject, e.Message);
        }

        return ValueTask.CompletedTask;
    }

    private ItemChange? Accept(Message message)
    {
        var data = JsonSerializer.Deserialize(message.Data.Span, TodoJson.Default.NewItemEvent);
        if (message.Id is not { } eventId || NewItemRules.Check(data?.Item) is not null)
        {
            return null;
        }

        var pending = new PendingItem(eventId, data!.Item!.Trim(), time.GetUtcNow());
        if (_pending.Count >= MaxPending)
        {
            return null;
        }

        return _pending.TryAdd(eventId, pending) ? new ItemAccepted(pending) : null;
    }

    private ItemSaved? Saved(ItemSavedEvent? saved)
    {
        if (saved is null)
        {
            return null;
        }

        _pending.TryRemove(saved.EventId, out _);
        return new ItemSaved(saved);
    }

    private ItemFailed? Failed(Message message)
    {
        if (message.Id is not { } eventId || !_pending.TryGetValue(eventId, out var pending))
        {
            return null;
        }

        var failed = pending with { Error = message.Headers[MessagingHeaders.DeadLetterError] ?? "failed" };
        _pending[eventId] = failed;
        return new ItemFailed(failed);
    }

    [LoggerMessage(300, LogLevel.Debug, "Item feed skipped an unreadable message on {Subject}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string subject, string reason);
}
