using ToDoList.Items;

namespace ToDoList.Api;

/// <summary>An item as <c>GET /todo</c> returns it.</summary>
public sealed record TodoItemResponse(int Id, string Item, DateTimeOffset DateAdded, bool Done)
{
    public static TodoItemResponse From(TodoItem item) => new(item.Id, item.Item, item.DateAdded, item.Done);

    public static TodoItemResponse From(ItemSavedEvent item) => new(item.Id, item.Item, item.DateAdded, item.Done);
}

/// <summary>The answer of <c>202 Accepted</c>: the event is with the queue; <see cref="EventId"/> follows it.</summary>
public sealed record AcceptedResponse(string EventId, string Status = "accepted");
