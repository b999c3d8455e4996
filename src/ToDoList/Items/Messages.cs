namespace ToDoList.Items;

/// <summary><c>events.todo.newitem</c>: an item to add. Any client may publish it as bare JSON <c>{"item":"…"}</c>.</summary>
public sealed record NewItemEvent(string? Item, DateTimeOffset? DateAdded = null);

/// <summary><c>events.todo.itemsaved</c>: the row is committed. Carries the stored item and the event that made it.</summary>
public sealed record ItemSavedEvent(int Id, string Item, DateTimeOffset DateAdded, bool Done, string EventId)
{
    public static ItemSavedEvent From(TodoItem item) => new(item.Id, item.Item, item.DateAdded, item.Done, item.EventId);
}

/// <summary><c>commands.todo.complete</c>: mark an item done.</summary>
public sealed record CompleteItemCommand(int Id);

/// <summary><c>commands.todo.delete</c>: remove an item.</summary>
public sealed record DeleteItemCommand(int Id);

/// <summary><c>events.todo.itemcompleted</c> and <c>events.todo.itemdeleted</c>.</summary>
public sealed record ItemChangedEvent(int Id);
