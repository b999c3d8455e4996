namespace ToDoList.Items;

/// <summary>A stored to-do item.</summary>
public sealed class TodoItem
{
    public int Id { get; set; }

    public required string Item { get; set; }

    public DateTimeOffset DateAdded { get; set; }

    public bool Done { get; set; }

    /// <summary>The id of the new-item event that created the row: unique, so a redelivered event never makes a second row.</summary>
    public required string EventId { get; set; }
}
