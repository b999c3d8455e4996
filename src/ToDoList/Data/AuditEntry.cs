namespace ToDoList.Data;

/// <summary>One audited event; the unique event id keeps a redelivery from making a second entry.</summary>
public sealed class AuditEntry
{
    public int Id { get; set; }

    public required string EventId { get; set; }

    public required string Subject { get; set; }

    public string? Item { get; set; }

    public string? Source { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }
}
